//! The HTTP rules of cached file serving (RFC 9110): `If-None-Match` and `If-Modified-Since`
//! for 304, and single byte ranges with `If-Range` for 206 and 416.

use chrono::{DateTime, Utc};

/// A byte range to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No usable range: send the whole file.
    Full,
    /// Bytes `start..=end` (inclusive).
    Partial { start: u64, end: u64 },
    /// A well-formed range that lies outside the file: 416.
    Unsatisfiable,
}

/// Interprets a `Range` header for a file of `len` bytes. Only one `bytes=` range is served;
/// a malformed header or a list of ranges is ignored and the whole file is sent, as RFC 9110 allows.
pub fn parse_range(header: &str, len: u64) -> ByteRange {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return ByteRange::Full };
    if spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return ByteRange::Full };
    let number =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten();
    match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            None => ByteRange::Full,
            Some(0) => ByteRange::Unsatisfiable,
            Some(_) if len == 0 => ByteRange::Unsatisfiable,
            Some(n) => ByteRange::Partial { start: len.saturating_sub(n), end: len - 1 },
        },
        (start, end) => {
            let Some(start) = number(start) else { return ByteRange::Full };
            let end = match end {
                "" => u64::MAX,
                e => match number(e) {
                    Some(e) if e >= start => e,
                    _ => return ByteRange::Full,
                },
            };
            if start >= len {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Partial { start, end: end.min(len - 1) }
            }
        }
    }
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison; `*` matches anything).
pub fn none_match(header: &str, etag: &str) -> bool {
    let ours = etag.trim_start_matches("W/");
    header.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// Whether an `If-Modified-Since` date is at or after `modified` (so the file is unchanged).
pub fn not_modified_since(header: &str, modified: DateTime<Utc>) -> bool {
    DateTime::parse_from_rfc2822(header.trim()).is_ok_and(|since| modified.timestamp() <= since.timestamp())
}

/// Whether a range may be served under `If-Range`: the header must name the current strong ETag
/// or exactly the current `Last-Modified`.
pub fn if_range_holds(header: &str, etag: &str, last_modified: &str) -> bool {
    let header = header.trim();
    if header.starts_with("W/") {
        return false;
    }
    header == etag || header == last_modified
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteRange::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(parse_range("bytes=90-", 100), Partial { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=90-1000", 100), Partial { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=-10", 100), Partial { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=-1000", 100), Partial { start: 0, end: 99 });
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        for ignored in ["items=0-9", "bytes=9-0", "bytes=a-b", "bytes=0-1,5-6", "bytes=", "bytes=-", "bytes=+1-2"] {
            assert_eq!(parse_range(ignored, 100), Full, "{ignored}");
        }
    }

    #[test]
    fn etags_and_dates() {
        let etag = "\"abc\"";
        assert!(none_match("\"abc\"", etag));
        assert!(none_match("\"x\", W/\"abc\"", etag));
        assert!(none_match("*", etag));
        assert!(!none_match("\"abcd\"", etag));
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:00.5Z").unwrap().with_timezone(&Utc);
        let date = http_date(at);
        assert_eq!(date, "Thu, 26 Nov 2026 10:00:00 GMT");
        assert!(not_modified_since(&date, at));
        assert!(!not_modified_since("Thu, 26 Nov 2026 09:59:59 GMT", at));
        assert!(!not_modified_since("yesterday", at));
        assert!(if_range_holds(etag, etag, &date));
        assert!(if_range_holds(&date, etag, &date));
        assert!(!if_range_holds("W/\"abc\"", etag, &date));
        assert!(!if_range_holds("\"old\"", etag, &date));
    }
}
