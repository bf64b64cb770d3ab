//! Security hardening (issue 15) that has no better home: sessions that end with the password
//! they were made with, response headers, and the limits on what each key may do.

use reqwest::Method;

use crate::helpers::*;

/// A hub on the shared database `url` whose operator password hash is `password_hash`.
async fn replica(url: &str, password_hash: String) -> TestHub {
    let url = url.to_string();
    spawn_hub_with(Options {
        password: false,
        tweak: Some(Box::new(move |raw| {
            raw.database.url = url.into();
            raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into();
            raw.auth.password_hash = password_hash;
        })),
    })
    .await
}

#[tokio::test]
async fn a_new_password_hash_ends_the_sessions_made_with_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_database_url(dir.path()).await;
    let old_hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let mut old = replica(&url, old_hash.clone()).await;
    old.login().await;
    old.get_json("/api/v1/configs", 200).await;
    // The same cookie at a replica with the same password works (sessions are shared)...
    let mut same = replica(&url, old_hash).await;
    let with_cookie = |hub: &TestHub| old.client.get(hub.url("/api/v1/configs")).send();
    assert_eq!(with_cookie(&same).await.unwrap().status(), 200);
    // ...and at one whose operator password was changed, it does not.
    let mut changed = replica(&url, bcrypt::hash("a brand new operator password", 4).unwrap()).await;
    let refused = with_cookie(&changed).await.unwrap();
    assert_eq!(refused.status(), 401);
    let csrf = old.csrf.clone().unwrap();
    let write = old.client.request(Method::DELETE, changed.url("/api/v1/configs/kovacs")).header("x-csrf-token", csrf);
    assert_eq!(write.send().await.unwrap().status(), 401);
    for hub in [&mut old, &mut same, &mut changed] {
        hub.stop().await;
    }
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn answers_that_carry_a_secret_are_never_stored_by_a_cache() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let created = hub
        .request(Method::POST, "/api/v1/configs")
        .json(&serde_json::json!({"customer_id": "kovacs", "display_name": "Kovács", "domain": "kovacs.felhom.eu",
            "contact_email": "a@example.hu"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "cache-control"), "no-store", "credential creation");
    let created: serde_json::Value = created.json().await.unwrap();
    let (key, password) = (created["api_key"].as_str().unwrap(), created["retrieval_password"].as_str().unwrap());
    let push = hub.bare(Method::POST, "/api/v1/infra-backup").bearer_auth(key).json(&infra_backup("kovacs", "pw"));
    assert_eq!(push.send().await.unwrap().status(), 200);

    let mut answers = Vec::new();
    for path in ["/api/v1/config/kovacs", "/api/v1/recovery/kovacs"] {
        answers.push((path, hub.get_with_password(path, password).await));
    }
    for path in ["/api/v1/infra-backup/kovacs", "/api/v1/infra-backup/kovacs/versions"] {
        answers.push((path, hub.bare(Method::GET, path).bearer_auth(key).send().await.unwrap()));
    }
    answers.push(("operator infra-backup", hub.get("/api/v1/infra-backup/kovacs").send().await.unwrap()));
    for path in ["reveal", "rotate-api-key", "rotate-retrieval-password"] {
        let res = hub.request(Method::POST, &format!("/api/v1/configs/kovacs/{path}")).send().await.unwrap();
        answers.push((path, res));
    }
    assert_eq!(hub.post_report(REPORT_KEY, &report("manual")).await.status(), 200);
    answers
        .push(("from-report", hub.request(Method::POST, "/api/v1/configs/manual/from-report").send().await.unwrap()));
    for (what, res) in &answers {
        assert!(res.status().is_success(), "{what}: {}", res.status());
        assert_eq!(header(res, "cache-control"), "no-store", "{what}");
    }
    // A refused retrieval is not stored either.
    let wrong = hub.get_with_password("/api/v1/recovery/kovacs", "nem-ez-a-jelszo").await;
    assert_eq!((wrong.status().as_u16(), header(&wrong, "cache-control")), (401, "no-store"));
    hub.stop().await;
}

