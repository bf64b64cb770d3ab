//! One answer of the fleet list from a snapshot: the filter (`status`, `q`), the order (`sort`),
//! the page (`limit`, `cursor`) and the JSON. The cursor is the last row's sort value and id
//! (base64 of a small JSON, opaque to clients): the next page starts after that place in the
//! order, so a customer whose row did not move between two requests is on exactly one page.

use std::cmp::Ordering;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use hub_shared::customer_list::{CustomerListQuery, CustomerRow, ListOrder, ListSort, StatusCounts};
use hub_shared::NodeStatus;
use serde::{Deserialize, Serialize};

use super::Snapshot;
use crate::error::AppError;

/// What one request asks of the list, checked.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Bit per status in [`NodeStatus::ALL`]'s order; 0 for every status.
    statuses: u8,
    needle: Option<String>,
    order: ListOrder,
    limit: Option<u32>,
    after: Option<Place>,
}

impl Page {
    /// Reads the query: 400 naming the parameter that is wrong.
    pub fn from_query(query: &CustomerListQuery) -> Result<Page, AppError> {
        let statuses = query.statuses().map_err(AppError::BadRequest)?.unwrap_or_default();
        let order = query.order().map_err(AppError::BadRequest)?;
        let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => Some(Place::decode(cursor, order).map_err(AppError::BadRequest)?),
            None => None,
        };
        Ok(Page {
            statuses: statuses.into_iter().fold(0, |mask, s| mask | bit(s)),
            needle: query.needle(),
            order,
            limit: query.page_size().map_err(AppError::BadRequest)?,
            after,
        })
    }

    /// Every customer by id, as a request without parameters asks.
    fn is_everything(&self) -> bool {
        self.statuses == 0
            && self.needle.is_none()
            && self.order == ListOrder::default()
            && self.limit.is_none()
            && self.after.is_none()
    }
}

fn bit(status: NodeStatus) -> u8 {
    1 << NodeStatus::ALL.iter().position(|s| *s == status).expect("every status is in ALL")
}

/// The answer's JSON: [`hub_shared::customer_list::CustomerList`] without copying the rows.
#[derive(Serialize)]
struct Answer<'a> {
    customers: Vec<&'a CustomerRow>,
    matched: u32,
    counts: &'a StatusCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    generated_at: chrono::DateTime<chrono::Utc>,
    stale_threshold_secs: i64,
}

/// The JSON answer to `page` from `snapshot`.
pub fn answer(snapshot: &Snapshot, page: &Page) -> Bytes {
    if page.is_everything() {
        return snapshot.everything.get_or_init(|| select(snapshot, page)).clone();
    }
    select(snapshot, page)
}

fn select(snapshot: &Snapshot, page: &Page) -> Bytes {
    let matches = |i: usize| {
        (page.statuses == 0 || page.statuses & bit(snapshot.rows[i].status) != 0)
            && page.needle.as_deref().is_none_or(|n| snapshot.search[i].0.contains(n))
    };
    let matched = (0..snapshot.rows.len()).filter(|i| matches(*i)).count() as u32;
    let by = page.order.by;
    let order = snapshot.order(by);
    let rest: Box<dyn Iterator<Item = &u32>> = match (&page.after, page.order.descending) {
        (None, false) => Box::new(order.iter()),
        (None, true) => Box::new(order.iter().rev()),
        (Some(place), false) => {
            let start = order.partition_point(|i| compare_to(snapshot, by, *i as usize, place) != Ordering::Greater);
            Box::new(order[start..].iter())
        }
        (Some(place), true) => {
            let end = order.partition_point(|i| compare_to(snapshot, by, *i as usize, place) == Ordering::Less);
            Box::new(order[..end].iter().rev())
        }
    };
    let mut rest = rest.map(|i| *i as usize).filter(|i| matches(*i));
    let limit = page.limit.map_or(usize::MAX, |n| n as usize);
    let taken: Vec<usize> = rest.by_ref().take(limit).collect();
    let next_cursor = match (taken.last(), rest.next()) {
        (Some(last), Some(_)) => Some(Place::of(snapshot, by, *last).encode(page.order)),
        _ => None,
    };
    let answer = Answer {
        customers: taken.iter().map(|i| &snapshot.rows[*i]).collect(),
        matched,
        counts: &snapshot.counts,
        next_cursor,
        generated_at: snapshot.generated_at,
        stale_threshold_secs: snapshot.stale_threshold_secs,
    };
    Bytes::from(serde_json::to_vec(&answer).expect("the list serializes"))
}

impl Snapshot {
    /// Row indices in ascending `by` order.
    fn order(&self, by: ListSort) -> &[u32] {
        let slot = ListSort::ALL.iter().position(|k| *k == by).expect("every order is in ALL");
        self.orders[slot].get_or_init(|| {
            let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
            order.sort_by(|a, b| {
                let (a, b) = (*a as usize, *b as usize);
                compare(value(self, by, a), value(self, by, b))
                    .then_with(|| self.rows[a].customer_id.cmp(&self.rows[b].customer_id))
            });
            order
        })
    }
}

