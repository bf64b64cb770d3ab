//! One way to page through every list (events, the notification log, the audit log): newest
//! first, at most `limit` entries whose id is below the cursor `before`. Each page answers the
//! cursor of the next, older page as `next_before`, `null` on the last page.

use serde::{Deserialize, Serialize};

/// The page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub const MAX_LIMIT: u32 = 500;

/// The paging part of a list's query string: `?limit=&before=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageQuery {
    /// Page size, 1–500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
    /// Only entries with an id below this: the previous page's `next_before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

impl PageQuery {
    /// The first page of `limit` entries.
    pub fn first(limit: u32) -> PageQuery {
        PageQuery { limit: Some(limit), before: None }
    }

    /// The page size asked for: [`DEFAULT_LIMIT`] when absent; the error when outside 1–[`MAX_LIMIT`].
    pub fn limit(&self) -> Result<u32, String> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(n),
            n => Err(format!("limit must be 1–{MAX_LIMIT} (got {n})")),
        }
    }
}

/// The cursor of the page after `page` (newest first, asked for with `limit`): the id of its last
/// entry when the page is full, none when it is the last page.
pub fn next_before<T>(page: &[T], limit: u32, id: impl Fn(&T) -> i64) -> Option<i64> {
    if page.len() == limit as usize {
        page.last().map(id)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_defaults_and_is_bounded() {
        assert_eq!(PageQuery::default().limit(), Ok(DEFAULT_LIMIT));
        assert_eq!(PageQuery::first(1).limit(), Ok(1));
        assert_eq!(PageQuery::first(MAX_LIMIT).limit(), Ok(MAX_LIMIT));
        assert!(PageQuery::first(0).limit().unwrap_err().contains("1–500"));
        assert!(PageQuery::first(MAX_LIMIT + 1).limit().is_err());
    }

    #[test]
    fn only_a_full_page_has_a_next_cursor() {
        let id = |n: &i64| *n;
        assert_eq!(next_before(&[9, 7, 5], 3, id), Some(5));
        assert_eq!(next_before(&[9, 7], 3, id), None);
        assert_eq!(next_before(&[], 3, id), None);
    }
}
