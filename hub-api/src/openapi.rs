//! The OpenAPI document's frame: its description, tags and security schemes, and what every
//! operation shares and so is written here once instead of in each `#[utoipa::path]`: the 401 of
//! every operation that needs credentials, the answers of every JSON body, the customer id rule
//! and the rules of the event filters and asset names.

use hub_shared::assets::ASSET_NAME_PATTERN;
use hub_shared::event::EventQuery;
use hub_shared::validate::CUSTOMER_ID_PATTERN;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Schema};
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
            `X-Retrieval-Password`, for its config and recovery bundle only), **metrics token** \
            (`metrics.token` as Bearer, for `GET /metrics` only). Errors are \
            `{\"ok\":false,\"code\",\"message\",\"error\"}`: `error` repeats `message`, as \
            the original hub answered.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    // The stream's events carry it as JSON text; generated clients parse it with this schema.
    components(schemas(hub_shared::stream::StreamMessage)),
    tags(
        (name = "reports", description = "Controllers push status reports"),
        (name = "customers", description = "The fleet and each customer's latest state and history"),
        (name = "events", description = "Controllers post events; the operator reads the timeline"),
        (name = "notifications", description = "Email preferences, the notification log, channel tests and the legacy relay"),
        (name = "stream", description = "The live stream of status changes, events and job runs (Server-Sent Events)"),
        (name = "jobs", description = "Background jobs and their last runs"),
        (name = "rollouts", description = "Staged rollouts of a controller version across the fleet"),
        (name = "auth", description = "Operator sign-in"),
        (name = "configs", description = "Customer configs the operator manages, their credentials, and the audit log"),
        (name = "controllers", description = "Acting on a customer's controller: push, diff, pull, update, and accepting a changed controller address"),
        (name = "recovery", description = "Infra backups and disaster recovery with the retrieval password"),
        (name = "health", description = "Liveness, readiness and Prometheus metrics"),
        (name = "assets", description = "App logos and screenshots for controllers, and the operator's uploads"),
    )
)]
pub struct ApiDoc;

/// The five ways to authenticate.
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
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The hub's `metrics.token`, for `GET /metrics` only"))
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
            document_json_errors(operation);
            for parameter in operation.parameters.iter_mut().flatten() {
                let rule = match (&parameter.parameter_in, parameter.name.as_str()) {
                    (ParameterIn::Path, "id" | "customer_id") | (ParameterIn::Query, "customer_id") => {
                        CUSTOMER_ID_PATTERN.to_string()
                    }
                    (ParameterIn::Path, "filename") => ASSET_NAME_PATTERN.to_string(),
                    (ParameterIn::Query, "severity") => EventQuery::severity_pattern(),
                    (ParameterIn::Query, "type") => EventQuery::type_pattern(),
                    _ => continue,
                };
                if let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema {
                    schema.pattern = Some(rule);
                }
            }
        }
    }
    for schema in doc.components.iter_mut().flat_map(|c| c.schemas.values_mut()) {
        let objects: Vec<&mut RefOr<Schema>> = match schema {
            RefOr::T(Schema::AllOf(all)) => all.items.iter_mut().collect(),
            other => vec![other],
        };
        for object in objects {
            if let RefOr::T(Schema::Object(object)) = object {
                for (name, property) in object.properties.iter_mut() {
                    if name == "customer_id" {
                        constrain_customer_id(property);
                    }
                }
            }
        }
    }
}

/// A documented answer with the `ApiError` body.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("ApiError")))).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
}

/// Every JSON body is read by `ApiJson`, which answers these; an operation that words one of
/// them for itself keeps its wording.
fn document_json_errors(operation: &mut Operation) {
    let takes_json = operation.request_body.as_ref().is_some_and(|body| body.content.contains_key("application/json"));
    if !takes_json {
        return;
    }
    for (status, description) in [
        ("400", "Malformed JSON"),
        ("413", "The body is too large"),
        ("415", "Not sent as `Content-Type: application/json`"),
        ("422", "A field is missing or invalid; the message names it"),
    ] {
        operation.responses.responses.entry(status.to_string()).or_insert_with(|| error_response(description));
    }
}

/// Customer ids, in paths, queries and bodies, carry the id rule, so clients and property-based tests
/// know which ids are well-formed (others are answered 400 or 422, or 404 where an unknown and
/// a malformed id are not told apart). Only string schemas change: a numeric `id` is not one.
fn constrain_customer_id(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::Object(object)) = schema {
        let is_string = serde_json::to_value(&object.schema_type)
            .is_ok_and(|t| t == "string" || t.as_array().is_some_and(|a| a.contains(&"string".into())));
        if is_string {
            object.pattern = Some(CUSTOMER_ID_PATTERN.to_string());
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
    operation.responses.responses.insert("401".to_string(), error_response(description));
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

    #[test]
    fn schemas_of_one_name_are_not_merged() {
        // utoipa keeps one schema per name: `/healthz` once answered the report's `Health` enum.
        let doc = serde_json::to_value(crate::router::api().1).unwrap();
        let schemas = &doc["components"]["schemas"];
        let healthz = &doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        let name = healthz["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
        assert!(schemas[name]["properties"]["database"].is_object(), "{name}: {}", schemas[name]);
        assert_eq!(schemas["Health"]["enum"], serde_json::json!(["ok", "warn", "fail"]));
    }

    #[test]
    fn customer_ids_and_json_bodies_are_documented_once_for_all() {
        let ops: std::collections::HashMap<_, _> = operations().into_iter().collect();
        let login = &ops["POST /api/v1/auth/login"]["responses"];
        for status in ["400", "413", "415", "422"] {
            assert!(login[status].is_object(), "login documents {status}");
        }
        let id = &ops["GET /api/v1/customers/{id}"]["parameters"][0]["schema"]["pattern"];
        assert_eq!(id, hub_shared::validate::CUSTOMER_ID_PATTERN);
        let doc = serde_json::to_value(crate::router::api().1).unwrap();
        let body = &doc["components"]["schemas"]["EventIn"]["properties"]["customer_id"]["pattern"];
        assert_eq!(body, hub_shared::validate::CUSTOMER_ID_PATTERN);
    }
}
