//! A customer's credentials (API key and retrieval password) as the operator sees them once, on
//! creation, rotation or an explicit reveal, and the setup commands that use them.

use serde::{Deserialize, Serialize};

/// A customer's secrets, shown once on creation and rotation, and on an explicit reveal.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    /// The controller's Bearer key (`fh_…`).
    pub api_key: Option<String>,
    /// Four Hungarian words joined with `-`, for `X-Retrieval-Password`.
    pub retrieval_password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("retrieval_password", &self.retrieval_password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A command the operator hands to the customer or runs on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupCommand {
    pub label: String,
    pub command: String,
}

/// The setup commands for a customer. With `None` for a secret the command shows a placeholder,
/// so the web app can show them before the operator reveals anything.
pub fn setup_commands(
    hub_url: &str,
    customer_id: &str,
    api_key: Option<&str>,
    retrieval_password: Option<&str>,
) -> Vec<SetupCommand> {
    let hub = hub_url.trim_end_matches('/');
    let password = retrieval_password.unwrap_or("<retrieval password>");
    let key = api_key.unwrap_or("<api key>");
    vec![
        SetupCommand {
            label: "Download the controller config".into(),
            command: format!(
                "curl -fsS -H 'X-Retrieval-Password: {password}' {hub}/api/v1/config/{customer_id} -o controller.yaml"
            ),
        },
        SetupCommand {
            label: "Fetch everything needed to rebuild the node".into(),
            command: format!(
                "curl -fsS -H 'X-Retrieval-Password: {password}' {hub}/api/v1/recovery/{customer_id} -o recovery.json"
            ),
        },
        SetupCommand {
            label: "Check the controller's API key".into(),
            command: format!("curl -fsS -H 'Authorization: Bearer {key}' {hub}/api/v1/customers/{customer_id}"),
        },
    ]
}

/// Reveal answer: the secrets and the setup commands filled in with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevealedCredentials {
    pub customer_id: String,
    #[serde(flatten)]
    pub credentials: Credentials,
    pub setup_commands: Vec<SetupCommand>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credentials() {
        let creds = Credentials { api_key: Some("fh_secret".into()), retrieval_password: Some("alma-kert".into()) };
        let text = format!("{creds:?}");
        assert!(!text.contains("fh_secret") && !text.contains("alma"), "{text}");
    }

    #[test]
    fn setup_commands_use_placeholders_until_revealed() {
        let hidden = setup_commands("https://hub.example/", "kovacs", None, None);
        assert!(hidden[0].command.contains("<retrieval password>"));
        assert!(hidden[0].command.contains("https://hub.example/api/v1/config/kovacs"));
        let shown = setup_commands("https://hub.example", "kovacs", Some("fh_x"), Some("alma-kert-ház-tó"));
        assert!(shown[0].command.contains("alma-kert-ház-tó") && shown[2].command.contains("fh_x"));
    }
}
