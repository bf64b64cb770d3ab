//! The generated `controller.yaml`: the template (`controller.yaml.example`, bundled, refreshed
//! by the template job) deep-merged with a customer's overrides. Maps merge key by key; scalars
//! and lists from the override win; the template's key order is kept and keys only the override
//! has follow in the override's order; the same input always gives the same bytes.

use hub_shared::config::ConfigFields;
use serde_yaml::{Mapping, Value};

/// The template bundled into the binary, used until a fetched one is stored.
pub const BUNDLED_TEMPLATE: &str = include_str!("../templates/controller.yaml.example");
/// The template's name in the `controller_templates` table.
pub const TEMPLATE_NAME: &str = "controller.yaml.example";
/// A fetched template larger than this is refused.
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// Merges `over` into `base`.
pub fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => deep_merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, over) => *slot = over,
    }
}

/// Checks that a template is YAML whose top level is a map.
pub fn check_template(text: &str) -> Result<(), String> {
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(format!("the template is larger than {MAX_TEMPLATE_BYTES} bytes"));
    }
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(_)) => Ok(()),
        Ok(_) => Err("the template's top level is not a map".into()),
        Err(e) => Err(format!("the template is not YAML: {e}")),
    }
}

/// What the hub writes into a customer's config besides the template.
pub struct CustomerOverrides<'a> {
    pub customer_id: &'a str,
    pub fields: &'a ConfigFields,
    /// `server.public_url`; empty keeps the template's.
    pub hub_url: &'a str,
    pub api_key: &'a str,
    pub session_secret: &'a str,
}

/// A map built from (path, value) pairs; empty strings and `None` are left out, so the
/// template's value stays.
#[derive(Default)]
struct Builder(Mapping);

impl Builder {
    fn set(&mut self, path: &[&str], value: impl Into<Value>) {
        let value = value.into();
        if matches!(&value, Value::String(s) if s.is_empty()) || value.is_null() {
            return;
        }
        let mut map = &mut self.0;
        for key in &path[..path.len() - 1] {
            let slot = map.entry(Value::from(*key)).or_insert_with(|| Value::Mapping(Mapping::new()));
            map = slot.as_mapping_mut().expect("builder paths only create maps");
        }
        map.insert(Value::from(path[path.len() - 1]), value);
    }
}

fn opt<T: Into<Value>>(value: Option<T>) -> Value {
    value.map_or(Value::Null, Into::into)
}

/// The overrides of one customer as a YAML map shaped like the template.
pub fn overrides(o: &CustomerOverrides) -> Value {
    let f = o.fields;
    let mut b = Builder::default();
    b.set(&["customer", "id"], o.customer_id);
    b.set(&["customer", "name"], f.display_name.trim());
    b.set(&["customer", "domain"], f.domain.as_str());
    b.set(&["customer", "email"], f.contact_email.as_str());
    b.set(&["customer", "language"], f.identity.language.as_str());
    b.set(&["node", "hostname"], f.identity.hostname.as_str());
    b.set(&["node", "timezone"], f.identity.timezone.as_str());
    b.set(&["server", "session_secret"], o.session_secret);
    b.set(&["hub", "url"], o.hub_url.trim_end_matches('/'));
    b.set(&["hub", "api_key"], o.api_key);
    let t = &f.infrastructure;
    b.set(&["infrastructure", "cloudflare", "tunnel_token"], t.cloudflare_tunnel_token.as_str());
    b.set(&["infrastructure", "tailscale", "auth_key"], t.tailscale_auth_key.as_str());
    b.set(&["infrastructure", "dns", "api_token"], t.dns_api_token.as_str());
    b.set(&["infrastructure", "smtp", "password"], t.smtp_password.as_str());
    let m = &f.monitoring;
    b.set(&["monitoring", "enabled"], opt(m.enabled));
    b.set(&["monitoring", "report_interval"], opt(m.report_interval.clone()));
    b.set(&["monitoring", "disk_warn_percent"], opt(m.disk_warn_percent.map(u64::from)));
    b.set(&["monitoring", "disk_critical_percent"], opt(m.disk_critical_percent.map(u64::from)));
    b.set(&["monitoring", "backup_deadline"], opt(m.backup_deadline.clone()));
    let l = &f.legacy_monitoring;
    b.set(&["monitoring", "healthchecks", "heartbeat_uuid"], l.heartbeat_uuid.as_str());
    b.set(&["monitoring", "healthchecks", "backup_uuid"], l.backup_uuid.as_str());
    b.set(&["monitoring", "healthchecks", "dbdump_uuid"], l.dbdump_uuid.as_str());
    Value::Mapping(b.0)
}

