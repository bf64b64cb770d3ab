//! Who gets an email about an event, decided from what is known, with no I/O:
//! - operator: warning and error events, in English, to `notifications.operator_email` when
//!   `operator_enabled`; at most one per customer and event type per hour;
//! - customer: in Hungarian, to the address of the customer's preferences, for the types the
//!   customer enabled; at most one per customer and type per `cooldown_hours`;
//! - the legacy relay: to the operator like a warning, at most one per customer per minute;
//! - a blocked customer gets nothing (its events are still stored);
//! - a held event (see [`quiet`](super::quiet)) goes to nobody, logged with why;
//! - a reminder of an open alert goes to the operator, with no cooldown.
//!
//! Cooldowns are measured from the last email sent, as the notification log says (`deliver`
//! reads it), so they hold across restarts and replicas. A cooldown has passed exactly when it
//! is as long ago as the cooldown.

use chrono::{DateTime, Utc};
use hub_shared::event::{EventType, Severity};
use hub_shared::notification::{Channel, Preferences};

use super::quiet::Quiet;
use super::templates::Lang;

/// The operator's cooldown per customer and event type.
pub const OPERATOR_COOLDOWN_MS: i64 = 3600 * 1000;
/// The shortest gap between two legacy relays of one customer: an old controller in a loop
/// cannot flood the inbox.
pub const LEGACY_COOLDOWN_MS: i64 = 60_000;
const HOUR_MS: i64 = 3600 * 1000;

/// The operator's channel as configured (`notifications.operator_enabled`, `operator_email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorChannel {
    pub enabled: bool,
    pub email: String,
}

/// Why an email is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Blocked,
    Disabled,
    NoAddress,
    Cooldown,
    Held(Quiet),
}

impl Reason {
    /// The reason as the notification log shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Blocked => "blocked",
            Reason::Disabled => "disabled",
            Reason::NoAddress => "no_address",
            Reason::Cooldown => "cooldown",
            Reason::Held(quiet) => quiet.as_str(),
        }
    }
}

/// What to do on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Skip { recipient: String, reason: Reason },
    Send { to: String, lang: Lang },
}

/// When the last email about this customer and event type went out on each channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastSent {
    pub operator: Option<DateTime<Utc>>,
    pub customer: Option<DateTime<Utc>>,
}

/// What is known when an event is decided.
#[derive(Debug, Clone)]
pub struct EventFacts<'a> {
    pub event_type: EventType,
    pub severity: Severity,
    pub blocked: bool,
    pub preferences: Option<&'a Preferences>,
    pub last_sent: LastSent,
    /// Why the event is held, if it is.
    pub quiet: Option<Quiet>,
}

/// The decisions about one stored event at `now`: the operator's (warnings and errors only),
/// then the customer's; a held event is a skip on both.
pub fn decide_event(
    facts: &EventFacts<'_>,
    operator: &OperatorChannel,
    now: DateTime<Utc>,
) -> Vec<(Channel, Decision)> {
    let mut decisions = Vec::with_capacity(2);
    if facts.severity >= Severity::Warning {
        let decision = to_operator(facts.blocked, operator, OPERATOR_COOLDOWN_MS, facts.last_sent.operator, now);
        decisions.push((Channel::Operator, decision));
    }
    decisions.push((Channel::Customer, to_customer(facts, now)));
    if let Some(quiet) = facts.quiet {
        for (_, decision) in &mut decisions {
            *decision = skip("", Reason::Held(quiet));
        }
    }
    decisions
}

/// The decision about a reminder of an open alert of a customer: to the operator, no cooldown.
pub fn decide_reminder(blocked: bool, operator: &OperatorChannel) -> Decision {
    to_operator(blocked, operator, 0, None, DateTime::<Utc>::MIN_UTC)
}

