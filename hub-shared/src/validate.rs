//! Validation rules shared by the API and the web app's forms.

use serde::{Deserialize, Serialize};

/// The longest customer id accepted (`^[a-z0-9][a-z0-9-]{0,62}$`).
pub const CUSTOMER_ID_MAX_LEN: usize = 63;
/// The rule of [`customer_id`] as a regular expression, for the API document.
pub const CUSTOMER_ID_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

/// The customer id the hub files its own events under (its own backup failing). No customer,
/// controller or report may claim it, so those events never reach a customer's page or inbox.
pub const HUB_SUBJECT: &str = "felhom-hub";

/// [`customer_id`] for an id that a new customer, a controller's report, event or
/// infrastructure backup claims: also not the hub's own [`HUB_SUBJECT`].
pub fn claimed_customer_id(id: &str) -> Result<(), String> {
    customer_id(id)?;
    if id == HUB_SUBJECT {
        return Err(format!("customer_id {HUB_SUBJECT:?} is reserved for the hub's own events"));
    }
    Ok(())
}

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
/// Text may not contain NUL, which PostgreSQL cannot store (and no legitimate value has).
pub fn max_len(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        Err(format!("{field} must be at most {max} bytes (got {})", value.len()))
    } else if value.contains('\0') {
        Err(format!("{field} must not contain NUL characters"))
    } else {
        Ok(())
    }
}

/// A problem with one field of a request: the field's path and a message that names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Adds `result`'s error, if any, as a problem of `field`.
pub fn check(out: &mut Vec<FieldError>, field: &str, result: Result<(), String>) {
    if let Err(message) = result {
        let message = if message.contains(field) { message } else { format!("{field}: {message}") };
        out.push(FieldError::new(field, message));
    }
}

/// A DNS name such as `kovacs.felhom.eu`: at least two labels of a-z, 0-9 and '-'.
pub fn domain(value: &str) -> Result<(), String> {
    if value.len() > 253 {
        return Err("must be at most 253 characters".into());
    }
    let labels: Vec<&str> = value.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| hostname_label(l).is_err()) {
        return Err(format!(
            "{value:?} is not a domain name like kovacs.felhom.eu (lowercase letters, digits, '-' and dots)"
        ));
    }
    Ok(())
}

/// One DNS label: 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'.
pub fn hostname_label(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && !value.starts_with('-')
        && !value.ends_with('-')
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("{value:?} must be 1-63 lowercase letters, digits or '-', not starting or ending with '-'"))
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

/// An IANA time zone name such as `Europe/Budapest` (its shape; the server knows the list).
pub fn timezone(value: &str) -> Result<(), String> {
    let ok = value == "UTC"
        || (value.contains('/')
            && value.len() <= 64
            && value.split('/').all(|p| !p.is_empty())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b)));
    if ok {
        Ok(())
    } else {
        Err(format!("{value:?} is not a time zone like Europe/Budapest"))
    }
}

/// A duration like `90s`, `15m`, `1h` between `min_secs` and `max_secs`.
pub fn interval(value: &str, min_secs: u64, max_secs: u64) -> Result<(), String> {
    let value = value.trim();
    let (number, unit) = value.split_at(value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len()));
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("{value:?} is not a duration like 90s, 15m or 1h")),
    };
    let secs = number.parse::<u64>().map_err(|_| format!("{value:?} is not a duration like 90s, 15m or 1h"))? * factor;
    if secs < min_secs || secs > max_secs {
        return Err(format!("must be between {min_secs}s and {max_secs}s (got {value})"));
    }
    Ok(())
}

/// A time of day as HH:MM (00:00 to 23:59).
pub fn clock_time(value: &str) -> Result<(), String> {
    let ok = value.len() == 5
        && value.as_bytes()[2] == b':'
        && value[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && value[3..].parse::<u8>().is_ok_and(|m| m < 60)
        && value[..2].bytes().chain(value[3..].bytes()).all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("{value:?} is not a time of day like 05:00"))
    }
}

/// A UUID in its usual form, 8-4-4-4-12 hex digits (either case).
pub fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A filesystem UUID as `blkid` prints it: a UUID, a FAT serial (`ABCD-1234`) or an NTFS serial
/// (16 hex digits).
pub fn is_fs_uuid(value: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    is_uuid(value) || hex(value, 16) || value.split_once('-').is_some_and(|(a, b)| hex(a, 4) && hex(b, 4))
}

/// The longest path accepted (Linux's `PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// An absolute path that can stand as one field of an `/etc/fstab` line: starts with `/`, no
/// whitespace, no control characters and no `\` (fstab's escape character).
pub fn fstab_path(value: &str) -> Result<(), String> {
    if !value.starts_with('/') {
        return Err("must be an absolute path (starting with /)".into());
    }
    if value.len() > PATH_MAX {
        return Err(format!("must be at most {PATH_MAX} bytes"));
    }
    match value.chars().find(|c| c.is_whitespace() || c.is_control() || *c == '\\') {
        Some(bad) => Err(format!("must not contain whitespace, control characters or \\ (found {bad:?})")),
        None => Ok(()),
    }
}

