//! Emails from template files, one per event type and language
//! (`hub-api/templates/email/{en,hu}/<event_type>.txt`), embedded in the binary and rendered with
//! minijinja. A template's first line is `Subject: …`, then a blank line, then the body; a name
//! the context lacks is an error, never a silent blank. The HTML part is made from the rendered
//! text by one shared layout (`layout.html`, values HTML-escaped): `Label:  value` lines become a
//! table, the `What to do:` paragraph stands out, and the operator's email links to the
//! customer's page on the hub. A new `.txt` template therefore gets its HTML part for free.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use rust_embed::Embed;
use serde::Serialize;

#[derive(Embed)]
#[folder = "templates/email"]
struct Files;

/// The language of a channel's emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Hu,
}

impl Lang {
    fn dir(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Hu => "hu",
        }
    }
}

/// A rendered email: subject, plain-text body, and the same as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

const LAYOUT: &str = "layout.html";

/// The environment: strict about unknown names, and with the HTML layout (escaped, by its name).
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let file = Files::get(LAYOUT).expect("the HTML layout is embedded");
        let layout = String::from_utf8(file.data.into_owned()).expect("the HTML layout is UTF-8");
        env.add_template(LAYOUT, Box::leak(layout.into_boxed_str())).expect("the HTML layout compiles");
        env
    })
}

/// Renders template `name` (an event type, or `legacy`) in `lang` with `vars`.
pub fn render(lang: Lang, name: &str, vars: &BTreeMap<&str, String>) -> anyhow::Result<Rendered> {
    let path = format!("{}/{name}.txt", lang.dir());
    let file = Files::get(&path).ok_or_else(|| anyhow::anyhow!("no email template {path}"))?;
    let source = std::str::from_utf8(&file.data).map_err(|_| anyhow::anyhow!("template {path} is not UTF-8"))?;
    // Split first, fill in after: a value with a newline cannot move text out of the subject.
    let (first, body) = source.split_once('\n').unwrap_or((source, ""));
    let subject_template = first
        .strip_prefix("Subject:")
        .ok_or_else(|| anyhow::anyhow!("template {path} must start with `Subject:`"))?
        .trim();
    let one_line: BTreeMap<&str, String> = vars.iter().map(|(k, v)| (*k, v.replace(['\r', '\n'], " "))).collect();
    let env = environment();
    let subject = env.render_str(subject_template, &one_line).map_err(|e| anyhow::anyhow!("template {path}: {e:#}"))?;
    let text = env.render_str(body, vars).map_err(|e| anyhow::anyhow!("template {path}: {e:#}"))?;
    let text = text.trim_start_matches(['\r', '\n']).to_string();
    let html = html(lang, &subject, &text, vars).map_err(|e| anyhow::anyhow!("layout for {path}: {e:#}"))?;
    Ok(Rendered { subject, text, html })
}

/// A paragraph of the text as the HTML layout shows it.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Block {
    Paragraph { lines: Vec<String> },
    Facts { rows: Vec<(String, String)> },
    Action { label: String, text: String },
    Preformatted { label: String, text: String },
    Footer { lines: Vec<String> },
}

/// The labels that start the paragraph saying what to do.
const ACTION_LABELS: [&str; 2] = ["What to do:", "Teendő:"];

/// The paragraphs of a rendered text, each recognised by its shape.
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    for chunk in text.replace("\r\n", "\n").split("\n\n") {
        let lines: Vec<&str> = chunk.lines().filter(|l| !l.trim().is_empty()).collect();
        let Some(first) = lines.first() else { continue };
        let rest = || lines[1..].join("\n");
        if let Some(label) = ACTION_LABELS.iter().find(|l| first.starts_with(*l)) {
            let text = chunk.trim()[label.len()..].split_whitespace().collect::<Vec<_>>().join(" ");
            out.push(Block::Action { label: label.to_string(), text });
        } else if first.trim() == "--" {
            out.push(Block::Footer { lines: lines[1..].iter().map(|l| l.to_string()).collect() });
        } else if first.ends_with(':') && lines.get(1).is_some_and(|l| l.starts_with(['{', '['])) {
            out.push(Block::Preformatted { label: first.trim_end_matches(':').to_string(), text: rest() });
        } else if let Some(rows) = lines.iter().map(|l| fact(l)).collect::<Option<Vec<_>>>() {
            out.push(Block::Facts { rows });
        } else {
            out.push(Block::Paragraph { lines: lines.iter().map(|l| l.to_string()).collect() });
        }
    }
    out
}

/// `Label:  value` with a short label, as the templates write their facts.
fn fact(line: &str) -> Option<(String, String)> {
    let (label, value) = line.split_once(':')?;
    let short = !label.is_empty() && label.chars().count() <= 24 && !label.contains(['{', '(', '.', '!']);
    (short && value.starts_with(' ')).then(|| (label.trim().to_string(), value.trim().to_string()))
}

#[derive(Serialize)]
struct Page<'a> {
    lang: &'static str,
    subject: &'a str,
    heading: &'a str,
    accent: &'static str,
    blocks: Vec<Block>,
    link: String,
    link_label: String,
}

