//! When jobs are due: "every N" (aligned to the Unix epoch, so every replica agrees on the due
//! times) or "daily at HH:MM" in a time zone, correct across daylight-saving changes.

use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Every(Duration),
    DailyAt(NaiveTime),
}

impl Schedule {
    /// The latest due time at or before `now`.
    pub fn latest_due(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        match *self {
            Schedule::Every(every) => {
                let step = every.as_millis().max(1) as i64;
                let ms = now.timestamp_millis().div_euclid(step) * step;
                DateTime::from_timestamp_millis(ms).unwrap_or(now)
            }
            Schedule::DailyAt(at) => {
                let today = now.with_timezone(&tz).date_naive();
                let due = daily_instant(today, at, tz);
                if due <= now {
                    due
                } else {
                    daily_instant(today - Days::new(1), at, tz)
                }
            }
        }
    }

    /// The first due time after `now`.
    pub fn next_due(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        match *self {
            Schedule::Every(every) => {
                self.latest_due(now, tz) + chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX)
            }
            Schedule::DailyAt(at) => {
                let today = now.with_timezone(&tz).date_naive();
                let due = daily_instant(today, at, tz);
                if due > now {
                    due
                } else {
                    daily_instant(today + Days::new(1), at, tz)
                }
            }
        }
    }

    /// How late a missed run may still be started (after a restart or a leader change).
    pub fn catch_up(&self) -> chrono::Duration {
        match *self {
            Schedule::Every(every) => chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX),
            Schedule::DailyAt(_) => chrono::Duration::hours(2),
        }
    }
}

/// The instant of `at` local time on `date`. A time that falls into a spring-forward gap runs
/// at the first instant after the gap; a time that occurs twice in autumn runs at the first one.
pub(crate) fn daily_instant(date: NaiveDate, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_time(at);
    if let Some(t) = tz.from_local_datetime(&naive).earliest() {
        return t.with_timezone(&Utc);
    }
    let mut probe = naive;
    for _ in 0..180 {
        probe += chrono::Duration::minutes(1);
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&naive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Budapest;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn daily(h: u32, m: u32) -> Schedule {
        Schedule::DailyAt(NaiveTime::from_hms_opt(h, m, 0).unwrap())
    }

    /// Every due time of `schedule` between `from` and `to`, minute by minute.
    fn dues(schedule: Schedule, from: &str, to: &str) -> Vec<DateTime<Utc>> {
        let (mut t, end) = (utc(from), utc(to));
        let mut seen = Vec::new();
        while t <= end {
            let due = schedule.latest_due(t, Budapest);
            if seen.last() != Some(&due) {
                seen.push(due);
            }
            t += chrono::Duration::minutes(1);
        }
        seen
    }

    #[test]
    fn every_is_aligned_to_the_epoch() {
        let s = Schedule::Every(Duration::from_secs(60));
        assert_eq!(s.latest_due(utc("2026-05-01T10:00:59Z"), Budapest), utc("2026-05-01T10:00:00Z"));
        assert_eq!(s.latest_due(utc("2026-05-01T10:01:00Z"), Budapest), utc("2026-05-01T10:01:00Z"));
    }

    #[test]
    fn next_due_follows_now() {
        assert_eq!(daily(4, 30).next_due(utc("2026-03-28T12:00:00Z"), Budapest), utc("2026-03-29T02:30:00Z"));
        let every = Schedule::Every(Duration::from_secs(60));
        assert_eq!(every.next_due(utc("2026-05-01T10:00:59Z"), Budapest), utc("2026-05-01T10:01:00Z"));
    }

    #[test]
    fn daily_in_summer_and_winter_time() {
        // 04:30 in Budapest is 02:30 UTC in summer (CEST) and 03:30 UTC in winter (CET).
        assert_eq!(daily(4, 30).latest_due(utc("2026-07-01T12:00:00Z"), Budapest), utc("2026-07-01T02:30:00Z"));
        assert_eq!(daily(4, 30).latest_due(utc("2026-12-01T03:29:00Z"), Budapest), utc("2026-11-30T03:30:00Z"));
    }

    #[test]
    fn runs_once_on_the_spring_forward_day() {
        let seen = dues(daily(4, 30), "2026-03-28T12:00:00Z", "2026-03-29T23:00:00Z");
        assert_eq!(seen, vec![utc("2026-03-28T03:30:00Z"), utc("2026-03-29T02:30:00Z")]);
    }

    #[test]
    fn runs_once_on_the_fall_back_day() {
        let seen = dues(daily(4, 30), "2026-10-24T12:00:00Z", "2026-10-25T23:00:00Z");
        assert_eq!(seen, vec![utc("2026-10-24T02:30:00Z"), utc("2026-10-25T03:30:00Z")]);
    }

    #[test]
    fn a_time_in_the_gap_or_the_overlap_runs_once() {
        // 02:30 does not exist on 2026-03-29 (02:00 -> 03:00) and occurs twice on 2026-10-25.
        let spring = dues(daily(2, 30), "2026-03-29T00:30:00Z", "2026-03-29T12:00:00Z");
        assert_eq!(spring, vec![utc("2026-03-28T01:30:00Z"), utc("2026-03-29T01:00:00Z")]);
        let autumn = dues(daily(2, 30), "2026-10-24T23:00:00Z", "2026-10-25T12:00:00Z");
        assert_eq!(autumn, vec![utc("2026-10-24T00:30:00Z"), utc("2026-10-25T00:30:00Z")]);
    }
}
