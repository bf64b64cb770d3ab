//! The OpenAPI document checked in at the repository root is what the code generates.

#[test]
fn openapi_json_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = hub_api::router::openapi_json();
    assert!(
        checked_in.trim_end() == generated.trim_end(),
        "openapi.json is stale: run `cargo xtask openapi` and commit the result"
    );
}

#[test]
fn every_operation_states_its_auth_and_errors() {
    let doc: serde_json::Value = serde_json::from_str(&hub_api::router::openapi_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            // A confirmation link's token, in its path, is its credential.
            let public = path == "/healthz"
                || path.starts_with("/api/v1/auth/login")
                || path == "/api/v1/auth/session"
                || path == "/api/v1/notifications/confirm/{token}";
            if !public {
                assert!(op.get("security").is_some(), "{method} {path} states no auth scope");
                assert!(responses.contains_key("401"), "{method} {path} lists no 401");
            }
            if path != "/api/v1/auth/session" {
                assert!(
                    responses.keys().any(|k| k.starts_with('4') || k.starts_with('5')),
                    "{method} {path} lists no error"
                );
            }
        }
    }
}

#[test]
fn the_document_is_valid_openapi_3() {
    let spec = oas3::from_json(hub_api::router::openapi_json()).expect("parses as an OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"));
    let components = spec.components.expect("components");
    for scheme in ["controller_key", "global_key", "operator_session"] {
        assert!(components.security_schemes.contains_key(scheme), "{scheme}");
    }
}
