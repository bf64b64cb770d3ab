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

/// Checks an email address: `local@domain.tld`, no spaces or control characters, at most 254
/// bytes. Deliberately simple: the email API is the final judge.
pub fn email(address: &str) -> Result<(), String> {
    let fail = || Err(format!("email must be an address like name@example.hu (got {address:?})"));
    if address.is_empty() || address.len() > 254 || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail();
    }
    let Some((local, domain)) = address.rsplit_once('@') else { return fail() };
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && labels.iter().all(|l| l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if local.is_empty() || local.contains('@') || local.len() > 64 || !domain_ok {
        return fail();
    }
    Ok(())
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

    #[test]
    fn emails() {
        for ok in ["a@b.hu", "kovacs.janos+hub@example.co.hu", "ügyfél@példa.hu"] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a", "a@", "@b.hu", "a@b", "a b@c.hu", "a@b..hu", "a@@b.hu", "a@-b.hu"] {
            assert!(email(bad).is_err(), "{bad} should be refused");
        }
    }
}
