//! App assets over HTTP: seeding, the manifest against the files, caching headers, ranges, every
//! path-traversal form, the operator's upload and delete with the auth matrix, and files added
//! on disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

const KOVACS_KEY: &str = "fh_kovacs_key_0123456789abcdef0123456789";
const SVG: &[u8] = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4"/></svg>"#;

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets-seed")
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A hub seeded from the repository's `assets-seed/`, optionally with files already in place.
async fn seeded_hub(existing: &'static [(&'static str, &'static [u8])]) -> TestHub {
    spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.assets.seed_dir = seed_dir();
            if !existing.is_empty() {
                let dir = raw.server.data_dir.join("assets");
                std::fs::create_dir_all(&dir).unwrap();
                for (name, body) in existing {
                    std::fs::write(dir.join(name), body).unwrap();
                    let file = std::fs::File::options().write(true).open(dir.join(name)).unwrap();
                    file.set_modified(SystemTime::now() - Duration::from_secs(60)).unwrap();
                }
            }
        })),
    })
    .await
}

async fn manifest(hub: &TestHub) -> Value {
    let res = hub.bare(Method::GET, "/api/v1/assets/manifest").bearer_auth(REPORT_KEY).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn names(manifest: &Value) -> Vec<String> {
    manifest["assets"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap().to_string()).collect()
}

fn get_file(hub: &TestHub, name: &str) -> reqwest::RequestBuilder {
    hub.bare(Method::GET, &format!("/api/v1/assets/file/{name}")).bearer_auth(REPORT_KEY)
}

#[tokio::test]
async fn seeds_an_empty_directory_and_the_manifest_hashes_match_the_files() {
    let mut hub = seeded_hub(&[]).await;
    let m = manifest(&hub).await;
    let mut seed_names: Vec<String> = std::fs::read_dir(seed_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| hub_shared::assets::parse_asset_name(n).is_ok())
        .collect();
    seed_names.sort();
    assert!(seed_names.len() >= 10, "the seed has logos and screenshots: {seed_names:?}");
    assert_eq!(names(&m), seed_names);
    let mut total = 0;
    for asset in m["assets"].as_array().unwrap() {
        let name = asset["filename"].as_str().unwrap();
        let on_disk = std::fs::read(hub.data_dir.join("assets").join(name)).unwrap();
        assert_eq!(on_disk, std::fs::read(seed_dir().join(name)).unwrap(), "{name} is a copy of the seed");
        assert_eq!(asset["sha256"], sha256(&on_disk), "{name}");
        assert_eq!(asset["size"], on_disk.len() as u64, "{name}");
        let expected_type = match name.rsplit('.').next().unwrap() {
            "svg" => "image/svg+xml",
            "png" => "image/png",
            _ => "image/webp",
        };
        assert_eq!(asset["content_type"], expected_type);
        assert!(asset["modified_at"].is_string() && asset["slug"].is_string() && asset["kind"].is_string());
        total += on_disk.len() as u64;
    }
    assert_eq!(m["total_bytes"], total);
    // The seed's README and script are not assets and are not copied.
    assert!(!hub.data_dir.join("assets/README.md").exists() && !hub.data_dir.join("assets/make-assets.sh").exists());
    hub.stop().await;
}

#[tokio::test]
async fn does_not_seed_over_a_directory_that_has_assets() {
    let mut hub = seeded_hub(&[("nextcloud-logo.svg", SVG)]).await;
    let m = manifest(&hub).await;
    assert_eq!(names(&m), ["nextcloud-logo.svg"]);
    assert_eq!(m["assets"][0]["sha256"], sha256(SVG));
    assert_eq!(std::fs::read(hub.data_dir.join("assets/nextcloud-logo.svg")).unwrap(), SVG);
    hub.stop().await;
}

#[tokio::test]
async fn files_carry_type_length_etag_and_cache_headers() {
    let mut hub = seeded_hub(&[]).await;
    let m = manifest(&hub).await;
    let png = m["assets"].as_array().unwrap().iter().find(|a| a["filename"] == "jellyfin-logo.png").unwrap();
    let sha = png["sha256"].as_str().unwrap().to_string();
    let res = get_file(&hub, "jellyfin-logo.png").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["etag"], format!("\"{sha}\"").as_str());
    assert_eq!(h["cache-control"], "private, no-cache");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"].to_str().unwrap().contains("sandbox"));
    let body = res.bytes().await.unwrap();
    assert_eq!(h["content-length"], body.len().to_string().as_str());
    assert_eq!(sha256(&body), sha);

    // Served as stored even to a client that accepts gzip, so the strong ETag and ranges hold.
    let svg = get_file(&hub, "jellyfin-logo.svg").header("accept-encoding", "gzip").send().await.unwrap();
    assert!(svg.headers().get("content-encoding").is_none());
    let svg_len: u64 = svg.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(svg.bytes().await.unwrap().len() as u64, svg_len);
    // HEAD: the headers without the body.
    let head = hub.bare(Method::HEAD, "/api/v1/assets/file/jellyfin-logo.png").bearer_auth(REPORT_KEY).send();
    let head = head.await.unwrap();
    assert_eq!((head.status().as_u16(), &head.headers()["content-length"]), (200, &h["content-length"]));
    assert!(head.bytes().await.unwrap().is_empty());

    // A matching ETag (strong, weak or in a list) gets 304 with no body; another gets the file.
    for tag in [format!("\"{sha}\""), format!("W/\"{sha}\""), format!("\"other\", \"{sha}\""), "*".into()] {
        let res = get_file(&hub, "jellyfin-logo.png").header("if-none-match", &tag).send().await.unwrap();
        assert_eq!(res.status(), 304, "{tag}");
        assert_eq!(res.headers()["etag"], format!("\"{sha}\"").as_str());
        assert!(res.bytes().await.unwrap().is_empty());
    }
    let res = get_file(&hub, "jellyfin-logo.png").header("if-none-match", "\"stale\"").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let last_modified = h["last-modified"].to_str().unwrap().to_string();
    let res = get_file(&hub, "jellyfin-logo.png").header("if-modified-since", &last_modified).send().await;
    assert_eq!(res.unwrap().status(), 304);

    // With the hash as version the answer may be cached for good; a wrong version may not.
    let res = get_file(&hub, &format!("jellyfin-logo.png?v={sha}")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "private, max-age=31536000, immutable");
    let res = get_file(&hub, "jellyfin-logo.png?v=0000").send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "private, no-cache");

    // The manifest has a weak ETag of its own.
    let res = hub.bare(Method::GET, "/api/v1/assets/manifest").bearer_auth(REPORT_KEY).send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let res = hub
        .bare(Method::GET, "/api/v1/assets/manifest")
        .bearer_auth(REPORT_KEY)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    hub.stop().await;
}

