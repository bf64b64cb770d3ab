//! Preference addresses (issue 15 item 6): only for configured customers, confirmed by their owner
//! through a single-use, expiring link before any other email goes to them, with links limited
//! per address and per customer; the operator sees what is pending.

use reqwest::Method;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::helpers::*;
use crate::notifications::{
    accept_all, confirmation_links, emails, hub_with_mail, log_when, row, send, summary, CUSTOMER, KEY, OPERATOR,
};

async fn post_preferences(hub: &TestHub, key: &str, customer_id: &str, email: &str) -> reqwest::Response {
    let body = json!({"customer_id": customer_id, "email": email, "enabled_events": ["backup_failed", "app_updated"]});
    hub.bare(Method::POST, "/api/v1/preferences").bearer_auth(key).json(&body).send().await.unwrap()
}

/// The pending confirmation the customer view shows.
async fn pending(hub: &TestHub) -> Value {
    hub.get_json("/api/v1/customers/kovacs", 200).await["email_confirmation"].clone()
}

/// Sets when kovacs's current link went out, as if that much time had passed.
async fn link_sent_ago(hub: &TestHub, ms: i64) {
    let at = chrono::Utc::now().timestamp_millis() - ms;
    sqlx::query("UPDATE customer_notifications SET confirm_sent_at = $1 WHERE customer_id = 'kovacs'")
        .bind(at)
        .execute(hub.state().store().pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn preferences_for_a_customer_without_a_config_are_refused_with_either_key() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    // `nagy` reported, so the global key knows it, but the operator never configured it.
    assert_eq!(hub.post_report(REPORT_KEY, &report("nagy")).await.status(), 200);
    for id in ["nagy", "never-seen"] {
        let res = post_preferences(&hub, REPORT_KEY, id, "stranger@example.com").await;
        assert_eq!(res.status(), 404, "{id}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["code"], "not_found", "{err}");
        hub.get_json(&format!("/api/v1/customers/{id}/preferences"), 404).await;
    }
    assert_eq!(post_preferences(&hub, KEY, "nagy", "stranger@example.com").await.status(), 403);
    for key in [REPORT_KEY, KEY] {
        let res = post_preferences(&hub, key, "kovacs", CUSTOMER).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["email_confirmed"], false);
    }
    // One link for the configured customer (the second post is within the hour), none for the others.
    assert_eq!(summary(&log_when(&hub, "kovacs", 1).await), vec![row("email_confirmation", "customer", "sent", "")]);
    let page = hub.get_json("/api/v1/customers/nagy/notifications", 200).await;
    assert_eq!(page["entries"], json!([]));
    let to: Vec<Value> = emails(&mail).await.iter().map(|e| e["to"].clone()).collect();
    assert_eq!(to, vec![json!([CUSTOMER])]);
    hub.stop().await;
}

#[tokio::test]
async fn the_customer_gets_nothing_but_the_link_until_it_is_followed() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    assert_eq!(post_preferences(&hub, REPORT_KEY, "kovacs", CUSTOMER).await.status(), 200);
    log_when(&hub, "kovacs", 1).await;
    let sent = emails(&mail).await;
    assert_eq!(sent[0]["subject"], "[Felhom] Kérjük, erősítse meg az e-mail címét – Kovács János");
    assert!(sent[0]["text"].as_str().unwrap().starts_with("Kedves Kovács János!"));
    let link = confirmation_links(&mail).await.remove(0);

    // The operator sees the pending address and its link's times.
    let waiting = pending(&hub).await;
    assert_eq!(waiting["email"], CUSTOMER);
    let sent_at = chrono::DateTime::parse_from_rfc3339(waiting["link_sent_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(waiting["link_expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - sent_at, chrono::TimeDelta::days(7));

    // An event: the operator is mailed, the unconfirmed customer is not.
    send(&hub, "backup_failed", "error").await;
    let log = log_when(&hub, "kovacs", 3).await;
    assert_eq!(
        summary(&log[1..]),
        vec![row("backup_failed", "operator", "sent", ""), row("backup_failed", "customer", "skipped", "unconfirmed")]
    );
    assert_eq!(log[2]["recipient"], CUSTOMER);

    // Opening the link (as a mail scanner would) shows the address and confirms nothing.
    let opened = hub.bare(Method::GET, &link).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(opened.headers()["cache-control"], "no-store");
    assert!(opened.headers()["content-security-policy"].to_str().unwrap().contains("form-action 'self'"));
    let html = opened.text().await.unwrap();
    assert!(html.contains(CUSTOMER) && html.contains("<form method=\"post\">"), "{html}");
    assert_eq!(hub.get_json("/api/v1/customers/kovacs/preferences", 200).await["email_confirmed"], false);

    // The button confirms, once.
    let confirmed = hub.bare(Method::POST, &link).send().await.unwrap();
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed.text().await.unwrap().contains("Köszönjük"));
    assert_eq!(hub.get_json("/api/v1/customers/kovacs/preferences", 200).await["email_confirmed"], true);
    assert_eq!(pending(&hub).await, Value::Null);
    for method in [Method::POST, Method::GET] {
        assert_eq!(hub.bare(method, &link).send().await.unwrap().status(), 404, "a spent link");
    }

    // From now on the customer's emails go out.
    send(&hub, "app_updated", "info").await;
    let log = log_when(&hub, "kovacs", 4).await;
    assert_eq!(summary(&log[3..]), vec![row("app_updated", "customer", "sent", "")]);
    let to_customer = emails(&mail).await.iter().filter(|e| e["to"] == json!([CUSTOMER])).count();
    assert_eq!(to_customer, 2, "the link, then the event");
    // Posting the confirmed address again sends no new link and keeps it confirmed.
    let again = post_preferences(&hub, KEY, "kovacs", CUSTOMER).await;
    assert_eq!(again.json::<Value>().await.unwrap()["email_confirmed"], true);
    hub.stop().await;
}