/// The decision about a legacy relay of a customer at `now`, given its last relay sent.
pub fn decide_relay(
    blocked: bool,
    operator: &OperatorChannel,
    last_sent: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Decision {
    to_operator(blocked, operator, LEGACY_COOLDOWN_MS, last_sent, now)
}

/// The operator's channel, the same for events and relays but for the cooldown.
fn to_operator(
    blocked: bool,
    operator: &OperatorChannel,
    cooldown_ms: i64,
    last_sent: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Decision {
    if blocked {
        skip("", Reason::Blocked)
    } else if !operator.enabled {
        skip(&operator.email, Reason::Disabled)
    } else if operator.email.trim().is_empty() {
        skip("", Reason::NoAddress)
    } else {
        unless_cooling(&operator.email, Lang::En, cooldown_ms, last_sent, now)
    }
}

fn to_customer(facts: &EventFacts<'_>, now: DateTime<Utc>) -> Decision {
    match facts.preferences {
        _ if facts.blocked => skip("", Reason::Blocked),
        None => skip("", Reason::NoAddress),
        Some(p) if p.email.trim().is_empty() => skip("", Reason::NoAddress),
        Some(p) if !p.enabled_events.contains(&facts.event_type) => skip(&p.email, Reason::Disabled),
        Some(p) => {
            let cooldown_ms = i64::from(p.cooldown_hours) * HOUR_MS;
            unless_cooling(&p.email, Lang::Hu, cooldown_ms, facts.last_sent.customer, now)
        }
    }
}

/// A send to `to`, or a skip while the last email is less than `cooldown_ms` ago.
fn unless_cooling(
    to: &str,
    lang: Lang,
    cooldown_ms: i64,
    last_sent: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Decision {
    match last_sent {
        Some(at) if cooldown_ms > 0 && (now - at).num_milliseconds() < cooldown_ms => skip(to, Reason::Cooldown),
        _ => Decision::Send { to: to.to_string(), lang },
    }
}

fn skip(recipient: &str, reason: Reason) -> Decision {
    Decision::Skip { recipient: recipient.to_string(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATOR: &str = "ops@felhom.eu";
    const CUSTOMER: &str = "kovacs@example.hu";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn ago(ms: i64) -> Option<DateTime<Utc>> {
        Some(now() - chrono::TimeDelta::milliseconds(ms))
    }

    fn operator() -> OperatorChannel {
        OperatorChannel { enabled: true, email: OPERATOR.into() }
    }

    fn prefs(enabled: &[EventType], cooldown_hours: u32) -> Preferences {
        Preferences {
            customer_id: "kovacs".into(),
            email: CUSTOMER.into(),
            enabled_events: enabled.to_vec(),
            cooldown_hours,
            updated_at: now(),
        }
    }

    fn facts(severity: Severity, preferences: Option<&Preferences>) -> EventFacts<'_> {
        EventFacts {
            event_type: EventType::BackupFailed,
            severity,
            blocked: false,
            preferences,
            last_sent: LastSent::default(),
            quiet: None,
        }
    }

    fn send(to: &str, lang: Lang) -> Decision {
        Decision::Send { to: to.into(), lang }
    }

    /// Last emails just before, exactly at and just after the end of `cooldown_ms`, and none,
    /// with what each leads to: skipped, then sent.
    fn around(cooldown_ms: i64, to: &str, lang: Lang) -> [(Option<DateTime<Utc>>, Decision); 4] {
        [
            (ago(cooldown_ms - 1), skip(to, Reason::Cooldown)),
            (ago(cooldown_ms), send(to, lang)),
            (ago(cooldown_ms + 1), send(to, lang)),
            (None, send(to, lang)),
        ]
    }

    fn operator_of(facts: &EventFacts<'_>, operator: &OperatorChannel) -> Option<Decision> {
        decide_event(facts, operator, now()).into_iter().find(|(c, _)| *c == Channel::Operator).map(|(_, d)| d)
    }

    fn customer_of(facts: &EventFacts<'_>) -> Decision {
        let decisions = decide_event(facts, &operator(), now());
        decisions.into_iter().find(|(c, _)| *c == Channel::Customer).map(|(_, d)| d).unwrap()
    }

    #[test]
    fn warnings_and_errors_go_to_the_operator_in_english_and_info_does_not() {
        let p = prefs(&[EventType::BackupFailed], 6);
        for severity in [Severity::Warning, Severity::Error] {
            let decisions = decide_event(&facts(severity, Some(&p)), &operator(), now());
            assert_eq!(
                decisions,
                vec![(Channel::Operator, send(OPERATOR, Lang::En)), (Channel::Customer, send(CUSTOMER, Lang::Hu))]
            );
        }
        let decisions = decide_event(&facts(Severity::Info, Some(&p)), &operator(), now());
        assert_eq!(decisions, vec![(Channel::Customer, send(CUSTOMER, Lang::Hu))], "no operator decision is logged");
    }

    #[test]
    fn a_blocked_customer_gets_nothing_on_either_channel() {
        let p = prefs(&[EventType::BackupFailed], 6);
        let mut f = facts(Severity::Error, Some(&p));
        f.blocked = true;
        let blocked = skip("", Reason::Blocked);
        assert_eq!(
            decide_event(&f, &operator(), now()),
            vec![(Channel::Operator, blocked.clone()), (Channel::Customer, blocked.clone())]
        );
        assert_eq!(decide_relay(true, &operator(), None, now()), blocked);
    }

    #[test]
    fn the_operator_channel_can_be_off_or_without_an_address() {
        let f = facts(Severity::Error, None);
        let off = OperatorChannel { enabled: false, email: OPERATOR.into() };
        assert_eq!(operator_of(&f, &off), Some(skip(OPERATOR, Reason::Disabled)));
        assert_eq!(decide_relay(false, &off, None, now()), skip(OPERATOR, Reason::Disabled));
        let nobody = OperatorChannel { enabled: true, email: "  ".into() };
        assert_eq!(operator_of(&f, &nobody), Some(skip("", Reason::NoAddress)));
        assert_eq!(decide_relay(false, &nobody, None, now()), skip("", Reason::NoAddress));
    }

    #[test]
    fn the_customer_needs_preferences_an_address_and_the_type_enabled() {
        assert_eq!(customer_of(&facts(Severity::Info, None)), skip("", Reason::NoAddress));
        let mut no_address = prefs(&[EventType::BackupFailed], 6);
        no_address.email = " ".into();
        assert_eq!(customer_of(&facts(Severity::Info, Some(&no_address))), skip("", Reason::NoAddress));
        let other_type = prefs(&[EventType::NodeDown], 6);
        assert_eq!(customer_of(&facts(Severity::Info, Some(&other_type))), skip(CUSTOMER, Reason::Disabled));
        let none_enabled = prefs(&[], 6);
        assert_eq!(customer_of(&facts(Severity::Error, Some(&none_enabled))), skip(CUSTOMER, Reason::Disabled));
    }

    #[test]
    fn the_operator_cooldown_is_one_hour() {
        let mut f = facts(Severity::Error, None);
        for (last, expected) in around(OPERATOR_COOLDOWN_MS, OPERATOR, Lang::En) {
            f.last_sent.operator = last;
            assert_eq!(operator_of(&f, &operator()), Some(expected), "last sent {last:?}");
        }
        // The customer's emails do not hold the operator's back.
        f.last_sent = LastSent { operator: None, customer: ago(1) };
        assert_eq!(operator_of(&f, &operator()), Some(send(OPERATOR, Lang::En)));
    }

    #[test]
    fn the_customer_cooldown_is_the_customers_hours() {
        for hours in [1, 6, 168] {
            let p = prefs(&[EventType::BackupFailed], hours);
            let cooldown = i64::from(hours) * HOUR_MS;
            let mut f = facts(Severity::Info, Some(&p));
            for (last, expected) in around(cooldown, CUSTOMER, Lang::Hu) {
                f.last_sent.customer = last;
                assert_eq!(customer_of(&f), expected, "{hours} h, last sent {last:?}");
            }
            f.last_sent = LastSent { operator: ago(1), customer: None };
            assert_eq!(customer_of(&f), send(CUSTOMER, Lang::Hu), "the operator's emails do not count");
        }
    }

    #[test]
    fn the_legacy_relay_waits_a_minute() {
        for (last, expected) in around(LEGACY_COOLDOWN_MS, OPERATOR, Lang::En) {
            assert_eq!(decide_relay(false, &operator(), last, now()), expected, "last sent {last:?}");
        }
    }

    #[test]
    fn a_last_email_in_the_future_still_cools_down() {
        // Another replica's clock ran ahead: its email still counts as just sent.
        let mut f = facts(Severity::Error, None);
        f.last_sent.operator = ago(-5_000);
        assert_eq!(operator_of(&f, &operator()), Some(skip(OPERATOR, Reason::Cooldown)));
    }

    #[test]
    fn a_held_event_goes_to_nobody_and_says_why() {
        let p = prefs(&[EventType::BackupFailed], 6);
        let mut f = facts(Severity::Error, Some(&p));
        f.quiet = Some(Quiet::Maintenance);
        let held = skip("", Reason::Held(Quiet::Maintenance));
        assert_eq!(
            decide_event(&f, &operator(), now()),
            vec![(Channel::Operator, held.clone()), (Channel::Customer, held)]
        );
        assert_eq!(Reason::Held(Quiet::Storm).as_str(), "storm");
    }

    #[test]
    fn a_reminder_goes_to_the_operator_without_a_cooldown() {
        assert_eq!(decide_reminder(false, &operator()), send(OPERATOR, Lang::En));
        assert_eq!(decide_reminder(true, &operator()), skip("", Reason::Blocked));
    }

    #[test]
    fn skip_reasons_are_named_as_the_log_shows_them() {
        let names: Vec<&str> =
            [Reason::Blocked, Reason::Disabled, Reason::NoAddress, Reason::Cooldown].map(Reason::as_str).to_vec();
        assert_eq!(names, ["blocked", "disabled", "no_address", "cooldown"]);
    }
}
