//! Validation rules shared by the API and the web app's forms.

/// The longest customer id accepted (`^[a-z0-9][a-z0-9-]{0,62}$`).
pub const CUSTOMER_ID_MAX_LEN: usize = 63;

/// Checks a customer id against `^[a-z0-9][a-z0-9-]{0,62}$`; the error says what is wrong.
pub fn customer_id(id: &str) -> Result<(), String> {
    let bytes = id.as_bytes();
    match bytes.first() {
        None => return Err("customer_id must not be empty".into()),
        Some(b) if !(b.is_ascii_lowercase() || b.is_ascii_digit()) => {
            return Err("customer_id must start with a lowercase letter or a digit".into())
        }
        _ => {}
    }
    if bytes.len() > CUSTOMER_ID_MAX_LEN {
        return Err(format!("customer_id must be at most {CUSTOMER_ID_MAX_LEN} characters"));
    }
    if let Some(bad) = id.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!(
            "customer_id may contain only a-z, 0-9 and '-' (found {bad:?}); pattern ^[a-z0-9][a-z0-9-]{{0,62}}$"
        ));
    }
    Ok(())
}

/// Checks that an optional free-text field is no longer than `max` bytes.
pub fn max_len(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        Err(format!("{field} must be at most {max} bytes (got {})", value.len()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_ids() {
        for id in ["a", "0", "kovacs", "kovacs-csalad-2", &"a".repeat(63)] {
            assert_eq!(customer_id(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn refuses_malformed_ids() {
        for id in ["", "-a", "Kovacs", "a_b", "a/b", "a..b", "á", &"a".repeat(64), "a b"] {
            assert!(customer_id(id).is_err(), "{id} should be refused");
        }
    }
}
