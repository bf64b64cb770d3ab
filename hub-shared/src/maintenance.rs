//! Maintenance windows (`/api/v1/maintenance`): quiet time for one customer or the whole fleet,
//! once (from a start to an end) or recurring (daily, or weekly on given days, from a local start
//! time for a duration, in the hub's time zone). During a window events are stored and shown but
//! nothing is sent.

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The longest `reason` accepted, in bytes.
pub const REASON_MAX: usize = 500;
/// The longest recurring window, in minutes (a week).
pub const DURATION_MAX_MINUTES: u32 = 7 * 24 * 60;
/// The longest one-time window, in days.
pub const ONCE_MAX_DAYS: i64 = 90;

/// How a window repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    /// From `starts_at` to `ends_at`.
    Once,
    /// Every day from `start_time` for `duration_minutes`.
    Daily,
    /// On `days` from `start_time` for `duration_minutes`.
    Weekly,
}

impl Recurrence {
    pub const ALL: [Recurrence; 3] = [Recurrence::Once, Recurrence::Daily, Recurrence::Weekly];

    pub fn as_str(self) -> &'static str {
        match self {
            Recurrence::Once => "once",
            Recurrence::Daily => "daily",
            Recurrence::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<Recurrence> {
        Recurrence::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A weekday as the API names it (`mon` … `sun`).
pub fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Reads `mon` … `sun`.
pub fn parse_day(s: &str) -> Option<Weekday> {
    let days = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
    days.into_iter().find(|d| day_name(*d) == s)
}

/// `POST` and `PUT /api/v1/maintenance`: a window as the operator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceIn {
    /// The customer it quiets; absent or null: the whole fleet.
    #[serde(default)]
    pub customer_id: Option<String>,
    pub recurrence: Recurrence,
    /// `once`: when it starts.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// `once`: when it ends (after `starts_at`, at most 90 days later).
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// `weekly`: the days it starts on (`mon` … `sun`).
    #[serde(default)]
    pub days: Vec<String>,
    /// `daily`, `weekly`: the local start time, `HH:MM` in `server.timezone`.
    #[serde(default)]
    pub start_time: Option<String>,
    /// `daily`, `weekly`: how long it lasts, 1–10080 minutes.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Why (shown beside the quiet events). 1–500 bytes.
    pub reason: String,
}

/// A window, checked: what the hub stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowPlan {
    pub customer_id: Option<String>,
    pub when: WindowTime,
    pub reason: String,
}

/// When a window is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowTime {
    Once { starts_at: DateTime<Utc>, ends_at: DateTime<Utc> },
    Daily { start: NaiveTime, minutes: u32 },
    Weekly { days: Vec<Weekday>, start: NaiveTime, minutes: u32 },
}

impl MaintenanceIn {
    /// Checks every field; the error is `(field, message)`.
    pub fn validate(&self) -> Result<WindowPlan, (&'static str, String)> {
        let customer_id = match self.customer_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) => {
                crate::validate::customer_id(id).map_err(|m| ("customer_id", m))?;
                Some(id.to_string())
            }
        };
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(("reason", "reason must not be empty".into()));
        }
        crate::validate::max_len("reason", reason, REASON_MAX).map_err(|m| ("reason", m))?;
        let when = match self.recurrence {
            Recurrence::Once => {
                let starts_at = self.starts_at.ok_or(("starts_at", "a one-time window needs starts_at".to_string()))?;
                let ends_at = self.ends_at.ok_or(("ends_at", "a one-time window needs ends_at".to_string()))?;
                if ends_at <= starts_at {
                    return Err(("ends_at", "ends_at must be after starts_at".into()));
                }
                if ends_at - starts_at > chrono::TimeDelta::days(ONCE_MAX_DAYS) {
                    return Err(("ends_at", format!("a one-time window lasts at most {ONCE_MAX_DAYS} days")));
                }
                WindowTime::Once { starts_at, ends_at }
            }
            Recurrence::Daily | Recurrence::Weekly => {
                let text = self.start_time.as_deref().unwrap_or("").trim();
                let start = NaiveTime::parse_from_str(text, "%H:%M")
                    .map_err(|_| ("start_time", format!("start_time must be HH:MM (got {text:?})")))?;
                let minutes = match self.duration_minutes {
                    Some(m @ 1..=DURATION_MAX_MINUTES) => m,
                    _ => {
                        return Err(("duration_minutes", format!("duration_minutes must be 1–{DURATION_MAX_MINUTES}")))
                    }
                };
                if self.recurrence == Recurrence::Daily {
                    WindowTime::Daily { start, minutes }
                } else {
                    let mut days = Vec::new();
                    for d in &self.days {
                        let day = parse_day(d.trim()).ok_or_else(|| {
                            ("days", format!("unknown day {d:?}; accepted: mon, tue, wed, thu, fri, sat, sun"))
                        })?;
                        if !days.contains(&day) {
                            days.push(day);
                        }
                    }
                    if days.is_empty() {
                        return Err(("days", "a weekly window needs at least one day".into()));
                    }
                    days.sort_by_key(|d| d.num_days_from_monday());
                    WindowTime::Weekly { days, start, minutes }
                }
            }
        };
        Ok(WindowPlan { customer_id, when, reason: reason.to_string() })
    }
}