#[tokio::test]
async fn the_web_app_and_the_api_send_security_headers() {
    let mut hub = spawn_hub().await;
    let app = hub.get("/customers/kovacs").send().await.unwrap();
    let csp = header(&app, "content-security-policy").to_string();
    for part in
        ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'", "object-src 'none'"]
    {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") || csp.contains("style-src-attr"), "{csp}");
    for res in [&app, &hub.get("/api/v1/healthz").send().await.unwrap()] {
        assert_eq!(header(res, "referrer-policy"), "no-referrer");
        assert_eq!(header(res, "x-content-type-options"), "nosniff");
        assert_eq!(header(res, "x-frame-options"), "DENY");
    }
    let api = hub.get("/api/v1/healthz").send().await.unwrap();
    assert_eq!(header(&api, "content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
    let docs = hub.get("/api/docs/").send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(header(&docs, "content-security-policy").contains("frame-ancestors 'none'"));
    hub.stop().await;
}

#[tokio::test]
async fn a_hostile_svg_upload_is_refused_and_a_stored_svg_may_not_run_script() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let upload = |body: &str| {
        hub.request(Method::PUT, "/api/v1/assets/file/evil-logo.svg")
            .header("content-type", "image/svg+xml")
            .body(body.to_string())
            .send()
    };
    let hostile =
        r#"<svg xmlns="http://www.w3.org/2000/svg"><rect x="1"onclick="alert(1)" width="4" height="4"/></svg>"#;
    let res = upload(hostile).await.unwrap();
    assert_eq!(res.status(), 422);
    let err: serde_json::Value = res.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("onclick"), "{err}");
    assert!(!hub.data_dir.join("assets/evil-logo.svg").exists());
    // Should something slip through, the file is served under a policy that runs nothing.
    let fine = r#"<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>"#;
    assert_eq!(upload(fine).await.unwrap().status(), 201);
    let served = hub.get("/api/v1/assets/file/evil-logo.svg").send().await.unwrap();
    assert_eq!(served.status(), 200);
    let csp = header(&served, "content-security-policy");
    assert!(csp.starts_with("default-src 'none'") && csp.contains("sandbox"), "{csp}");
    assert_eq!(header(&served, "x-content-type-options"), "nosniff");
    hub.stop().await;
}

/// A signed-in hub with customer `kovacs` and one infra backup; `tweak` changes its config.
async fn hub_with_backup(tweak: Option<Tweak>) -> TestHub {
    let mut hub = spawn_hub_with(Options { password: true, tweak }).await;
    hub.login().await;
    let key = hub.create_config("kovacs").await["api_key"].as_str().unwrap().to_string();
    let push = hub.bare(Method::POST, "/api/v1/infra-backup").bearer_auth(&key).json(&infra_backup("kovacs", "pw"));
    assert_eq!(push.send().await.unwrap().status(), 200);
    hub
}

async fn audit_actions(hub: &TestHub) -> Vec<(String, String)> {
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs&per_page=100", 200).await;
    let entries = audit["entries"].as_array().unwrap();
    entries.iter().map(|e| (e["actor"].as_str().unwrap().into(), e["action"].as_str().unwrap().into())).collect()
}

#[tokio::test]
async fn the_global_key_reads_no_infra_backup_unless_allowed_and_then_audited() {
    let paths = ["/api/v1/infra-backup/kovacs", "/api/v1/infra-backup/kovacs/versions"];
    let mut hub = hub_with_backup(None).await;
    for path in paths {
        let res = hub.bare(Method::GET, path).bearer_auth(REPORT_KEY).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let err: serde_json::Value = res.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains("api.global_key_reads_backups"), "{err}");
    }
    assert!(!audit_actions(&hub).await.iter().any(|(actor, _)| actor == "global_key"));
    hub.stop().await;

    let allow: Tweak = Box::new(|raw| raw.api.global_key_reads_backups = true);
    let mut hub = hub_with_backup(Some(allow)).await;
    for path in paths {
        let res = hub.bare(Method::GET, path).bearer_auth(REPORT_KEY).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let actions = audit_actions(&hub).await;
    assert_eq!(actions[0], ("global_key".to_string(), "reveal_infra_backup".to_string()), "{actions:?}");
    hub.stop().await;
}

#[tokio::test]
async fn events_and_notify_are_limited_per_customer() {
    use crate::events::{event, post_event};
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", "kovacs-key-0123456789abcdef", "active").await;
    let info = event("kovacs", "app_updated", "info");
    for i in 0..hub_api::ratelimit::EVENT_BURST {
        assert_eq!(post_event(&hub, "kovacs-key-0123456789abcdef", &info).await.status(), 200, "event {i}");
    }
    let limited = post_event(&hub, REPORT_KEY, &info).await;
    assert_eq!(limited.status(), 429, "the global key shares the customer's bucket");
    let retry: u64 = header(&limited, "retry-after").parse().unwrap();
    assert!((1..=hub_api::ratelimit::EVENT_REFILL_SECS).contains(&retry), "{retry}");
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
    let notify = serde_json::json!({"customer_id": "kovacs", "subject": "x", "message": "y", "severity": "info"});
    let relayed = hub.bare(Method::POST, "/api/v1/notify").bearer_auth(REPORT_KEY).json(&notify).send().await.unwrap();
    assert_eq!(relayed.status(), 429, "/notify takes from the same bucket");
    // Another customer is not affected.
    assert_eq!(post_event(&hub, REPORT_KEY, &event("nagy", "app_updated", "info")).await.status(), 200);
    hub.stop().await;
}