/// Mount options: empty, or a comma list of non-empty items of `A-Z a-z 0-9 _ = . -`
/// (`defaults,nofail,uid=1000`).
pub fn mount_options(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    if value.len() > 1024 {
        return Err("must be at most 1024 bytes".into());
    }
    let item_ok =
        |item: &str| !item.is_empty() && item.bytes().all(|b| b.is_ascii_alphanumeric() || b"_=.-".contains(&b));
    if value.split(',').all(item_ok) {
        Ok(())
    } else {
        Err("must be a comma-separated list of options made of A-Z, a-z, 0-9, '_', '=', '.' and '-'".into())
    }
}

/// A filesystem label: at most 255 bytes, no control characters (spaces and accents are fine).
pub fn fs_label(value: &str) -> Result<(), String> {
    if value.len() > 255 {
        return Err("must be at most 255 bytes".into());
    }
    match value.chars().find(|c| c.is_control()) {
        Some(bad) => Err(format!("must not contain control characters (found {bad:?})")),
        None => Ok(()),
    }
}

/// The number of words in a retrieval password.
pub const PASSPHRASE_WORDS: usize = 4;

/// Checks the shape of a retrieval password: four words of lowercase letters (Hungarian accents
/// allowed) joined with `-`, like `alma-kerék-madár-felhő`.
pub fn passphrase(value: &str) -> Result<(), String> {
    let words: Vec<&str> = value.split('-').collect();
    let ok = words.len() == PASSPHRASE_WORDS
        && words.iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || "áéíóöőúüű".contains(c)));
    if ok {
        Ok(())
    } else {
        Err("the retrieval password is four lowercase words joined with '-', like alma-kerék-madár-felhő".into())
    }
}

/// The form of a typed retrieval password that is compared: trimmed, lowercase, accents dropped
/// (`kerék` = `kerek`), spaces and other separators as one `-`. The word list has no two words
/// that fold alike, so folding loses nothing.
pub fn fold_passphrase(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.trim().chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' | 'ö' | 'ő' | 'ô' | 'õ' => 'o',
            'ú' | 'ü' | 'ű' | 'û' => 'u',
            // Combining accents (a decomposed `é` is `e` + U+0301).
            '\u{300}'..='\u{36f}' => continue,
            c if c.is_alphanumeric() => c,
            _ => '-',
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
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
    fn the_hubs_own_subject_cannot_be_claimed() {
        assert_eq!(customer_id(HUB_SUBJECT), Ok(()), "it is a well-formed id: lists can filter by it");
        assert!(claimed_customer_id(HUB_SUBJECT).unwrap_err().contains("reserved"));
        assert_eq!(claimed_customer_id("felhom-hub-2"), Ok(()));
        assert!(claimed_customer_id("Bad").is_err());
    }

    #[test]
    fn text_is_limited_and_nul_free() {
        assert!(max_len("m", "héllo\nworld", 20).is_ok());
        assert!(max_len("m", "toolong", 3).unwrap_err().contains("at most 3"));
        assert!(max_len("m", "a\0b", 10).unwrap_err().contains("NUL"));
    }

    #[test]
    fn refuses_malformed_ids() {
        for id in ["", "-a", "Kovacs", "a_b", "a/b", "a..b", "á", &"a".repeat(64), "a b"] {
            assert!(customer_id(id).is_err(), "{id} should be refused");
        }
    }

    #[test]
    fn field_shapes() {
        assert!(domain("kovacs.felhom.eu").is_ok());
        for bad in ["kovacs", "Kovacs.hu", "a..b", "-a.hu", "a b.hu"] {
            assert!(domain(bad).is_err(), "{bad}");
        }
        assert!(email("anna@example.hu").is_ok());
        for bad in ["anna", "@x.hu", "anna@x", "a b@x.hu"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(interval("15m", 60, 86_400).is_ok());
        assert!(interval("30s", 60, 86_400).is_err());
        assert!(interval("2d", 60, 86_400).is_err());
        assert!(clock_time("05:00").is_ok() && clock_time("24:00").is_err() && clock_time("5:00").is_err());
        assert!(is_uuid("0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e") && !is_uuid("0b6c1a7e3f1d4c1e9a576d7e1b2c3d4e"));
        assert!(is_fs_uuid("ABCD-12EF") && is_fs_uuid("01D2C3B4A5F6E7D8") && !is_fs_uuid("sda1"));
    }

    #[test]
    fn passphrase_shape_and_folding() {
        assert!(passphrase("alma-kerék-madár-felhő").is_ok());
        for bad in ["alma-kerék-madár", "alma-kerék-madár-felhő-tó", "Alma-kerék-madár-felhő", "alma--madár-felhő"]
        {
            assert!(passphrase(bad).is_err(), "{bad}");
        }
        assert_eq!(fold_passphrase(" Alma KERÉK madár-felhő "), "alma-kerek-madar-felho");
        assert_eq!(fold_passphrase("alma-kere\u{301}k-mada\u{301}r-felho\u{30b}"), "alma-kerek-madar-felho");
        assert_eq!(fold_passphrase("alma_kerek, madar.felho"), "alma-kerek-madar-felho");
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