/// A stored window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceWindow {
    pub id: i64,
    /// `null`: the whole fleet.
    pub customer_id: Option<String>,
    pub recurrence: Recurrence,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub days: Vec<String>,
    pub start_time: Option<String>,
    pub duration_minutes: Option<u32>,
    pub reason: String,
    /// Whether it is open now.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MaintenanceWindow {
    /// The window as a request that would write it again (the web app's form).
    pub fn to_request(&self) -> MaintenanceIn {
        MaintenanceIn {
            customer_id: self.customer_id.clone(),
            recurrence: self.recurrence,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            days: self.days.clone(),
            start_time: self.start_time.clone(),
            duration_minutes: self.duration_minutes,
            reason: self.reason.clone(),
        }
    }
}

/// `GET /api/v1/maintenance`: every window, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceList {
    pub windows: Vec<MaintenanceWindow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn once(start: &str, end: &str) -> MaintenanceIn {
        MaintenanceIn {
            customer_id: Some("kovacs".into()),
            recurrence: Recurrence::Once,
            starts_at: Some(start.parse().unwrap()),
            ends_at: Some(end.parse().unwrap()),
            days: vec![],
            start_time: None,
            duration_minutes: None,
            reason: "disk swap".into(),
        }
    }

    fn weekly(days: &[&str], start: &str, minutes: u32) -> MaintenanceIn {
        MaintenanceIn {
            customer_id: None,
            recurrence: Recurrence::Weekly,
            starts_at: None,
            ends_at: None,
            days: days.iter().map(|d| d.to_string()).collect(),
            start_time: Some(start.into()),
            duration_minutes: Some(minutes),
            reason: "patch night".into(),
        }
    }

    #[test]
    fn a_valid_window_is_read_into_its_plan() {
        let plan = once("2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z").validate().unwrap();
        assert_eq!(plan.customer_id.as_deref(), Some("kovacs"));
        let plan = weekly(&["sun", "mon", "sun"], "02:30", 90).validate().unwrap();
        let start = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        assert_eq!(plan.when, WindowTime::Weekly { days: vec![Weekday::Mon, Weekday::Sun], start, minutes: 90 });
        assert_eq!(plan.customer_id, None);
    }

    #[test]
    fn validation_names_the_field() {
        let field = |m: MaintenanceIn| m.validate().unwrap_err().0;
        assert_eq!(field(once("2026-03-29T03:00:00Z", "2026-03-29T03:00:00Z")), "ends_at");
        assert_eq!(field(once("2026-03-29T03:00:00Z", "2026-03-29T01:00:00Z")), "ends_at");
        assert_eq!(field(once("2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z")), "ends_at");
        assert_eq!(
            field(MaintenanceIn { starts_at: None, ..once("2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z") }),
            "starts_at"
        );
        assert_eq!(
            field(MaintenanceIn { customer_id: Some("Bad Id".into()), ..weekly(&["mon"], "02:00", 60) }),
            "customer_id"
        );
        assert_eq!(field(MaintenanceIn { reason: " ".into(), ..weekly(&["mon"], "02:00", 60) }), "reason");
        assert_eq!(field(weekly(&[], "02:00", 60)), "days");
        assert_eq!(field(weekly(&["monday"], "02:00", 60)), "days");
        assert_eq!(field(weekly(&["mon"], "25:00", 60)), "start_time");
        assert_eq!(field(weekly(&["mon"], "02:00", 0)), "duration_minutes");
        assert_eq!(field(weekly(&["mon"], "02:00", DURATION_MAX_MINUTES + 1)), "duration_minutes");
    }
}
