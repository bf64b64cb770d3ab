//! The diff of two configs (the hub's generated `controller.yaml` against a controller's live
//! one, or a stored config before and after a pull), compared by value per key path: the order
//! of keys does not matter, lists are compared as whole values, the volatile keys
//! ([`VOLATILE_KEYS`]) are left out, and secrets ([`SECRET_KEYS`]) are masked in both columns
//! unless the operator asks to see them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Keys whose values change on their own (timestamps, generated-at markers): never a difference.
/// A key path is volatile when any of its keys is one of these.
pub const VOLATILE_KEYS: &[&str] = &[
    "generated_at",
    "generated",
    "updated_at",
    "created_at",
    "applied_at",
    "last_modified",
    "last_applied",
    "timestamp",
    "config_version",
];

/// Keys whose values are secrets. A key path is secret when any of its keys is one of these or
/// ends in `_` and one of these (`smtp_password`, `cloudflare_tunnel_token`,
/// `restic_passwords`), so a secret's whole subtree is masked.
pub const SECRET_KEYS: &[&str] = &[
    "api_key",
    "auth_key",
    "private_key",
    "encryption_key",
    "secret",
    "token",
    "password",
    "passwords",
    "passphrase",
    "credentials",
];

/// What a secret's value is shown as.
pub const MASK: &str = "<hidden>";

/// One key path whose value differs. `hub` is the hub's side (or the stored config before a
/// pull), `controller` the controller's (or the stored config after); a side without the key
/// is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffChange {
    /// Dotted key path, such as `monitoring.disk_warn_percent`.
    pub path: String,
    pub hub: Option<Value>,
    pub controller: Option<Value>,
}

/// The difference going from the hub's side to the controller's: `added` are the key paths only
/// the controller has, `removed` those only the hub has, `changed` those both have with
/// different values. Each list is sorted by path.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigDiff {
    pub added: Vec<DiffChange>,
    pub removed: Vec<DiffChange>,
    pub changed: Vec<DiffChange>,
    /// Whether secrets are shown as they are.
    #[serde(default)]
    pub revealed: bool,
}