/// The template merged with `overrides`, as YAML text.
pub fn render(template: &str, overrides: Value) -> anyhow::Result<String> {
    let mut doc: Value = serde_yaml::from_str(template)?;
    if !doc.is_mapping() {
        anyhow::bail!("the controller.yaml template's top level is not a map");
    }
    deep_merge(&mut doc, overrides);
    Ok(serde_yaml::to_string(&doc)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    fn merged(base: &str, over: &str) -> String {
        let mut b = yaml(base);
        deep_merge(&mut b, yaml(over));
        serde_yaml::to_string(&b).unwrap()
    }

    #[test]
    fn nested_maps_merge_key_by_key() {
        let out = merged("a:\n  b: 1\n  c:\n    d: 2\n    e: 3\n", "a:\n  c:\n    e: 30\n");
        assert_eq!(out, "a:\n  b: 1\n  c:\n    d: 2\n    e: 30\n");
    }

    #[test]
    fn lists_and_scalars_from_the_override_win() {
        let out = merged("l: [1, 2, 3]\ns: x\nm: {k: v}\n", "l: [9]\ns: 7\nm: plain\n");
        assert_eq!(out, "l:\n- 9\ns: 7\nm: plain\n");
    }

    #[test]
    fn template_order_is_kept_and_new_keys_follow() {
        let out = merged("z: 1\na: 2\nm: 3\n", "new2: x\na: 20\nnew1: y\n");
        assert_eq!(out, "z: 1\na: 20\nm: 3\nnew2: x\nnew1: y\n");
    }

    #[test]
    fn keys_missing_from_the_template_are_added_with_their_subtree() {
        let out = merged("a: 1\n", "b:\n  c:\n    d: [x]\n");
        assert_eq!(out, "a: 1\nb:\n  c:\n    d:\n    - x\n");
    }

    fn customer() -> ConfigFields {
        let mut f = ConfigFields {
            display_name: "Kovács család".into(),
            domain: "kovacs.felhom.eu".into(),
            ..Default::default()
        };
        f.infrastructure.cloudflare_tunnel_token = "cf-token".into();
        f.monitoring.disk_warn_percent = Some(70);
        f.legacy_monitoring.backup_uuid = "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e".into();
        f
    }

    fn render_customer(fields: &ConfigFields) -> String {
        let o = CustomerOverrides {
            customer_id: "kovacs",
            fields,
            hub_url: "https://hub.example/",
            api_key: "fh_key",
            session_secret: "s3cret",
        };
        render(BUNDLED_TEMPLATE, overrides(&o)).unwrap()
    }

    #[test]
    fn a_customer_config_fills_the_template() {
        let fields = customer();
        let out = render_customer(&fields);
        let doc = yaml(&out);
        assert_eq!(doc["customer"]["id"], "kovacs");
        assert_eq!(doc["customer"]["name"], "Kovács család");
        assert_eq!(doc["hub"]["url"], "https://hub.example");
        assert_eq!(doc["hub"]["api_key"], "fh_key");
        assert_eq!(doc["server"]["session_secret"], "s3cret");
        assert_eq!(doc["infrastructure"]["cloudflare"]["tunnel_token"], "cf-token");
        assert_eq!(doc["monitoring"]["disk_warn_percent"], 70);
        assert_eq!(doc["monitoring"]["disk_critical_percent"], 90, "the template's value stays");
        assert_eq!(doc["monitoring"]["healthchecks"]["backup_uuid"], "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e");
        assert_eq!(doc["infrastructure"]["smtp"]["host"], "smtp.felhom.eu", "unset fields keep the template");
        let top: Vec<&str> = doc.as_mapping().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(
            top,
            [
                "customer",
                "node",
                "server",
                "hub",
                "infrastructure",
                "monitoring",
                "backup",
                "updates",
                "apps",
                "logging"
            ]
        );
    }

    #[test]
    fn the_output_is_deterministic() {
        let fields = customer();
        let first = render_customer(&fields);
        for _ in 0..20 {
            assert_eq!(render_customer(&fields), first);
        }
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_template(BUNDLED_TEMPLATE).is_ok());
        assert!(check_template("- a\n- b\n").is_err());
        assert!(check_template("a: [unclosed\n").is_err());
    }
}