/// A row's value in an order; rows without one sort after those with one.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Int(i64),
    Float(f64),
    Text(&'a str),
}

/// How much a status needs the operator's eye (worst first in ascending order).
fn severity(status: NodeStatus) -> i64 {
    match status {
        NodeStatus::Down => 5,
        NodeStatus::Warn => 4,
        NodeStatus::Pending => 3,
        NodeStatus::Disabled => 2,
        NodeStatus::Ok => 1,
        NodeStatus::Blocked => 0,
    }
}

fn value(snapshot: &Snapshot, by: ListSort, i: usize) -> Option<Value<'_>> {
    let row = &snapshot.rows[i];
    match by {
        ListSort::Id => None,
        ListSort::Status => Some(Value::Int(-severity(row.status))),
        ListSort::Customer => Some(Value::Text(&snapshot.search[i].1)),
        ListSort::Hostname => row.host.as_deref().map(Value::Text),
        ListSort::Version => row.version.as_deref().map(Value::Text),
        // Most recent first.
        ListSort::Report => row.reported_at.map(|t| Value::Int(-t.timestamp())),
        ListSort::Cpu => row.cpu.map(Value::Float),
        ListSort::Memory => row.memory.map(Value::Float),
        ListSort::Disk => row.disk.map(Value::Float),
        ListSort::Containers => row.containers.map(|[running, _]| Value::Int(i64::from(running))),
        ListSort::Backup => row.backup_at.map(|t| Value::Int(-t.timestamp())),
    }
}

fn compare(a: Option<Value>, b: Option<Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Int(a)), Some(Value::Int(b))) => a.cmp(&b),
        (Some(Value::Float(a)), Some(Value::Float(b))) => a.total_cmp(&b),
        (Some(Value::Text(a)), Some(Value::Text(b))) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        // Values of one order are all of one kind.
        _ => Ordering::Equal,
    }
}

/// Where a page ended: the last row's value and id in the ascending order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Place {
    /// The order it was made in (`sort=`).
    s: String,
    v: serde_json::Value,
    id: String,
}

impl Place {
    fn of(snapshot: &Snapshot, by: ListSort, i: usize) -> Place {
        let v = match value(snapshot, by, i) {
            Some(Value::Int(n)) => n.into(),
            Some(Value::Float(x)) => x.into(),
            Some(Value::Text(t)) => t.into(),
            None => serde_json::Value::Null,
        };
        Place { s: String::new(), v, id: snapshot.rows[i].customer_id.clone() }
    }

    fn encode(mut self, order: ListOrder) -> String {
        self.s = order.as_param();
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&self).expect("a place serializes"))
    }

    /// Reads a cursor made for `order`.
    fn decode(cursor: &str, order: ListOrder) -> Result<Place, String> {
        let bad = || "cursor: not a cursor of this list (use the previous page's next_cursor)".to_string();
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
        let place: Place = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if place.s != order.as_param() {
            return Err(format!(
                "cursor: made for sort={}, asked with sort={}; ask the first page again",
                place.s,
                order.as_param()
            ));
        }
        let fits = match order.by {
            ListSort::Id => place.v.is_null(),
            ListSort::Status | ListSort::Report | ListSort::Containers | ListSort::Backup => {
                place.v.is_null() || place.v.is_i64()
            }
            ListSort::Cpu | ListSort::Memory | ListSort::Disk => place.v.is_null() || place.v.is_number(),
            ListSort::Customer | ListSort::Hostname | ListSort::Version => place.v.is_null() || place.v.is_string(),
        };
        if !fits {
            return Err(bad());
        }
        Ok(place)
    }

    fn value(&self) -> Option<Value<'_>> {
        match &self.v {
            serde_json::Value::String(t) => Some(Value::Text(t)),
            n if n.is_i64() => n.as_i64().map(Value::Int),
            n => n.as_f64().map(Value::Float),
        }
    }
}

/// How row `i` compares with `place` in ascending `by` order.
fn compare_to(snapshot: &Snapshot, by: ListSort, i: usize, place: &Place) -> Ordering {
    let mut mine = value(snapshot, by, i);
    if let (Some(Value::Int(n)), Some(Value::Float(_))) = (mine, place.value()) {
        mine = Some(Value::Float(n as f64));
    }
    let theirs = match (mine, place.value()) {
        (Some(Value::Float(_)), Some(Value::Int(n))) => Some(Value::Float(n as f64)),
        (_, theirs) => theirs,
    };
    compare(mine, theirs).then_with(|| snapshot.rows[i].customer_id.as_str().cmp(&place.id))
}
