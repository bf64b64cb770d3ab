//! The history the charts draw: periods and points.

use serde::{Deserialize, Serialize};

/// The periods `GET /api/v1/customers/{id}/history?period=` accepts.
///
/// Read through [`Period::parse`], so an unknown period is answered with the accepted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String")]
pub enum Period {
    #[serde(rename = "24h")]
    Day,
    #[default]
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "90d")]
    Quarter,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Quarter];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "24h",
            Period::Week => "7d",
            Period::Month => "30d",
            Period::Quarter => "90d",
        }
    }

    /// Parses a period; the error lists the accepted values.
    pub fn parse(s: &str) -> Result<Period, String> {
        Period::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("period must be one of 24h, 7d, 30d, 90d (got {s:?})"))
    }

    pub fn duration_ms(self) -> i64 {
        const DAY: i64 = 24 * 3600 * 1000;
        match self {
            Period::Day => DAY,
            Period::Week => 7 * DAY,
            Period::Month => 30 * DAY,
            Period::Quarter => 90 * DAY,
        }
    }

    /// The width of one chart point: reports are averaged into buckets so a chart never has
    /// more than about 700 points (15 min reports: 24h raw-ish, 90d in 3 h buckets).
    pub fn bucket_ms(self) -> i64 {
        const MIN: i64 = 60 * 1000;
        match self {
            Period::Day => 5 * MIN,
            Period::Week => 15 * MIN,
            Period::Month => 60 * MIN,
            Period::Quarter => 180 * MIN,
        }
    }
}

impl TryFrom<String> for Period {
    type Error = String;

    fn try_from(s: String) -> Result<Period, String> {
        Period::parse(&s)
    }
}

/// The query of `GET /api/v1/customers/{id}/history`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct HistoryQuery {
    /// `24h`, `7d` (default), `30d` or `90d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
}

/// One chart point: averages over a bucket starting at `t`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPoint {
    /// Bucket start, Unix milliseconds (UTC).
    pub t: i64,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub disk_percent: Option<f64>,
    /// Reports averaged into this point.
    pub reports: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct History {
    pub customer_id: String,
    pub period: Period,
    pub bucket_ms: i64,
    pub points: Vec<HistoryPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_accepted_periods_only() {
        for p in Period::ALL {
            assert_eq!(Period::parse(p.as_str()), Ok(p));
        }
        let err = Period::parse("1y").unwrap_err();
        assert!(err.contains("24h, 7d, 30d, 90d"), "{err}");
        assert_eq!(Period::default(), Period::Week);
    }

    #[test]
    fn periods_read_from_json_with_the_same_rule() {
        for p in Period::ALL {
            assert_eq!(serde_json::from_value::<Period>(serde_json::to_value(p).unwrap()).unwrap(), p);
        }
        let err = serde_json::from_str::<Period>("\"1y\"").unwrap_err().to_string();
        assert!(err.contains("24h, 7d, 30d, 90d"), "{err}");
    }

    #[test]
    fn charts_stay_small() {
        for p in Period::ALL {
            assert!(p.duration_ms() / p.bucket_ms() <= 720, "{p:?}");
        }
    }
}
