//! Setting a customer's API key and retrieval password to given values (the original hub's):
//! they work exactly like generated ones, only the operator with CSRF may set them, bad values
//! are refused, and neither the audit log nor the database holds them in clear.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const OLD_KEY: &str = "old-go-hub-key-kovacs-0123456789";
const OLD_PASSWORD: &str = "alma-kerék-madár-felhő";
const PATH: &str = "/api/v1/configs/kovacs/credentials";

#[tokio::test]
async fn given_credentials_work_exactly_like_generated_ones() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let created = hub.create_config("kovacs").await;
    let generated_key = created["api_key"].as_str().unwrap().to_string();
    let generated_password = created["retrieval_password"].as_str().unwrap().to_string();

    let body = json!({"api_key": OLD_KEY, "retrieval_password": OLD_PASSWORD});
    let res = hub.send_json(Method::PUT, PATH, &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["customer_id"], "kovacs");

    // The set key posts reports and reads its own customer; the generated one is gone.
    assert_eq!(hub.post_report(OLD_KEY, &report("kovacs")).await.status(), 200);
    assert_eq!(hub.post_report(OLD_KEY, &report("nagy")).await.status(), 403, "only for its own customer");
    assert_eq!(hub.post_report(&generated_key, &report("kovacs")).await.status(), 401);
    // The set password downloads the config (typed without accents too), which carries the key.
    assert_eq!(hub.get_with_password("/api/v1/config/kovacs", &generated_password).await.status(), 401);
    let res = hub.get_with_password("/api/v1/config/kovacs", "alma-kerek-madar-felho").await;
    assert_eq!(res.status(), 200);
    let yaml: serde_yaml::Value = serde_yaml::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(yaml["hub"]["api_key"].as_str(), Some(OLD_KEY));
    let revealed: Value =
        hub.request(Method::POST, "/api/v1/configs/kovacs/reveal").send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (revealed["api_key"].as_str(), revealed["retrieval_password"].as_str()),
        (Some(OLD_KEY), Some(OLD_PASSWORD))
    );

    // Either one alone leaves the other as it was.
    let res = hub.send_json(Method::PUT, PATH, &json!({"retrieval_password": "körte-szilva-barack"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(hub.post_report(OLD_KEY, &report("kovacs")).await.status(), 200);
    assert_eq!(hub.get_with_password("/api/v1/config/kovacs", "korte-szilva-barack").await.status(), 200);

    // Audited, without the values.
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs", 200).await;
    let entries: Vec<&Value> =
        audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "set_credentials").collect();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[1]["summary"], "API key set to a given value; retrieval password set to a given value");
    assert_eq!(entries[0]["summary"], "retrieval password set to a given value");
    let text = audit.to_string();
    assert!(!text.contains(OLD_KEY) && !text.contains("alma") && !text.contains("korte"), "{text}");

    // At rest, sealed and hashed like generated secrets.
    if let Some(db) = hub.db_path.clone() {
        let mut bytes = std::fs::read(&db).unwrap();
        bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
        for secret in [OLD_KEY, OLD_PASSWORD, "korte-szilva-barack", "körte-szilva-barack"] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in clear");
        }
    }
    hub.stop().await;
}

#[tokio::test]
async fn bad_values_are_refused_and_change_nothing() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    hub.create_config("kovacs").await;
    let nagy_key = hub.create_config("nagy").await["api_key"].as_str().unwrap().to_string();
    let cases = [
        (json!({}), 422, "api_key, retrieval_password"),
        (json!({"api_key": "short-key-0123456789"}), 422, "api_key"),
        (json!({"api_key": "a key with spaces in it 0123456789"}), 422, "api_key"),
        (json!({"api_key": REPORT_KEY}), 422, "report_api_key"),
        (json!({"retrieval_password": "abc"}), 422, "retrieval_password"),
        (json!({"api_key": 1234567890}), 422, "api_key"),
        (json!({"api_key": nagy_key}), 409, "nagy"),
    ];
    for (body, status, needle) in cases {
        let res = hub.send_json(Method::PUT, PATH, &body).await;
        assert_eq!(res.status().as_u16(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains(needle), "{needle} not in {err}");
        assert!(!err.to_string().contains("short-key") && !err.to_string().contains(&nagy_key), "{err}");
    }
    let res = hub.send_json(Method::PUT, "/api/v1/configs/nobody/credentials", &json!({"api_key": OLD_KEY})).await;
    assert_eq!(res.status(), 404);
    assert_eq!(hub.post_report(OLD_KEY, &report("nobody")).await.status(), 401);
    assert_eq!(hub.post_report(&nagy_key, &report("nagy")).await.status(), 200, "nagy keeps its key");
    hub.stop().await;
}

#[tokio::test]
async fn only_the_operator_with_csrf_sets_credentials() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let key = hub.create_config("kovacs").await["api_key"].as_str().unwrap().to_string();
    let body = json!({"api_key": OLD_KEY});
    let put = |k: Option<&str>| {
        let req = hub.bare(Method::PUT, PATH).json(&body);
        match k {
            Some(k) => req.bearer_auth(k).send(),
            None => req.send(),
        }
    };
    assert_eq!(put(None).await.unwrap().status(), 401, "no session");
    assert_eq!(put(Some("not-a-key-at-all")).await.unwrap().status(), 401, "a wrong key");
    assert_eq!(put(Some(&key)).await.unwrap().status(), 403, "the customer's own key");
    assert_eq!(put(Some(REPORT_KEY)).await.unwrap().status(), 403, "the global key");
    let no_csrf = hub.client.put(hub.url(PATH)).json(&body).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403, "the cookie without the CSRF token");
    assert_eq!(hub.post_report(OLD_KEY, &report("kovacs")).await.status(), 401, "nothing was set");
    assert_eq!(hub.post_report(&key, &report("kovacs")).await.status(), 200);
    hub.stop().await;
}