impl ConfigDiff {
    /// The number of differing key paths.
    pub fn len(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The query of `GET /api/v1/configs/{customer_id}/diff`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DiffQuery {
    /// Show secrets as they are (written to the audit log).
    #[serde(default)]
    pub reveal: bool,
}

fn key_matches(key: &str, names: &[&str]) -> bool {
    names.iter().any(|name| key == *name || key.strip_suffix(name).is_some_and(|head| head.ends_with('_')))
}

/// Whether any key of `path` (dotted) names a secret.
pub fn is_secret(path: &str) -> bool {
    path.split('.').any(|key| key_matches(&key.to_ascii_lowercase(), SECRET_KEYS))
}

fn is_volatile(key: &str) -> bool {
    VOLATILE_KEYS.contains(&key.to_ascii_lowercase().as_str())
}

/// The leaves of `value` by dotted path: maps are walked, everything else (lists included) is a
/// leaf. An empty map is a leaf too, so `{}` against a missing key is still seen.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                if is_volatile(key) {
                    continue;
                }
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&path, inner, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

fn shown(path: &str, value: Option<&Value>, reveal: bool) -> Option<Value> {
    let value = value?;
    let empty = matches!(value, Value::Null) || matches!(value, Value::String(s) if s.is_empty());
    if !reveal && !empty && is_secret(path) {
        return Some(Value::String(MASK.into()));
    }
    Some(value.clone())
}

/// The difference between the hub's side and the controller's, secrets masked unless `reveal`.
/// Two top-level values that are not maps are compared as one leaf at the path `""`.
pub fn diff(hub: &Value, controller: &Value, reveal: bool) -> ConfigDiff {
    let (mut ours, mut theirs) = (BTreeMap::new(), BTreeMap::new());
    flatten("", hub, &mut ours);
    flatten("", controller, &mut theirs);
    let mut out = ConfigDiff { revealed: reveal, ..ConfigDiff::default() };
    for (path, hub_value) in &ours {
        let change = |controller: Option<&Value>| DiffChange {
            path: path.clone(),
            hub: shown(path, Some(hub_value), reveal),
            controller: shown(path, controller, reveal),
        };
        match theirs.get(path) {
            None => out.removed.push(change(None)),
            Some(theirs) if theirs != hub_value => out.changed.push(change(Some(theirs))),
            Some(_) => {}
        }
    }
    for (path, value) in &theirs {
        if !ours.contains_key(path) {
            out.added.push(DiffChange { path: path.clone(), hub: None, controller: shown(path, Some(value), reveal) });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(list: &[DiffChange]) -> Vec<&str> {
        list.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn key_order_does_not_matter_and_equal_configs_have_no_diff() {
        let a = json!({"customer": {"id": "kovacs", "name": "K"}, "node": {"hostname": "nas"}});
        let b = json!({"node": {"hostname": "nas"}, "customer": {"name": "K", "id": "kovacs"}});
        assert!(diff(&a, &b, false).is_empty());
    }

    #[test]
    fn added_removed_and_changed_by_path() {
        let hub = json!({"monitoring": {"disk_warn_percent": 80, "enabled": true}, "only_hub": {"x": 1}});
        let live = json!({"monitoring": {"disk_warn_percent": 70, "enabled": true, "extra": "y"}});
        let d = diff(&hub, &live, false);
        assert_eq!(paths(&d.added), ["monitoring.extra"]);
        assert_eq!(d.added[0].controller, Some(json!("y")));
        assert_eq!(d.added[0].hub, None);
        assert_eq!(paths(&d.removed), ["only_hub.x"]);
        assert_eq!(d.removed[0].hub, Some(json!(1)));
        assert_eq!(
            d.changed,
            [DiffChange {
                path: "monitoring.disk_warn_percent".into(),
                hub: Some(json!(80)),
                controller: Some(json!(70))
            }]
        );
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn lists_are_compared_as_values() {
        let hub = json!({"apps": {"enabled": ["nextcloud", "immich"]}});
        assert!(diff(&hub, &json!({"apps": {"enabled": ["nextcloud", "immich"]}}), false).is_empty());
        let d = diff(&hub, &json!({"apps": {"enabled": ["immich", "nextcloud"]}}), false);
        assert_eq!(paths(&d.changed), ["apps.enabled"]);
        assert_eq!(d.changed[0].controller, Some(json!(["immich", "nextcloud"])));
    }

    #[test]
    fn types_count_and_empty_maps_are_leaves() {
        let d = diff(&json!({"port": 587, "apps": {}}), &json!({"port": "587"}), false);
        assert_eq!(paths(&d.changed), ["port"]);
        assert_eq!(paths(&d.removed), ["apps"]);
    }

    #[test]
    fn volatile_keys_are_ignored_at_any_depth() {
        let hub = json!({"generated_at": "2026-01-01", "meta": {"updated_at": 1, "name": "a"}});
        let live = json!({"generated_at": "2026-02-02", "meta": {"updated_at": 2, "name": "a"}, "timestamp": 5});
        assert!(diff(&hub, &live, false).is_empty());
    }

    #[test]
    fn secrets_are_masked_in_both_columns_unless_revealed() {
        let hub = json!({
            "hub": {"api_key": "fh_one", "url": "https://a"},
            "infrastructure": {"smtp": {"password": "p1"}, "cloudflare": {"tunnel_token": "t1"}},
            "backup": {"restic_passwords": {"daily": "r1"}},
        });
        let live = json!({
            "hub": {"api_key": "fh_two", "url": "https://b"},
            "infrastructure": {"smtp": {"password": "p2"}, "cloudflare": {"tunnel_token": ""}},
            "backup": {"restic_passwords": {"daily": "r2"}},
        });
        let d = diff(&hub, &live, false);
        assert!(!d.revealed);
        let text = serde_json::to_string(&d).unwrap();
        for secret in ["fh_one", "fh_two", "p1", "p2", "t1", "r1", "r2"] {
            assert!(!text.contains(&format!("\"{secret}\"")), "{secret} shown in {text}");
        }
        let token = d.changed.iter().find(|c| c.path == "infrastructure.cloudflare.tunnel_token").unwrap();
        assert_eq!((token.hub.clone(), token.controller.clone()), (Some(json!(MASK)), Some(json!(""))));
        let url = d.changed.iter().find(|c| c.path == "hub.url").unwrap();
        assert_eq!(url.controller, Some(json!("https://b")), "other values are shown");

        let d = diff(&hub, &live, true);
        assert!(d.revealed);
        let key = d.changed.iter().find(|c| c.path == "hub.api_key").unwrap();
        assert_eq!((key.hub.clone(), key.controller.clone()), (Some(json!("fh_one")), Some(json!("fh_two"))));
    }

    #[test]
    fn secret_names_match_whole_keys_or_suffixes() {
        for path in [
            "hub.api_key",
            "server.session_secret",
            "infrastructure.tailscale.auth_key",
            "infrastructure.dns_api_token",
            "infrastructure.smtp_password",
            "backup.restic_passwords.daily",
            "x.SMTP_PASSWORD",
        ] {
            assert!(is_secret(path), "{path}");
        }
        for path in ["hub.url", "monitoring.healthchecks.heartbeat_uuid", "customer.tokenizer", "passwordless"] {
            assert!(!is_secret(path), "{path}");
        }
    }
}