fn html(lang: Lang, subject: &str, text: &str, vars: &BTreeMap<&str, String>) -> Result<String, minijinja::Error> {
    let var = |name: &str| vars.get(name).cloned().unwrap_or_default();
    let heading = subject.split_once("] ").map_or(subject, |(_, rest)| rest);
    let accent = match var("severity").as_str() {
        "error" => "#dc2626",
        "warning" => "#d97706",
        _ => "#2563eb",
    };
    // The customer's page is the operator's; the customer's own emails do not link to it.
    let (link, link_label) = match lang {
        Lang::En => (var("customer_url"), format!("Open {} on the hub", var("customer_name"))),
        Lang::Hu => (String::new(), String::new()),
    };
    let page = Page { lang: lang.dir(), subject, heading, accent, blocks: blocks(text), link, link_label };
    environment().get_template(LAYOUT)?.render(minijinja::value::Serde(&page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_shared::EventType;

    #[test]
    fn a_newline_in_a_value_stays_out_of_the_subject_split() {
        let mut v = vars();
        v.insert("subject", "Disk\nfull".into());
        v.insert("message", "line one\nline two".into());
        let r = render(Lang::En, "legacy", &v).unwrap();
        assert!(r.subject.contains("Disk full"), "{}", r.subject);
        assert!(!r.text.starts_with("full"), "{}", r.text);
    }

    fn vars() -> BTreeMap<&'static str, String> {
        [
            ("customer_name", "Kovács János"),
            ("customer_id", "kovacs"),
            ("event_type", "backup_failed"),
            ("severity", "error"),
            ("message", "restic exited 1"),
            ("occurred_at", "2026-11-27 03:15"),
            ("details", "{}"),
            ("hub_url", "https://hub.felhom.eu"),
            ("customer_url", "https://hub.felhom.eu/customers/kovacs"),
            ("subject", "Legacy"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
    }

    #[test]
    fn every_type_renders_in_both_languages_and_both_formats() {
        for t in EventType::ALL {
            for lang in [Lang::En, Lang::Hu] {
                let r = render(lang, t.as_str(), &vars()).unwrap_or_else(|e| panic!("{e}"));
                assert!(!r.subject.is_empty() && !r.text.is_empty(), "{t} {lang:?}");
                for part in [&r.subject, &r.text, &r.html] {
                    assert!(!part.contains("{{") && !part.contains("{%"), "{t} {lang:?}: {part}");
                }
                assert!(r.html.contains("restic exited 1"), "{t} {lang:?}");
                // A fleet outage is about no one customer; every other email names its customer.
                if *t != EventType::FleetOutage {
                    assert!(r.html.contains("Kovács János"), "{t} {lang:?}: no customer name");
                }
                let action = if lang == Lang::En { "What to do:" } else { "Teendő:" };
                assert!(r.html.contains(&format!("<strong>{action}</strong>")), "{t} {lang:?}: no action");
            }
        }
        let legacy = render(Lang::En, "legacy", &vars()).unwrap();
        assert!(legacy.html.contains("restic exited 1"));
        let mut v = vars();
        v.insert("opened_at", "2026-11-26 03:15 CET".into());
        let reminder = render(Lang::En, "reminder", &v).unwrap();
        assert!(reminder.subject.contains("REMINDER: backup_failed still open"), "{}", reminder.subject);
        assert!(reminder.text.contains("2026-11-26 03:15 CET"));
    }

    #[test]
    fn hungarian_text_keeps_its_accents() {
        let r = render(Lang::Hu, "backup_failed", &vars()).unwrap();
        assert!(r.subject.contains("mentés"), "{}", r.subject);
        assert!(r.text.contains("Kovács János"));
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        let env = environment();
        assert!(env.render_str("{{ nope }}", vars()).is_err());
        assert!(env.render_str("{{ open", vars()).is_err());
        assert_eq!(env.render_str("a {{customer_id}} b", vars()).unwrap(), "a kovacs b");
    }

    #[test]
    fn the_html_part_escapes_every_value_and_links_the_operator_to_the_customer() {
        let mut v = vars();
        v.insert("customer_name", "<script>alert(1)</script> & Co".into());
        v.insert("message", "disk \"full\" <b>now</b>".into());
        let r = render(Lang::En, "backup_failed", &v).unwrap();
        assert!(!r.html.contains("<script>") && !r.html.contains("<b>now"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; Co"), "{}", r.html);
        assert!(r.html.contains(r#"href="https:&#x2f;&#x2f;hub.felhom.eu&#x2f;customers&#x2f;kovacs""#), "{}", r.html);
        assert!(r.text.contains("<script>alert(1)</script>"), "the text part is not HTML");
        let hu = render(Lang::Hu, "backup_failed", &v).unwrap();
        assert!(!hu.html.contains("href="), "the customer cannot open the operator's page");
        assert!(hu.html.contains("Teendő:"), "{}", hu.html);
    }

    #[test]
    fn the_text_is_read_into_facts_an_action_details_and_a_footer() {
        let text = "The backup did not complete.\n\nCustomer:  Kovács (kovacs)\nWhen:      03:15\n\n\
                    What to do: Check the\nrepository.\n\nDetails:\n{\n  \"a\": 1\n}\n\n--\nfelhom hub x";
        assert_eq!(
            blocks(text),
            vec![
                Block::Paragraph { lines: vec!["The backup did not complete.".into()] },
                Block::Facts {
                    rows: vec![("Customer".into(), "Kovács (kovacs)".into()), ("When".into(), "03:15".into())]
                },
                Block::Action { label: "What to do:".into(), text: "Check the repository.".into() },
                Block::Preformatted { label: "Details".into(), text: "{\n  \"a\": 1\n}".into() },
                Block::Footer { lines: vec!["felhom hub x".into()] },
            ]
        );
        let closing = blocks("Üdvözlettel:\na Felhom csapata");
        assert_eq!(closing, vec![Block::Paragraph { lines: vec!["Üdvözlettel:".into(), "a Felhom csapata".into()] }]);
    }
}
