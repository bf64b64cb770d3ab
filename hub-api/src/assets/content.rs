//! What an asset's bytes must look like: the magic bytes of PNG and WebP, and for SVG a text
//! document with an `<svg` element that passes the allowlist (`super::svg`).

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 4096;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Checks the start of a file against its content type (the scan's cheap check).
pub fn sniff(content_type: &str, head: &[u8]) -> Result<(), String> {
    match content_type {
        "image/png" if head.starts_with(PNG_MAGIC) => Ok(()),
        "image/png" => Err("not a PNG file (the PNG signature is missing)".into()),
        "image/webp" if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" => Ok(()),
        "image/webp" => Err("not a WebP file (the RIFF/WEBP header is missing)".into()),
        "image/svg+xml" => sniff_svg(head),
        other => Err(format!("unsupported content type {other}")),
    }
}

fn sniff_svg(head: &[u8]) -> Result<(), String> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let head = &head[start..];
    let lower = head.iter().take(SNIFF_LEN).map(u8::to_ascii_lowercase).collect::<Vec<_>>();
    if head.first() != Some(&b'<') || !contains(&lower, b"<svg") {
        return Err("not an SVG document (no <svg element at the start)".into());
    }
    Ok(())
}

/// Checks a whole uploaded file: the magic bytes, and for SVG that it is UTF-8 and passes the
/// allowlist of [`super::svg`].
pub fn check_upload(content_type: &str, body: &[u8]) -> Result<(), String> {
    if body.is_empty() {
        return Err("the file is empty".into());
    }
    sniff(content_type, &body[..body.len().min(SNIFF_LEN)])?;
    if content_type == "image/svg+xml" {
        let text = std::str::from_utf8(body).map_err(|_| "an SVG file must be UTF-8 text".to_string())?;
        super::svg::check(text.strip_prefix('\u{feff}').unwrap_or(text))?;
    }
    Ok(())
}

#[cfg(test)]
mod svg_tests {
    use super::check_upload;

    #[test]
    fn script_urls_hidden_by_entities_or_whitespace_are_refused() {
        let svg = |inner: &str| format!("<svg xmlns=\"http://www.w3.org/2000/svg\">{inner}</svg>");
        assert!(check_upload("image/svg+xml", svg("<circle r=\"4\"/>").as_bytes()).is_ok());
        for bad in [
            "<a href=\"jav&#x61;script:alert(1)\">x</a>",
            "<a href=\"java\tscript:alert(1)\">x</a>",
            "<a href=\"java\nscript:alert(1)\">x</a>",
            "<!ENTITY x \"y\">",
        ] {
            assert!(check_upload("image/svg+xml", svg(bad).as_bytes()).is_err(), "{bad}");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str =
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="#08f"/></svg>"##;

    #[test]
    fn accepts_real_headers() {
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(b"\0\0\0\rIHDR");
        assert_eq!(check_upload("image/png", &png), Ok(()));
        assert_eq!(check_upload("image/webp", b"RIFF\x10\0\0\0WEBPVP8L"), Ok(()));
        assert_eq!(check_upload("image/svg+xml", SVG.as_bytes()), Ok(()));
        let with_prolog = format!("\u{feff}<?xml version=\"1.0\"?>\n{SVG}");
        assert_eq!(check_upload("image/svg+xml", with_prolog.as_bytes()), Ok(()));
    }

    #[test]
    fn refuses_wrong_or_dangerous_content() {
        assert!(check_upload("image/png", b"").is_err());
        assert!(check_upload("image/png", b"GIF89a").is_err());
        assert!(check_upload("image/webp", b"RIFF\0\0\0\0WAVE").is_err());
        assert!(check_upload("image/png", b"RIFF\x10\0\0\0WEBPVP8L").is_err());
        assert!(check_upload("image/svg+xml", b"hello").is_err());
        assert!(check_upload("image/svg+xml", b"<html><body></body></html>").is_err());
        for bad in [
            "<svg><script>alert(1)</script></svg>",
            "<svg onload=\"alert(1)\"></svg>",
            "<svg><a href=\"JavaScript:alert(1)\">x</a></svg>",
            "<svg><rect\nonclick = \"x()\"/></svg>",
            "<svg><foreignObject></foreignObject></svg>",
            "<svg><rect/>",
        ] {
            assert!(check_upload("image/svg+xml", bad.as_bytes()).is_err(), "{bad}");
        }
        // A word that merely starts with "on" is not a handler.
        assert_eq!(check_upload("image/svg+xml", b"<svg><text> once upon</text></svg>"), Ok(()));
    }
}