async fn range(hub: &TestHub, range: &str) -> (u16, Option<String>, bytes::Bytes) {
    let res = get_file(hub, "immich-screenshot-1.webp").header("range", range).send().await.unwrap();
    let status = res.status().as_u16();
    let content_range = res.headers().get("content-range").map(|v| v.to_str().unwrap().to_string());
    (status, content_range, res.bytes().await.unwrap())
}

#[tokio::test]
async fn byte_ranges() {
    let mut hub = seeded_hub(&[]).await;
    let full = get_file(&hub, "immich-screenshot-1.webp").send().await.unwrap().bytes().await.unwrap();
    let len = full.len();
    let etag = format!("\"{}\"", sha256(&full));
    let (status, cr, body) = range(&hub, "bytes=0-11").await;
    assert_eq!((status, cr.as_deref()), (206, Some(format!("bytes 0-11/{len}").as_str())));
    assert_eq!(&body[..], &full[..12]);
    assert_eq!(&body[..4], b"RIFF");
    let (status, cr, body) = range(&hub, "bytes=-5").await;
    assert_eq!((status, cr), (206, Some(format!("bytes {}-{}/{len}", len - 5, len - 1))));
    assert_eq!(&body[..], &full[len - 5..]);
    let (status, _, body) = range(&hub, "bytes=100-").await;
    assert_eq!(status, 206);
    assert_eq!(&body[..], &full[100..]);
    let (status, cr, body) = range(&hub, "bytes=999999-").await;
    assert_eq!((status, cr), (416, Some(format!("bytes */{len}"))));
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], "range_not_satisfiable");
    let res = get_file(&hub, "immich-screenshot-1.webp").header("range", "bytes=999999-").send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    // Several ranges or a malformed header: the whole file.
    let (status, _, body) = range(&hub, "bytes=0-1,5-6").await;
    assert_eq!((status, body.len()), (200, len));
    let (status, _, _) = range(&hub, "pages=1-2").await;
    assert_eq!(status, 200);

    // If-Range: a range only while the file is still the one the client has.
    let res = get_file(&hub, "immich-screenshot-1.webp").header("range", "bytes=0-3").header("if-range", &etag);
    assert_eq!(res.send().await.unwrap().status(), 206);
    let res = get_file(&hub, "immich-screenshot-1.webp").header("range", "bytes=0-3").header("if-range", "\"old\"");
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().len(), len);
    hub.stop().await;
}

