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

/// The shortest API key the operator may set (`PUT /api/v1/configs/{id}/credentials`).
pub const SET_API_KEY_MIN: usize = 24;
/// The longest API key or retrieval password the operator may set, in bytes.
pub const SET_SECRET_MAX: usize = 256;
/// The fewest letters and digits a set retrieval password must have once folded (see
/// [`crate::validate::fold_passphrase`]).
pub const SET_PASSWORD_MIN: usize = 8;

/// `PUT /api/v1/configs/{id}/credentials`: a customer's API key and retrieval password set to
/// given values, such as the ones the original hub issued. Either may be left out.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetCredentials {
    /// At least 24 and at most 256 printable ASCII characters, no spaces.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 24, max_length = 256, pattern = "^[!-~]+$"))]
    pub api_key: Option<String>,
    /// At least 8 letters or digits (compared as typed passwords are: case, accents and
    /// separators do not matter); at most 256 bytes.
    #[serde(default)]
    pub retrieval_password: Option<String>,
}

impl std::fmt::Debug for SetCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetCredentials")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("retrieval_password", &self.retrieval_password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl SetCredentials {
    /// Checks both values; a problem names its field and never repeats the value.
    pub fn validate(&self) -> Result<(), crate::validate::FieldError> {
        let problem = |field: &str, message: String| crate::validate::FieldError::new(field, message);
        if self.api_key.is_none() && self.retrieval_password.is_none() {
            return Err(problem("body", "send api_key, retrieval_password or both".into()));
        }
        if let Some(key) = &self.api_key {
            if key.len() < SET_API_KEY_MIN || key.len() > SET_SECRET_MAX {
                let got = key.len();
                return Err(problem(
                    "api_key",
                    format!("api_key must have {SET_API_KEY_MIN}–{SET_SECRET_MAX} characters (got {got})"),
                ));
            }
            if !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(problem("api_key", "api_key may hold only printable ASCII characters, no spaces".into()));
            }
        }
        if let Some(password) = &self.retrieval_password {
            if password.len() > SET_SECRET_MAX {
                return Err(problem(
                    "retrieval_password",
                    format!("retrieval_password must be at most {SET_SECRET_MAX} bytes"),
                ));
            }
            if password.chars().any(char::is_control) {
                return Err(problem(
                    "retrieval_password",
                    "retrieval_password must not hold control characters".into(),
                ));
            }
            let letters = crate::validate::fold_passphrase(password).chars().filter(|c| *c != '-').count();
            if letters < SET_PASSWORD_MIN {
                return Err(problem(
                    "retrieval_password",
                    format!("retrieval_password must have at least {SET_PASSWORD_MIN} letters or digits"),
                ));
            }
        }
        Ok(())
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
    fn set_credentials_are_checked_without_repeating_them() {
        let key = "legacy-key-0123456789abcdef";
        let ok =
            SetCredentials { api_key: Some(key.into()), retrieval_password: Some("alma-kerék-madár-felhő".into()) };
        assert_eq!(ok.validate(), Ok(()));
        assert!(!format!("{ok:?}").contains("legacy") && !format!("{ok:?}").contains("alma"));
        let field = |api_key: Option<&str>, password: Option<&str>| {
            let request =
                SetCredentials { api_key: api_key.map(String::from), retrieval_password: password.map(String::from) };
            request.validate().map_err(|e| {
                assert!(!api_key.is_some_and(|k| e.message.contains(k)), "{}", e.message);
                e.field
            })
        };
        assert_eq!(field(None, None), Err("body".into()));
        assert_eq!(field(Some(&"k".repeat(SET_API_KEY_MIN - 1)), None), Err("api_key".into()));
        assert_eq!(field(Some(&"k".repeat(SET_API_KEY_MIN)), None), Ok(()));
        assert_eq!(field(Some(&"k".repeat(SET_SECRET_MAX + 1)), None), Err("api_key".into()));
        assert_eq!(field(Some("legacy key with spaces 0123456"), None), Err("api_key".into()));
        assert_eq!(field(None, Some("alma-kert")), Ok(()));
        assert_eq!(field(None, Some("a-b-c-d-e-f-g")), Err("retrieval_password".into()));
        assert_eq!(field(None, Some("alma\nkerék-madár")), Err("retrieval_password".into()));
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
