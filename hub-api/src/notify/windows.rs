//! Which maintenance windows are open at an instant, with no I/O. A recurring window starts at
//! its local start time in `server.timezone` on each of its days (a start in the spring-forward
//! gap starts at the first instant after it; one that occurs twice in autumn at the first) and
//! lasts its duration in real minutes.

use chrono::{DateTime, Datelike, Days, TimeDelta, Utc};
use chrono_tz::Tz;
use hub_shared::maintenance::WindowTime;

use crate::jobs::schedule::daily_instant;
use crate::store::WindowRow;

/// The windows of `windows` that quiet `customer_id` at `now`: its own and the fleet's.
pub fn active_windows<'a>(
    windows: &'a [WindowRow],
    customer_id: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<&'a WindowRow> {
    windows
        .iter()
        .filter(|w| w.plan.customer_id.as_deref().is_none_or(|id| id == customer_id))
        .filter(|w| is_open(&w.plan.when, now, tz))
        .collect()
}

/// Whether a window is open at `now`.
pub fn is_open(when: &WindowTime, now: DateTime<Utc>, tz: Tz) -> bool {
    let (days, start, minutes) = match when {
        WindowTime::Once { starts_at, ends_at } => return *starts_at <= now && now < *ends_at,
        WindowTime::Daily { start, minutes } => (None, start, *minutes),
        WindowTime::Weekly { days, start, minutes } => (Some(days), start, *minutes),
    };
    let today = now.with_timezone(&tz).date_naive();
    // A window that started on an earlier day may still be open: look back as many days as it
    // lasts, and one more for a start late in the evening.
    let back = u64::from(minutes / (24 * 60)) + 1;
    (0..=back).filter_map(|n| today.checked_sub_days(Days::new(n))).any(|day| {
        if days.is_some_and(|days| !days.contains(&day.weekday())) {
            return false;
        }
        let opens = daily_instant(day, *start, tz);
        opens <= now && now < opens + TimeDelta::minutes(i64::from(minutes))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, Weekday};
    use chrono_tz::Europe::Budapest;
    use hub_shared::maintenance::WindowPlan;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn window(id: i64, customer_id: Option<&str>, when: WindowTime) -> WindowRow {
        let plan = WindowPlan { customer_id: customer_id.map(str::to_string), when, reason: "patching".into() };
        WindowRow { id, plan, created_at: utc("2026-01-01T00:00:00Z"), updated_at: utc("2026-01-01T00:00:00Z") }
    }

    /// Whether `when` is open at each instant, in order.
    fn open_at(when: &WindowTime, instants: &[&str]) -> Vec<bool> {
        instants.iter().map(|t| is_open(when, utc(t), Budapest)).collect()
    }

    #[test]
    fn a_one_time_window_is_open_from_its_start_until_its_end() {
        let when = WindowTime::Once { starts_at: utc("2026-05-10T08:00:00Z"), ends_at: utc("2026-05-10T10:00:00Z") };
        let instants = ["2026-05-10T07:59:59Z", "2026-05-10T08:00:00Z", "2026-05-10T09:59:59Z", "2026-05-10T10:00:00Z"];
        assert_eq!(open_at(&when, &instants), [false, true, true, false]);
    }

    #[test]
    fn a_daily_window_follows_local_time_in_winter_and_summer() {
        let when = WindowTime::Daily { start: at(2, 0), minutes: 60 };
        // 02:00 local is 01:00Z in winter (CET) and 00:00Z in summer (CEST).
        let winter = ["2026-01-15T00:59:00Z", "2026-01-15T01:00:00Z", "2026-01-15T01:59:00Z", "2026-01-15T02:00:00Z"];
        assert_eq!(open_at(&when, &winter), [false, true, true, false]);
        let summer = ["2026-07-15T23:59:00Z", "2026-07-16T00:00:00Z", "2026-07-16T00:59:00Z", "2026-07-16T01:00:00Z"];
        assert_eq!(open_at(&when, &summer), [false, true, true, false]);
    }

    #[test]
    fn a_start_in_the_spring_forward_gap_opens_after_the_gap() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z). 02:30 does not exist that night:
        // the window opens at 03:00 CEST (01:00Z) and lasts its 60 real minutes.
        let when = WindowTime::Daily { start: at(2, 30), minutes: 60 };
        let instants = ["2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:59:00Z", "2026-03-29T02:00:00Z"];
        assert_eq!(open_at(&when, &instants), [false, true, true, false]);
        // The night before (CET) and after (CEST) it opens at 02:30 local.
        assert!(is_open(&when, utc("2026-03-28T01:30:00Z"), Budapest));
        assert!(is_open(&when, utc("2026-03-30T00:30:00Z"), Budapest));
        assert!(!is_open(&when, utc("2026-03-30T01:30:00Z"), Budapest));
    }

    #[test]
    fn a_window_across_the_autumn_change_lasts_its_real_minutes() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z); 01:30 local is 23:30Z the
        // day before, and three real hours later it is 03:30 CET local (02:30Z).
        let when = WindowTime::Daily { start: at(1, 30), minutes: 180 };
        let instants = ["2026-10-24T23:29:00Z", "2026-10-24T23:30:00Z", "2026-10-25T02:29:00Z", "2026-10-25T02:30:00Z"];
        assert_eq!(open_at(&when, &instants), [false, true, true, false]);
        // A start in the repeated hour (02:30 happens twice) opens at the first one (00:30Z).
        let twice = WindowTime::Daily { start: at(2, 30), minutes: 30 };
        let instants = ["2026-10-25T00:29:00Z", "2026-10-25T00:30:00Z", "2026-10-25T00:59:00Z", "2026-10-25T01:30:00Z"];
        assert_eq!(open_at(&twice, &instants), [false, true, true, false]);
    }

    #[test]
    fn a_weekly_window_opens_on_its_days_and_may_run_past_midnight() {
        // Sundays 23:00 for three hours: open into Monday morning, not on Saturday night.
        let when = WindowTime::Weekly { days: vec![Weekday::Sun], start: at(23, 0), minutes: 180 };
        // 2026-03-29 is the spring-forward Sunday: 23:00 CEST is 21:00Z.
        let instants = ["2026-03-29T20:59:00Z", "2026-03-29T21:00:00Z", "2026-03-29T23:59:00Z", "2026-03-30T00:00:00Z"];
        assert_eq!(open_at(&when, &instants), [false, true, true, false]);
        assert!(!is_open(&when, utc("2026-03-28T22:00:00Z"), Budapest), "Saturday");
        // A week-long window from Monday 00:00 is open all week.
        let week = WindowTime::Weekly { days: vec![Weekday::Mon], start: at(0, 0), minutes: 7 * 24 * 60 };
        assert!(is_open(&week, utc("2026-03-29T20:00:00Z"), Budapest), "the Sunday after");
    }

    #[test]
    fn a_customer_is_quieted_by_its_own_windows_and_the_fleets() {
        let always = || WindowTime::Daily { start: at(0, 0), minutes: 24 * 60 };
        let windows =
            [window(1, Some("kovacs"), always()), window(2, None, always()), window(3, Some("nagy"), always())];
        let ids = |c: &str| {
            active_windows(&windows, c, utc("2026-05-10T08:00:00Z"), Budapest).iter().map(|w| w.id).collect::<Vec<_>>()
        };
        assert_eq!(ids("kovacs"), [1, 2]);
        assert_eq!(ids("szabo"), [2]);
    }
}
