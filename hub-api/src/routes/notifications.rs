//! Notification preferences (set by the controller), the notification log (read by the
//! operator), a test message through a configured channel, and the legacy relay
//! `POST /api/v1/notify`.

use axum::extract::State;
use axum::Json;
use hub_shared::audit::AuditAction;
use hub_shared::notification::{
    ChannelTestIn, ChannelTestResult, NotificationPage, NotifyAccepted, NotifyIn, Outcome, Preferences, PreferencesIn,
};
use hub_shared::page::{next_before, PageQuery};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::{page_limit, ApiJson, ApiQuery, ClientIp, CustomerId};
use crate::notify::deliver::relay_legacy;
use crate::state::AppState;
use crate::store::AuditRecord;

/// Set a customer's email preferences.
///
/// Replaces what was stored. `enabled_events` may name any of the 31 types.
#[utoipa::path(
    post, path = "/api/v1/preferences", tag = "notifications",
    request_body = PreferencesIn,
    security(("controller_key" = []), ("global_key" = [])),
    responses(
        (status = 200, description = "Stored", body = Preferences),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 403, description = "A customer's key posting for another customer, or an operator", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "Not an address, an unknown type, or cooldown_hours outside 1–168", body = ApiError),
    )
)]
pub async fn post_preferences(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<PreferencesIn>,
) -> Result<Json<Preferences>> {
    let prefs = body.value;
    let types = prefs.validate().map_err(|(field, msg)| AppError::invalid(field, msg))?;
    caller.require_controller_for(&prefs.customer_id)?;
    let stored = Preferences {
        customer_id: prefs.customer_id,
        email: prefs.email.trim().to_string(),
        enabled_events: types,
        cooldown_hours: prefs.cooldown_hours,
        // Milliseconds, as stored and as a later read shows it.
        updated_at: chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3),
    };
    state.store().upsert_preferences(&stored).await?;
    Ok(Json(stored))
}

/// A customer's email preferences.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/preferences", tag = "notifications",
    params(("id" = String, Path, description = "Customer id")),
    security(("operator_session" = []), ("global_key" = []), ("controller_key" = [])),
    responses(
        (status = 200, body = Preferences),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Another customer's key", body = ApiError),
        (status = 404, description = "No preferences set", body = ApiError),
    )
)]
pub async fn get_preferences(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
) -> Result<Json<Preferences>> {
    caller.require_read(&id)?;
    let stored = state
        .store()
        .preferences(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no preferences for {id:?}")))?;
    Ok(Json(stored))
}

/// One customer's notification log, newest first: every decision with its channel.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/notifications", tag = "notifications",
    params(("id" = String, Path, description = "Customer id"), PageQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = NotificationPage),
        (status = 400, description = "Malformed id or limit", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<NotificationPage>> {
    caller.require_operator()?;
    let limit = page_limit(&page)?;
    let entries = state.store().notification_log(&id, page.before, i64::from(limit)).await?;
    let next_before = next_before(&entries, limit, |e| e.id);
    Ok(Json(NotificationPage { entries, next_before }))
}

/// Relay a message to the operator (legacy).
///
/// The original hub's relay, kept for old controllers: the subject and message go to the
/// operator's address in the background, logged as event type `legacy`. With the global key,
/// `customer_id` is required; with a customer's key it defaults to that customer.
#[utoipa::path(
    post, path = "/api/v1/notify", tag = "notifications",
    request_body = NotifyIn,
    security(("controller_key" = []), ("global_key" = [])),
    responses(
        (status = 200, description = "Queued", body = NotifyAccepted),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 403, description = "A customer's key naming another customer, or an operator", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is missing or too long", body = ApiError),
        (status = 429, description = "Too many relays being delivered at once, or too many events and notifications for this customer (see Retry-After)", body = ApiError),
    )
)]
pub async fn post_notify(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<NotifyIn>,
) -> Result<Json<NotifyAccepted>> {
    let msg = body.value;
    let customer_id = match (&msg.customer_id, &caller) {
        (Some(id), _) => id.clone(),
        (None, Caller::Controller { customer_id }) => customer_id.clone(),
        (None, Caller::Operator { .. }) => {
            return Err(AppError::Forbidden("this endpoint needs a controller's API key".into()))
        }
        (None, _) => return Err(AppError::invalid("customer_id", "customer_id is required with the global key")),
    };
    hub_shared::validate::customer_id(&customer_id).map_err(|m| AppError::invalid("customer_id", m))?;
    caller.require_controller_for(&customer_id)?;
    if msg.subject.trim().is_empty() {
        return Err(AppError::invalid("subject", "subject must not be empty"));
    }
    hub_shared::validate::max_len("subject", &msg.subject, 200).map_err(|m| AppError::invalid("subject", m))?;
    hub_shared::validate::max_len("message", &msg.message, hub_shared::event::DETAILS_MAX)
        .map_err(|m| AppError::invalid("message", m))?;
    state.limit_events(&customer_id, chrono::Utc::now().timestamp_millis())?;
    let Ok(slot) = state.notifier().relay_slots.clone().try_acquire_owned() else {
        return Err(AppError::TooManyRequests("too many notifications are being delivered; try again later".into()));
    };
    let tracked = state.clone();
    tracked.tasks().spawn(async move {
        let _slot = slot;
        let relayed = relay_legacy(state.store(), state.notifier(), &customer_id, &msg, chrono::Utc::now()).await;
        if let Err(e) = relayed {
            tracing::warn!(error = format!("{e:#}"), "legacy notification failed");
        }
    });
    Ok(Json(NotifyAccepted { ok: true }))
}

/// Send a test message through a configured channel.
///
/// The channel is named as in `notifications.channels`; the answer says whether the message
/// went out. Audited.
#[utoipa::path(
    post, path = "/api/v1/notifications/test", tag = "notifications",
    request_body = ChannelTestIn,
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "Sent", body = ChannelTestResult),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No channel of that name", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "`channel` is missing", body = ApiError),
        (status = 502, description = "The channel did not take the message; `message` says why", body = ApiError),
    )
)]
pub async fn test_channel(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    body: ApiJson<ChannelTestIn>,
) -> Result<Json<ChannelTestResult>> {
    caller.require_operator()?;
    let name = body.value.channel;
    let channel = state
        .notifier()
        .channel(&name)
        .ok_or_else(|| AppError::NotFound(format!("no notification channel named {name:?}")))?;
    let now = chrono::Utc::now();
    let alert = crate::notify::channels::test_alert(&state.notifier().settings.hub_url, now);
    let sent = channel.send(&alert).await;
    let kind = channel.spec.kind_name();
    let summary = match &sent {
        Ok(()) => format!("test message through channel {name} ({kind}): sent"),
        Err(e) => format!("test message through channel {name} ({kind}): failed: {e}"),
    };
    let record = AuditRecord {
        at: now.timestamp_millis(),
        actor: "operator",
        action: AuditAction::TestNotification.as_str(),
        customer_id: None,
        summary,
        client_ip: Some(ip.0.to_string()),
    };
    state.store().audit(&record).await?;
    sent.map_err(|e| AppError::BadGateway(format!("channel {name:?} ({kind}) failed: {e}")))?;
    Ok(Json(ChannelTestResult {
        channel: name,
        kind: kind.to_string(),
        recipient: channel.recipient(),
        outcome: Outcome::Sent,
    }))
}
