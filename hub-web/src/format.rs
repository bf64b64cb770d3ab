//! How numbers, sizes, ages and dates are shown. Dates are in Europe/Budapest time.

use chrono::{DateTime, Utc};

/// The time zone every date is shown in.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub const TIME_ZONE: &str = "Europe/Budapest";

/// An age in words: "just now", "4 min ago", "3 h ago", "2 d ago".
pub fn age(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// The age of `then` as seen at `now`, or "never".
pub fn age_since(then: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match then {
        Some(t) => age((now - t).num_milliseconds()),
        None => "never".into(),
    }
}

/// A percentage without decimals: "42 %".
pub fn percent(value: f64) -> String {
    format!("{value:.0} %")
}

/// A byte count in decimal units: "1.9 GB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// An uptime: "3 d 4 h", "5 h 12 min", "7 min".
pub fn uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

/// What part of a moment to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// "2026-11-26 14:05"
    DateTime,
    /// "2026-11-26"
    Date,
    /// "14:05:09"
    Clock,
    /// "14:05"
    Time,
}

/// A date and time in Budapest: "2026-11-26 14:05".
pub fn datetime(t: DateTime<Utc>) -> String {
    local(t.timestamp_millis(), Style::DateTime)
}

/// The time of day in Budapest with seconds: "14:05:09".
pub fn clock(ms: i64) -> String {
    local(ms, Style::Clock)
}

/// A chart axis label in Budapest: the time of day for a one-day chart, else the date.
pub fn axis_label(ms: i64, one_day: bool) -> String {
    local(ms, if one_day { Style::Time } else { Style::Date })
}

/// Formats Unix milliseconds in Budapest time with the browser's `Intl` (no time zone database
/// in the app); outside a browser (unit tests) it falls back to UTC.
pub fn local(ms: i64, style: Style) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsValue;
        let options = js_sys::Object::new();
        let set = |k: &str, v: &str| {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v));
        };
        set("timeZone", TIME_ZONE);
        if matches!(style, Style::DateTime | Style::Date) {
            set("year", "numeric");
            set("month", "2-digit");
            set("day", "2-digit");
        }
        if style != Style::Date {
            set("hour", "2-digit");
            set("minute", "2-digit");
            set("hourCycle", "h23");
        }
        if style == Style::Clock {
            set("second", "2-digit");
        }
        // Swedish writes ISO-like dates: 2026-11-26 14:05.
        let text = js_sys::Date::new(&JsValue::from_f64(ms as f64)).to_locale_string("sv-SE", &options);
        text.as_string().unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        let pattern = match style {
            Style::DateTime => "%Y-%m-%d %H:%M UTC",
            Style::Date => "%Y-%m-%d",
            Style::Clock => "%H:%M:%S UTC",
            Style::Time => "%H:%M UTC",
        };
        t.format(pattern).to_string()
    }
}

/// A `datetime-local` input's value (`2026-11-26T14:05`) in the browser's own time zone, as an
/// instant; `None` when it is not one. Outside a browser (unit tests) it is read as UTC.
pub fn from_local_input(text: &str) -> Option<DateTime<Utc>> {
    #[cfg(target_arch = "wasm32")]
    {
        let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(text)).get_time();
        if text.trim().is_empty() || ms.is_nan() {
            return None;
        }
        DateTime::<Utc>::from_timestamp_millis(ms as i64)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").ok().map(|t| t.and_utc())
    }
}

/// The browser's clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(-5_000), "just now");
        assert_eq!(age(59_999), "just now");
        assert_eq!(age(4 * 60_000 + 10), "4 min ago");
        assert_eq!(age(3 * 3_600_000), "3 h ago");
        assert_eq!(age(50 * 3_600_000), "2 d ago");
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_900_000_000), "1.9 GB");
        assert_eq!(bytes(123_456_789), "123 MB");
        assert_eq!(uptime(86_400 + 4 * 3600 + 5), "1 d 4 h");
        assert_eq!(uptime(7 * 60), "7 min");
        assert_eq!(percent(41.6), "42 %");
    }
}
