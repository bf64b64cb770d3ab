//! The live stream (`GET /api/v1/stream`): what happened on the fleet, one Server-Sent Event
//! each. The SSE `id` is the message's `id` (send it back as `Last-Event-ID` to resume), the SSE
//! `event` its `kind`, and the `data` this message as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// A customer's node reported: its status may have changed.
    Status,
    /// A new event was stored.
    Event,
    /// A background job finished a run.
    Job,
}

impl StreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Status => "status",
            StreamKind::Event => "event",
            StreamKind::Job => "job",
        }
    }

    pub fn parse(s: &str) -> Option<StreamKind> {
        [StreamKind::Status, StreamKind::Event, StreamKind::Job].into_iter().find(|k| k.as_str() == s)
    }
}

/// One message of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamMessage {
    pub id: i64,
    pub kind: StreamKind,
    /// The customer it is about (`null` for a job run).
    pub customer_id: Option<String>,
    /// `status`: `health`, `reported_at`; `event`: `event_id`, `event_type`, `severity`,
    /// `message`; `job`: `job`, `ok`, `message`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}