/// Sends a request line exactly as written (no URL normalisation) and returns status and body.
async fn raw_get(hub: &TestHub, target: &str) -> (u16, String) {
    let addr = hub.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {REPORT_KEY}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn every_path_traversal_form_is_refused() {
    let mut hub = seeded_hub(&[]).await;
    let dir = hub.data_dir.join("assets");
    std::fs::write(hub.data_dir.join("secret-logo.svg"), SVG).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd-logo.svg")).unwrap();
    std::os::unix::fs::symlink(hub.data_dir.join("secret-logo.svg"), dir.join("outside-logo.svg")).unwrap();
    let state = hub.hub.as_ref().unwrap().state.clone();
    state.assets().rescan_at(SystemTime::now() + Duration::from_secs(60)).await.unwrap();

    for target in [
        "/api/v1/assets/file/passwd-logo.svg",
        "/api/v1/assets/file/outside-logo.svg",
        "/api/v1/assets/file/../secret-logo.svg",
        "/api/v1/assets/file/../../etc/passwd",
        "/api/v1/assets/file/..",
        "/api/v1/assets/file/.",
        "/api/v1/assets/file/..%2Fsecret-logo.svg",
        "/api/v1/assets/file/..%2fsecret-logo.svg",
        "/api/v1/assets/file/%2e%2e%2Fsecret-logo.svg",
        "/api/v1/assets/file/%2e%2e",
        "/api/v1/assets/file/%252e%252e%252Fsecret-logo.svg",
        "/api/v1/assets/file/..%5Csecret-logo.svg",
        "/api/v1/assets/file/..\\secret-logo.svg",
        "/api/v1/assets/file/%2Fetc%2Fpasswd",
        "/api/v1/assets/file//etc/passwd",
        "/api/v1/assets/file/%2F..%2Fsecret-logo.svg",
        "/api/v1/assets/file/nextcloud-logo.svg%00.png",
        "/api/v1/assets/file/nextcloud-logo.svg/",
        "/api/v1/assets/file/nextcloud-logo.svg/..%2F..%2Fsecret-logo.svg",
        "/api/v1/assets/file/hub.db",
        "/api/v1/assets/file/unknown-logo.svg",
        "/api/v1/assets/file/Nextcloud-logo.svg",
        "/api/v1/assets/file/.nextcloud-logo.svg.tmp",
    ] {
        let (status, text) = raw_get(&hub, target).await;
        assert!(status == 400 || status == 404, "{target}: {status}\n{text}");
        assert!(!text.contains("root:") && !text.contains("SQLite format") && !text.contains("<rect"), "{target}");
    }
    let m = manifest(&hub).await;
    assert!(!names(&m).iter().any(|n| n == "passwd-logo.svg" || n == "outside-logo.svg"));
    // The real file is still served, so the refusals above are not an accident.
    assert_eq!(raw_get(&hub, "/api/v1/assets/file/nextcloud-logo.svg").await.0, 200);
    hub.stop().await;
}

#[tokio::test]
async fn reading_needs_a_key_or_the_operator() {
    let mut hub = seeded_hub(&[]).await;
    add_customer(&hub, "kovacs", KOVACS_KEY, "active").await;
    for path in ["/api/v1/assets/manifest", "/api/v1/assets/file/nextcloud-logo.svg"] {
        assert_eq!(hub.bare(Method::GET, path).send().await.unwrap().status(), 401, "{path}");
        assert_eq!(hub.bare(Method::GET, path).bearer_auth("wrong").send().await.unwrap().status(), 401, "{path}");
        assert_eq!(hub.bare(Method::GET, path).bearer_auth(KOVACS_KEY).send().await.unwrap().status(), 200, "{path}");
        assert_eq!(hub.bare(Method::GET, path).bearer_auth(REPORT_KEY).send().await.unwrap().status(), 200, "{path}");
    }
    hub.login().await;
    assert_eq!(hub.get("/api/v1/assets/file/nextcloud-logo.svg").send().await.unwrap().status(), 200);
    hub.get_json("/api/v1/assets/manifest", 200).await;
    hub.stop().await;
}

fn put(hub: &TestHub, name: &str, content_type: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
    hub.request(Method::PUT, &format!("/api/v1/assets/file/{name}")).header("content-type", content_type).body(body)
}

#[tokio::test]
async fn the_operator_uploads_and_deletes_and_nobody_else_may() {
    let mut hub = seeded_hub(&[]).await;
    add_customer(&hub, "kovacs", KOVACS_KEY, "active").await;
    let path = "/api/v1/assets/file/newapp-logo.svg";
    let bare = |method: Method, key: Option<&str>| {
        let req = hub.bare(method, path).header("content-type", "image/svg+xml").body(SVG.to_vec());
        match key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
        .send()
    };
    for method in [Method::PUT, Method::DELETE] {
        assert_eq!(bare(method.clone(), None).await.unwrap().status(), 401, "{method}");
        assert_eq!(bare(method.clone(), Some("wrong")).await.unwrap().status(), 401, "{method}");
        assert_eq!(bare(method.clone(), Some(KOVACS_KEY)).await.unwrap().status(), 403, "{method}");
        assert_eq!(bare(method.clone(), Some(REPORT_KEY)).await.unwrap().status(), 403, "{method}");
    }
    hub.login().await;
    // The cookie without the CSRF token is refused.
    let res = hub.client.put(hub.url(path)).header("content-type", "image/svg+xml").body(SVG.to_vec()).send();
    assert_eq!(res.await.unwrap().status(), 403);
    assert!(!hub.data_dir.join("assets/newapp-logo.svg").exists());

    let res = put(&hub, "newapp-logo.svg", "image/svg+xml", SVG.to_vec()).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["sha256"], sha256(SVG));
    // Listed at once, and served.
    let m = manifest(&hub).await;
    let listed = m["assets"].as_array().unwrap().iter().find(|a| a["filename"] == "newapp-logo.svg").unwrap();
    assert_eq!(listed, &info);
    let served = get_file(&hub, "newapp-logo.svg").send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&served[..], SVG);
    let replaced = put(&hub, "newapp-logo.svg", "image/svg+xml; charset=utf-8", SVG.to_vec()).send().await.unwrap();
    assert_eq!(replaced.status(), 200);
    let leftovers = std::fs::read_dir(hub.data_dir.join("assets")).unwrap();
    assert!(leftovers.map(|e| e.unwrap().file_name()).all(|n| !n.to_string_lossy().ends_with(".tmp")));
    // A generic client sends application/octet-stream; the name decides the type served.
    let png = b"\x89PNG\r\n\x1a\n-rest".to_vec();
    let res = put(&hub, "octet-logo.png", "application/octet-stream", png.clone()).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let served = get_file(&hub, "octet-logo.png").send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(&served.bytes().await.unwrap()[..], &png[..]);

    // Bad names, types, content and sizes.
    let png_magic = b"\x89PNG\r\n\x1a\n-rest".to_vec();
    let cases: Vec<(&str, &str, Vec<u8>, u16)> = vec![
        ("newapp.svg", "image/svg+xml", SVG.to_vec(), 400),
        ("NewApp-logo.svg", "image/svg+xml", SVG.to_vec(), 400),
        ("..%2Fnewapp-logo.svg", "image/svg+xml", SVG.to_vec(), 400),
        ("newapp-logo.png", "image/svg+xml", png_magic.clone(), 415),
        ("newapp-logo.png", "text/plain", png_magic.clone(), 415),
        ("newapp-logo.png", "application/octet-stream", SVG.to_vec(), 422),
        ("newapp-logo.png", "image/png", SVG.to_vec(), 422),
        ("newapp-logo.png", "image/png", Vec::new(), 422),
        ("newapp-screenshot-1.webp", "image/webp", png_magic.clone(), 422),
        ("evil-logo.svg", "image/svg+xml", b"<svg onload=\"alert(1)\"></svg>".to_vec(), 422),
        ("big-logo.png", "image/png", [png_magic.clone(), vec![0; 2 * 1024 * 1024]].concat(), 413),
    ];
    for (name, content_type, body, status) in cases {
        let res = put(&hub, name, content_type, body).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{name} as {content_type}");
        let error: Value = res.json().await.unwrap();
        assert!(error["code"].is_string() && error["message"].is_string(), "{error}");
    }
    let ok_png = put(&hub, "newapp-logo.png", "image/png", png_magic).send().await.unwrap();
    assert_eq!(ok_png.status(), 201);
    let names_now = names(&manifest(&hub).await);
    assert!(!names_now.iter().any(|n| n.starts_with("evil") || n.starts_with("big")), "{names_now:?}");

    assert_eq!(hub.request(Method::DELETE, path).send().await.unwrap().status(), 204);
    assert!(!names(&manifest(&hub).await).contains(&"newapp-logo.svg".to_string()));
    assert!(!hub.data_dir.join("assets/newapp-logo.svg").exists());
    assert_eq!(get_file(&hub, "newapp-logo.svg").send().await.unwrap().status(), 404);
    assert_eq!(hub.request(Method::DELETE, path).send().await.unwrap().status(), 404);
    let bad = hub.request(Method::DELETE, "/api/v1/assets/file/..%2Fhub.db").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    hub.stop().await;
}

