//! The auth scopes as a matrix, operator sign-in, sessions, CSRF and the sign-in rate limit.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const KOVACS_KEY: &str = "fh_kovacs_key_0123456789abcdef0123456789";
const NAGY_KEY: &str = "fh_nagy_key_0123456789abcdef0123456789ab";

/// (no key, wrong key, other customer's key, right key) → 401/401/403/2xx for controller routes.
#[tokio::test]
async fn controller_scope_matrix() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", KOVACS_KEY, "active").await;
    add_customer(&hub, "nagy", NAGY_KEY, "active").await;
    let body = report("kovacs");

    let none = hub.bare(Method::POST, "/api/v1/report").json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.json::<Value>().await.unwrap()["code"], "unauthorized");
    assert_eq!(hub.post_report("wrong-key", &body).await.status(), 401);
    assert_eq!(hub.post_report(NAGY_KEY, &body).await.status(), 403);
    assert_eq!(hub.post_report(KOVACS_KEY, &body).await.status(), 200);
    assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
    let basic = hub.bare(Method::POST, "/api/v1/report").header("authorization", "Basic eDp5").json(&body);
    assert_eq!(basic.send().await.unwrap().status(), 401);

    for path in ["/api/v1/customers/kovacs", "/api/v1/customers/kovacs/history"] {
        let get = |key: Option<&str>| {
            let req = hub.bare(Method::GET, path);
            match key {
                Some(k) => req.bearer_auth(k),
                None => req,
            }
            .send()
        };
        assert_eq!(get(None).await.unwrap().status(), 401, "{path}");
        assert_eq!(get(Some("wrong-key")).await.unwrap().status(), 401, "{path}");
        assert_eq!(get(Some(NAGY_KEY)).await.unwrap().status(), 403, "{path}");
        assert_eq!(get(Some(KOVACS_KEY)).await.unwrap().status(), 200, "{path}");
        assert_eq!(get(Some(REPORT_KEY)).await.unwrap().status(), 200, "{path}");
    }
    // The fleet list is for the operator and the global key only.
    let list = |key: &str| hub.bare(Method::GET, "/api/v1/customers").bearer_auth(key).send();
    assert_eq!(list(KOVACS_KEY).await.unwrap().status(), 403);
    assert_eq!(list(REPORT_KEY).await.unwrap().status(), 200);
    assert_eq!(list("wrong").await.unwrap().status(), 401);
    assert_eq!(hub.bare(Method::GET, "/api/v1/customers").send().await.unwrap().status(), 401);
    hub.stop().await;
}

#[tokio::test]
async fn the_operator_signs_in_uses_csrf_and_signs_out() {
    let mut hub = spawn_hub().await;
    let session = hub.get_json("/api/v1/auth/session", 200).await;
    assert_eq!(session, json!({"authenticated": false, "auth_required": true, "csrf_token": null, "expires_at": null}));
    assert_eq!(hub.get_login("wrong password").await.status(), 401);
    hub.get_json("/api/v1/customers", 401).await;

    let res = hub.get_login(PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("felhom_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Max-Age=604800"));
    assert!(!cookie.contains("Secure"), "plain HTTP must not set Secure");
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    hub.get_json("/api/v1/customers", 200).await;
    let session = hub.get_json("/api/v1/auth/session", 200).await;
    assert_eq!(session["authenticated"], true);
    assert_eq!(session["csrf_token"], csrf.as_str());

    // A state-changing request with the cookie but without the CSRF token is refused.
    let res = hub.client.post(hub.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("CSRF"));
    let res =
        hub.client.post(hub.url("/api/v1/auth/logout")).header("x-csrf-token", "0".repeat(64)).send().await.unwrap();
    assert_eq!(res.status(), 403);

    let res = hub.client.post(hub.url("/api/v1/auth/logout")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(res.status(), 200);
    hub.get_json("/api/v1/customers", 401).await;

    // The revoked token stays refused even when replayed by hand.
    let token = cookie.split(';').next().unwrap().to_string();
    let replay = reqwest::Client::new().get(hub.url("/api/v1/customers")).header("cookie", token).send().await.unwrap();
    assert_eq!(replay.status(), 401);
    hub.stop().await;
}

#[tokio::test]
async fn secure_cookie_behind_tls() {
    let mut hub = spawn_hub().await;
    let res = hub
        .client
        .post(hub.url("/api/v1/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("Secure"));
    hub.stop().await;
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_rate_limited() {
    let mut hub = spawn_hub().await;
    for _ in 0..5 {
        assert_eq!(hub.get_login("guess").await.status(), 401);
    }
    let res = hub.get_login(PASSWORD).await;
    assert_eq!(res.status(), 429, "even the right password waits");
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "too_many_requests");
    hub.stop().await;
}

#[tokio::test]
async fn without_a_password_the_operator_needs_no_sign_in_but_still_csrf() {
    let mut hub = spawn_hub_with(Options { password: false, tweak: None }).await;
    let session = hub.get_json("/api/v1/auth/session", 200).await;
    assert_eq!(session["authenticated"], true);
    assert_eq!(session["auth_required"], false);
    hub.get_json("/api/v1/customers", 200).await;
    assert_eq!(hub.get_login("anything").await.status(), 404);
    // A cross-site form cannot add the header, so a state change without it is refused.
    let res = hub.client.post(hub.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let csrf = session["csrf_token"].as_str().unwrap();
    let res = hub.client.post(hub.url("/api/v1/auth/logout")).header("x-csrf-token", csrf).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // A rebound DNS name pointing at the loopback hub is not let in.
    let rebound =
        hub.client.get(hub.url("/api/v1/customers")).header("host", "evil.example:8080").send().await.unwrap();
    assert_eq!(rebound.status(), 403);
    let local = hub.client.get(hub.url("/api/v1/customers")).header("host", "localhost:8080").send().await.unwrap();
    assert_eq!(local.status(), 200);
    // Controllers still need a key: a keyless report is refused even on an open hub.
    assert_eq!(hub.bare(Method::POST, "/api/v1/report").json(&report("x")).send().await.unwrap().status(), 403);
    let as_operator = hub.bare(Method::POST, "/api/v1/report").header("x-csrf-token", csrf).json(&report("x"));
    assert_eq!(as_operator.send().await.unwrap().status(), 401);
    hub.stop().await;
}

#[tokio::test]
async fn a_session_cookie_signed_with_another_key_is_refused() {
    let mut hub = spawn_hub().await;
    let keys = hub_api::auth::SessionKeys::new(b"not the hub's key", "");
    let now = chrono::Utc::now().timestamp_millis();
    let forged = keys.issue("some-session", now, now + 60_000);
    let res = reqwest::Client::new()
        .get(hub.url("/api/v1/customers"))
        .header("cookie", format!("felhom_session={forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    hub.stop().await;
}