#[tokio::test]
async fn a_changed_address_waits_again_and_links_are_limited_per_address_and_customer() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    let address = |n: usize| format!("owner{n}@example.hu");
    assert_eq!(post_preferences(&hub, KEY, "kovacs", &address(1)).await.status(), 200);
    log_when(&hub, "kovacs", 1).await;
    let first = confirmation_links(&mail).await.remove(0);
    // The same address within the hour: no second link.
    assert_eq!(post_preferences(&hub, KEY, "kovacs", &address(1)).await.status(), 200);
    // An hour later it gets a new one, and the old link stops working.
    link_sent_ago(&hub, 3600 * 1000).await;
    assert_eq!(post_preferences(&hub, KEY, "kovacs", &address(1)).await.status(), 200);
    log_when(&hub, "kovacs", 2).await;
    assert_eq!(hub.bare(Method::POST, &first).send().await.unwrap().status(), 404, "replaced by the new link");
    // Each new address gets its link, up to five a day for the customer.
    for n in 2..=6 {
        assert_eq!(post_preferences(&hub, REPORT_KEY, "kovacs", &address(n)).await.status(), 200);
    }
    let log = log_when(&hub, "kovacs", 5).await;
    // Sent in the background, so logged in any order.
    let mut recipients: Vec<&str> = log.iter().map(|e| e["recipient"].as_str().unwrap()).collect();
    recipients.sort();
    assert_eq!(recipients, [address(1), address(1), address(2), address(3), address(4)]);
    assert_eq!(emails(&mail).await.len(), 5);
    // The sixth address waits, without a link, and the operator sees it.
    let waiting = pending(&hub).await;
    assert_eq!(waiting, json!({"email": address(6), "link_sent_at": null, "link_expires_at": null}));
    // The links of the addresses that were replaced confirm nothing.
    for link in confirmation_links(&mail).await {
        assert_eq!(hub.bare(Method::POST, &link).send().await.unwrap().status(), 404, "{link}");
    }
    assert_eq!(hub.get_json("/api/v1/customers/kovacs/preferences", 200).await["email_confirmed"], false);
    hub.stop().await;
}

#[tokio::test]
async fn links_expire_after_seven_days_and_a_wrong_token_reveals_nothing() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    assert_eq!(post_preferences(&hub, KEY, "kovacs", CUSTOMER).await.status(), 200);
    log_when(&hub, "kovacs", 1).await;
    let link = confirmation_links(&mail).await.remove(0);
    let token = link.rsplit('/').next().unwrap();
    let store = hub.state().store().clone();
    let sent = hub.get_json("/api/v1/customers/kovacs", 200).await["email_confirmation"]["link_sent_at"].clone();
    let sent = chrono::DateTime::parse_from_rfc3339(sent.as_str().unwrap()).unwrap().with_timezone(&chrono::Utc);
    let week = chrono::TimeDelta::days(7);
    let almost = sent + week - chrono::TimeDelta::milliseconds(1);
    assert!(hub_api::email_confirm::find_link(&store, token, almost).await.unwrap().is_some());
    assert_eq!(hub_api::email_confirm::follow_link(&store, token, sent + week).await.unwrap(), None, "expired");
    let wrong_case = token.to_uppercase();
    assert_eq!(hub_api::email_confirm::follow_link(&store, &wrong_case, almost).await.unwrap(), None);

    // Unknown tokens, malformed ones and the expired link all get the same page.
    link_sent_ago(&hub, week.num_milliseconds()).await;
    let page_of = |path: String, method: Method| {
        let hub = &hub;
        async move {
            let res = hub.bare(method, &path).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let expired = page_of(link.clone(), Method::POST).await;
    assert_eq!(expired.0, 404);
    assert!(expired.1.contains("A link nem érvényes"), "{}", expired.1);
    let unknown = format!("/api/v1/notifications/confirm/{}", "A".repeat(43));
    for path in [unknown, "/api/v1/notifications/confirm/x".into(), "/api/v1/notifications/confirm/kovacs".into()] {
        for method in [Method::GET, Method::POST] {
            assert_eq!(page_of(path.clone(), method).await, expired, "{path}");
        }
    }
    assert_eq!(hub.get_json("/api/v1/customers/kovacs/preferences", 200).await["email_confirmed"], false);
    let to: Vec<Value> = emails(&mail).await.iter().map(|e| e["to"].clone()).collect();
    assert!(!to.contains(&json!([OPERATOR])));
    hub.stop().await;
}
