//! Email text from template files, one per event type and language
//! (`hub-api/templates/email/{en,hu}/<event_type>.txt`), embedded in the binary. A template's
//! first line is `Subject: …`, then a blank line, then the body; `{{ name }}` is replaced by the
//! value of `name`, and a name the context lacks is an error, never a silent blank.

use std::collections::BTreeMap;

use rust_embed::Embed;

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

/// A rendered email: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
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
    let subject = substitute(subject_template, &one_line).map_err(|e| anyhow::anyhow!("template {path}: {e}"))?;
    let text = substitute(body, vars).map_err(|e| anyhow::anyhow!("template {path}: {e}"))?;
    Ok(Rendered { subject, text: text.trim_start_matches(['\r', '\n']).to_string() })
}

fn substitute(source: &str, vars: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(source.len() + 256);
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("an unclosed {{")?;
        let name = after[..end].trim();
        let value = vars.get(name).ok_or_else(|| format!("unknown placeholder {name:?}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
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
            ("subject", "Legacy"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
    }

    #[test]
    fn every_type_has_a_template_in_both_languages() {
        for t in EventType::ALL {
            for lang in [Lang::En, Lang::Hu] {
                let r = render(lang, t.as_str(), &vars()).unwrap_or_else(|e| panic!("{e}"));
                assert!(!r.subject.is_empty() && !r.text.is_empty(), "{t} {lang:?}");
                assert!(!r.text.contains("{{"), "{t} {lang:?}");
            }
        }
        assert!(render(Lang::En, "legacy", &vars()).is_ok());
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
        assert!(substitute("{{ nope }}", &vars()).is_err());
        assert!(substitute("{{ open", &vars()).is_err());
        assert_eq!(substitute("a {{customer_id}} b", &vars()).unwrap(), "a kovacs b");
    }
}
