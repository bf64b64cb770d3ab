//! The OpenAPI document's frame: its description, tags and security schemes, and what every
//! operation shares and so is written here once instead of in each `#[utoipa::path]` (the 401 of
//! every operation that needs credentials).

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "felhom-hub",
        description = "The central service of the Felhom fleet: controllers push reports and events, \
            the operator watches and manages customers.\n\n\
            Auth scopes: **controller** (a customer's API key as `Authorization: Bearer`, only for \
            its own customer), **global** (`api.report_api_key` as Bearer), **operator** (the \
            `felhom_session` cookie from `POST /api/v1/auth/login`; state-changing requests also \
            need `X-CSRF-Token`), **retrieval password** (a customer's passphrase in \
            `X-Retrieval-Password`, for its config and recovery bundle only). Errors are \
            `{\"ok\":false,\"code\",\"message\",\"error\"}`: `error` repeats `message`, as \
            the original hub answered.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "reports", description = "Controllers push status reports"),
        (name = "customers", description = "The fleet and each customer's latest state and history"),
        (name = "events", description = "Controllers post events; the operator reads the timeline"),
        (name = "notifications", description = "Email preferences, the notification log and the legacy relay"),
        (name = "jobs", description = "Background jobs and their last runs"),
        (name = "auth", description = "Operator sign-in"),
        (name = "configs", description = "Customer configs the operator manages, their credentials, and the audit log"),
        (name = "recovery", description = "Infra backups and disaster recovery with the retrieval password"),
        (name = "health", description = "Liveness and readiness"),
        (name = "assets", description = "App logos and screenshots for controllers, and the operator's uploads"),
    )
)]
pub struct ApiDoc;

/// The four ways to authenticate.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "controller_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A customer's API key; only for that customer"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "global_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The hub's `api.report_api_key`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "retrieval_password",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Retrieval-Password",
                "A customer's retrieval password (four words joined with '-'); wrong ones lock out",
            ))),
        );
        components.add_security_scheme(
            "operator_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::COOKIE_NAME,
                "The operator's session cookie; state-changing requests also send X-CSRF-Token",
            ))),
        );
    }
}

/// What is added once every route is in the document.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            document_unauthorized(operation);
        }
    }
}

/// Every operation that needs credentials answers 401 without valid ones. An operation that
/// documents its own 401 (a wrong retrieval password) keeps it.
fn document_unauthorized(operation: &mut Operation) {
    let schemes: Vec<String> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|requirement| serde_json::to_value(requirement).ok())
        .filter_map(|value| value.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
        .flatten()
        .collect();
    if schemes.is_empty() || operation.responses.responses.contains_key("401") {
        return;
    }
    let key = schemes.iter().any(|s| s == "controller_key" || s == "global_key");
    let session = schemes.iter().any(|s| s == "operator_session");
    let description = match (key, session) {
        (true, true) => "No valid API key and no operator session",
        (true, false) => "Missing or unknown API key",
        _ => "Not signed in, or the session expired",
    };
    let content = ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("ApiError")))).build();
    let response = ResponseBuilder::new().description(description).content("application/json", content).build();
    operation.responses.responses.insert("401".to_string(), RefOr::T(response));
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every operation of the document with its method, path and JSON.
    fn operations() -> Vec<(String, Value)> {
        let doc = serde_json::to_value(crate::router::api().1).unwrap();
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((format!("{} {path}", method.to_uppercase()), op.clone()));
            }
        }
        out
    }

    #[test]
    fn every_operation_that_needs_credentials_documents_its_401() {
        for (name, op) in operations() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let unauthorized = &op["responses"]["401"];
            if secured {
                assert!(!unauthorized.is_null(), "{name}");
                let schema = &unauthorized["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ApiError", "{name}");
            }
        }
    }

    #[test]
    fn an_operations_own_401_is_kept() {
        let ops: std::collections::HashMap<_, _> = operations().into_iter().collect();
        let description = |name: &str| ops[name]["responses"]["401"]["description"].as_str().unwrap().to_string();
        assert!(description("GET /api/v1/recovery/{customer_id}").contains("retrieval password"));
        assert_eq!(description("POST /api/v1/report"), "Missing or unknown API key");
        assert_eq!(description("GET /api/v1/events"), "Not signed in, or the session expired");
        assert_eq!(description("GET /api/v1/customers"), "No valid API key and no operator session");
    }
}