#[tokio::test]
async fn a_file_added_on_disk_joins_the_manifest_on_rescan() {
    let mut hub = seeded_hub(&[]).await;
    let before = names(&manifest(&hub).await).len();
    std::fs::write(hub.data_dir.join("assets/added-logo.svg"), SVG).unwrap();
    std::fs::write(hub.data_dir.join("assets/.added-logo.png.partial.tmp"), b"\x89PNG").unwrap();
    let state = hub.hub.as_ref().unwrap().state.clone();
    // Just written: not trusted yet. Settled: listed, with its hash.
    state.assets().rescan_at(SystemTime::now()).await.unwrap();
    assert_eq!(names(&manifest(&hub).await).len(), before);
    state.assets().rescan_at(SystemTime::now() + Duration::from_secs(5)).await.unwrap();
    let m = manifest(&hub).await;
    assert_eq!(names(&m).len(), before + 1);
    let added = m["assets"].as_array().unwrap().iter().find(|a| a["filename"] == "added-logo.svg").unwrap();
    assert_eq!(added["sha256"], sha256(SVG));
    assert_eq!(get_file(&hub, "added-logo.svg").send().await.unwrap().status(), 200);

    std::fs::remove_file(hub.data_dir.join("assets/added-logo.svg")).unwrap();
    state.assets().rescan_at(SystemTime::now()).await.unwrap();
    assert_eq!(names(&manifest(&hub).await).len(), before);
    hub.stop().await;
}
