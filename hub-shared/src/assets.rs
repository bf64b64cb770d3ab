//! App assets (logos and screenshots) that controllers fetch from the hub: the manifest on the wire,
//! and the one rule for which file names are assets.
//!
//! An asset name is `{slug}-logo.svg`, `{slug}-logo.png` or `{slug}-screenshot-{N}.webp`, where the
//! slug is `^[a-z0-9]+(-[a-z0-9]+)*$` (at most 63 characters) and `N` is 1 to 999 without leading
//! zeros. Nothing else is an asset, so a name that passes can never climb out of the directory.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest slug accepted.
pub const SLUG_MAX_LEN: usize = 63;
/// The highest screenshot number accepted.
pub const SCREENSHOT_MAX: u32 = 999;

/// What an asset shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Logo,
    Screenshot,
}

/// The query of `GET /api/v1/assets/file/{filename}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct FileQuery {
    /// The asset's SHA-256 from the manifest. When it matches, the answer may be cached for a
    /// year (`immutable`); otherwise the client must revalidate each time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
}

/// One asset file as the hub has it on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetInfo {
    /// The file name, e.g. `nextcloud-logo.svg`; fetch it at `/api/v1/assets/file/{filename}`.
    pub filename: String,
    /// The app the asset belongs to, e.g. `nextcloud`.
    pub slug: String,
    pub kind: AssetKind,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex; also the file's ETag.
    pub sha256: String,
    /// `image/svg+xml`, `image/png` or `image/webp`.
    pub content_type: String,
    /// When the file last changed on disk.
    pub modified_at: DateTime<Utc>,
}

/// Every asset the hub serves, sorted by file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetManifest {
    pub assets: Vec<AssetInfo>,
    /// The sum of every asset's size.
    pub total_bytes: u64,
    /// When the hub last read the directory.
    pub scanned_at: DateTime<Utc>,
}

/// A file name that is a valid asset name, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetName<'a> {
    pub slug: &'a str,
    pub kind: AssetKind,
    /// 0 for logos.
    pub number: u32,
    pub content_type: &'static str,
}

/// The rule of [`parse_asset_name`] as a regular expression for the API document, except the
/// slug's length (at most [`SLUG_MAX_LEN`]), which it does not count.
pub const ASSET_NAME_PATTERN: &str = r"^[a-z0-9]+(-[a-z0-9]+)*-(logo\.svg|logo\.png|screenshot-[1-9][0-9]{0,2}\.webp)$";

/// Parses an asset file name; the error says what is wrong and shows the accepted patterns.
pub fn parse_asset_name(name: &str) -> Result<AssetName<'_>, String> {
    const PATTERNS: &str = "expected {slug}-logo.svg, {slug}-logo.png or {slug}-screenshot-{N}.webp";
    let (slug, kind, number, content_type) = if let Some(slug) = name.strip_suffix("-logo.svg") {
        (slug, AssetKind::Logo, 0, "image/svg+xml")
    } else if let Some(slug) = name.strip_suffix("-logo.png") {
        (slug, AssetKind::Logo, 0, "image/png")
    } else if let Some(rest) = name.strip_suffix(".webp") {
        let (slug, n) = rest.rsplit_once("-screenshot-").ok_or_else(|| format!("{name:?}: {PATTERNS}"))?;
        (slug, AssetKind::Screenshot, screenshot_number(n).map_err(|e| format!("{name:?}: {e}"))?, "image/webp")
    } else {
        return Err(format!("{name:?}: {PATTERNS}"));
    };
    slug_rule(slug).map_err(|e| format!("{name:?}: {e}"))?;
    Ok(AssetName { slug, kind, number, content_type })
}

fn screenshot_number(n: &str) -> Result<u32, String> {
    let well_formed = !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0');
    match n.parse::<u32>() {
        Ok(v) if well_formed && (1..=SCREENSHOT_MAX).contains(&v) => Ok(v),
        _ => Err(format!("the screenshot number must be 1 to {SCREENSHOT_MAX} without leading zeros (got {n:?})")),
    }
}

fn slug_rule(slug: &str) -> Result<(), String> {
    if slug.is_empty() || slug.len() > SLUG_MAX_LEN {
        return Err(format!("the app slug must be 1 to {SLUG_MAX_LEN} characters"));
    }
    let allowed = slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !allowed || slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err(format!("the app slug {slug:?} must match ^[a-z0-9]+(-[a-z0-9]+)*$"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_three_patterns() {
        let logo = parse_asset_name("nextcloud-logo.svg").unwrap();
        assert_eq!((logo.slug, logo.kind, logo.content_type), ("nextcloud", AssetKind::Logo, "image/svg+xml"));
        assert_eq!(parse_asset_name("paperless-ngx-logo.png").unwrap().slug, "paperless-ngx");
        let shot = parse_asset_name("immich-screenshot-12.webp").unwrap();
        assert_eq!((shot.slug, shot.kind, shot.number), ("immich", AssetKind::Screenshot, 12));
        assert_eq!(parse_asset_name("a-b-screenshot-999.webp").unwrap().slug, "a-b");
    }

    #[test]
    fn refuses_everything_else() {
        for name in [
            "",
            "logo.svg",
            "-logo.svg",
            "../x-logo.svg",
            "a/b-logo.svg",
            "a\\b-logo.svg",
            "/etc/passwd",
            "..",
            ".nextcloud-logo.svg.tmp",
            "Nextcloud-logo.svg",
            "next--cloud-logo.svg",
            "nextcloud-logo.SVG",
            "nextcloud-logo.jpg",
            "nextcloud-logo.svg ",
            "nextcloud-screenshot-0.webp",
            "nextcloud-screenshot-01.webp",
            "nextcloud-screenshot-1000.webp",
            "nextcloud-screenshot-.webp",
            "nextcloud-screenshot-1.png",
            "nextcloud%2Flogo.svg",
            "nextcloud\0-logo.svg",
            &format!("{}-logo.svg", "a".repeat(64)),
        ] {
            assert!(parse_asset_name(name).is_err(), "{name:?} should be refused");
        }
    }
}
