//! Confirming a customer's preference address, decided from what is known, with no I/O.
//!
//! A new or changed address gets one confirmation link (a Hungarian email) and nothing else until
//! its owner follows it (the customer channel in [`rules`](super::rules) skips it as
//! `unconfirmed`). So that a stranger with the global key cannot turn the link into a mail cannon:
//! - the same address gets a link at most once per [`RESEND_AFTER_MS`];
//! - a customer gets at most [`PER_WINDOW`] links per [`WINDOW_MS`], whatever the addresses;
//! - a blocked customer gets none.
//!
//! A link works for [`LINK_TTL_MS`] after it was sent, once.

use chrono::{DateTime, TimeDelta, Utc};

use crate::store::ConfirmState;

const HOUR_MS: i64 = 3600 * 1000;
/// How long a confirmation link works.
pub const LINK_TTL_MS: i64 = 7 * 24 * HOUR_MS;
/// The shortest gap between two links to the same address.
pub const RESEND_AFTER_MS: i64 = HOUR_MS;
/// The window in which a customer's links are counted, and how many it may have.
pub const WINDOW_MS: i64 = 24 * HOUR_MS;
pub const PER_WINDOW: u32 = 5;

/// Why no link is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The address is confirmed: nothing to confirm.
    Confirmed,
    Blocked,
    /// This address got a link less than [`RESEND_AFTER_MS`] ago.
    SentRecently,
    /// The customer had its [`PER_WINDOW`] links of the window.
    WindowFull,
}

/// What to do about the confirmation of a customer's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDecision {
    Hold(Hold),
    /// Send a link, counted as the `window_sent`th of the window that started at `window_start`.
    Send {
        window_start: DateTime<Utc>,
        window_sent: u32,
    },
}

/// Whether the address of preferences `confirmed` (or not), in `state`, gets a link at `now`.
pub fn decide_link(confirmed: bool, blocked: bool, state: &ConfirmState, now: DateTime<Utc>) -> LinkDecision {
    let within = |at: DateTime<Utc>, ms: i64| (now - at).num_milliseconds() < ms;
    if confirmed {
        return LinkDecision::Hold(Hold::Confirmed);
    }
    if blocked {
        return LinkDecision::Hold(Hold::Blocked);
    }
    if state.link_sent_at.is_some_and(|at| within(at, RESEND_AFTER_MS)) {
        return LinkDecision::Hold(Hold::SentRecently);
    }
    match state.window_start {
        Some(start) if within(start, WINDOW_MS) => {
            if state.window_sent >= PER_WINDOW {
                LinkDecision::Hold(Hold::WindowFull)
            } else {
                LinkDecision::Send { window_start: start, window_sent: state.window_sent + 1 }
            }
        }
        _ => LinkDecision::Send { window_start: now, window_sent: 1 },
    }
}

/// When a link sent at `sent_at` stops working.
pub fn link_expires_at(sent_at: DateTime<Utc>) -> DateTime<Utc> {
    sent_at + TimeDelta::milliseconds(LINK_TTL_MS)
}

/// Whether a link sent at `sent_at` still works at `now`.
pub fn link_works(sent_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < link_expires_at(sent_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn ago(ms: i64) -> DateTime<Utc> {
        now() - TimeDelta::milliseconds(ms)
    }

    fn state(
        link_sent_at: Option<DateTime<Utc>>,
        window_start: Option<DateTime<Utc>>,
        window_sent: u32,
    ) -> ConfirmState {
        ConfirmState { link_sent_at, window_start, window_sent, version: 3 }
    }

    #[test]
    fn a_new_address_gets_a_link_that_opens_a_window() {
        assert_eq!(
            decide_link(false, false, &state(None, None, 0), now()),
            LinkDecision::Send { window_start: now(), window_sent: 1 }
        );
    }

    #[test]
    fn confirmed_addresses_and_blocked_customers_get_no_link() {
        assert_eq!(decide_link(true, false, &state(None, None, 0), now()), LinkDecision::Hold(Hold::Confirmed));
        assert_eq!(decide_link(false, true, &state(None, None, 0), now()), LinkDecision::Hold(Hold::Blocked));
    }

    #[test]
    fn the_same_address_gets_a_link_at_most_once_an_hour() {
        let window = Some(ago(RESEND_AFTER_MS));
        for (sent, expected) in [
            (ago(RESEND_AFTER_MS - 1), LinkDecision::Hold(Hold::SentRecently)),
            (ago(-5_000), LinkDecision::Hold(Hold::SentRecently)),
            (ago(RESEND_AFTER_MS), LinkDecision::Send { window_start: ago(RESEND_AFTER_MS), window_sent: 2 }),
        ] {
            assert_eq!(decide_link(false, false, &state(Some(sent), window, 1), now()), expected, "sent {sent}");
        }
    }

    #[test]
    fn a_customer_gets_at_most_five_links_a_day_whatever_the_addresses() {
        let start = Some(ago(WINDOW_MS - 1));
        assert_eq!(
            decide_link(false, false, &state(None, start, PER_WINDOW - 1), now()),
            LinkDecision::Send { window_start: ago(WINDOW_MS - 1), window_sent: PER_WINDOW }
        );
        assert_eq!(
            decide_link(false, false, &state(None, start, PER_WINDOW), now()),
            LinkDecision::Hold(Hold::WindowFull)
        );
        // A day after the window opened, a new one starts.
        assert_eq!(
            decide_link(false, false, &state(None, Some(ago(WINDOW_MS)), PER_WINDOW), now()),
            LinkDecision::Send { window_start: now(), window_sent: 1 }
        );
    }

    #[test]
    fn a_link_works_for_seven_days() {
        assert!(link_works(ago(LINK_TTL_MS - 1), now()));
        assert!(!link_works(ago(LINK_TTL_MS), now()));
        assert!(link_works(ago(-5_000), now()), "a link from a replica whose clock runs ahead");
        assert_eq!(link_expires_at(ago(0)), now() + TimeDelta::days(7));
    }
}
