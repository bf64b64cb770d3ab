//! Storing pushed infra backups without letting one key exhaust memory:
//! - a large push (over the API's 1 MiB body limit) needs one of [`LARGE_PUSH_SLOTS`] slots
//!   before its body is read, waiting up to [`SLOT_WAIT`] for one, else 429 with `Retry-After`
//!   (its body is read and thrown away, so the client gets the answer);
//! - the body is held once: the raw bytes are dropped once parsed, the parsed backup once
//!   serialized, and the serialized JSON is encrypted in place;
//! - pushes of one customer take turns (version number, seal, insert), so none is refused for
//!   racing another; a race with another replica is retried with the next number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use futures::StreamExt;
use hub_shared::infra::{InfraBackupIn, KEPT_VERSIONS};
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::customer_secrets::infra_backup_context;
use crate::error::{AppError, Result};
use crate::extract::{parse_json, require_json, ApiJson};
use crate::state::AppState;
use crate::store::StoreError;

/// Large pushes processed at once per replica.
pub const LARGE_PUSH_SLOTS: usize = 4;
/// How long a large push waits for a slot before it is refused.
pub const SLOT_WAIT: Duration = Duration::from_secs(2);
/// The `Retry-After` of a refused push.
pub const RETRY_AFTER_SECS: u64 = 10;
/// A push whose body is at most this needs no slot.
pub const SMALL_PUSH_BYTES: u64 = crate::router::BODY_LIMIT as u64;
/// Tries at a version number when other replicas take the same one.
const VERSION_TRIES: usize = 10;

/// The slots and the per-customer turns of one replica.
#[derive(Debug)]
pub struct PushLimits {
    slots: Arc<Semaphore>,
    turns: KeyedLocks,
}

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits { slots: Arc::new(Semaphore::new(LARGE_PUSH_SLOTS)), turns: KeyedLocks::default() }
    }
}

impl PushLimits {
    /// The slots of large pushes (tests hold them to see a push refused).
    pub fn slots(&self) -> &Arc<Semaphore> {
        &self.slots
    }
}

/// A pushed body read as JSON (415, 413, 400 and 422 as [`ApiJson`]) once a slot was had (`slot` is `None` for a small push). A refused
/// push is answered 429 after its body was read and thrown away a piece at a time: never held,
/// but read, so the client sees the answer rather than a reset connection.
pub struct SlottedPush<T> {
    pub slot: Option<OwnedSemaphorePermit>,
    pub json: ApiJson<T>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SlottedPush<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let length = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let slot = if length.is_some_and(|n| n <= SMALL_PUSH_BYTES) {
            None
        } else {
            let slots = state.push_limits().slots.clone();
            match tokio::time::timeout(SLOT_WAIT, slots.acquire_owned()).await {
                Ok(Ok(permit)) => Some(permit),
                _ => {
                    discard(req.into_body()).await;
                    return Err(AppError::RateLimited {
                        message: format!(
                            "the hub is storing {LARGE_PUSH_SLOTS} large infra backups already; try again in \
                             {RETRY_AFTER_SECS} s"
                        ),
                        retry_after_secs: RETRY_AFTER_SECS,
                    });
                }
            }
        };
        require_json(req.headers())?;
        let raw = read_body(req.into_body(), length).await?;
        let value = parse_json(&raw)?;
        Ok(SlottedPush { slot, json: ApiJson { value, raw } })
    }
}

/// Reads a body into one buffer sized from `Content-Length`: one copy of it, where collecting
/// its pieces first would hold two. More than the route's limit is 413.
async fn read_body(body: Body, length: Option<u64>) -> Result<Bytes> {
    let limit = hub_shared::infra::MAX_BACKUP_BYTES;
    let too_large = || AppError::PayloadTooLarge(format!("an infra backup may be at most {limit} bytes"));
    if length.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut raw = Vec::with_capacity(length.unwrap_or(0) as usize);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("cannot read the request body: {e}")))?;
        if raw.len() + chunk.len() > limit {
            return Err(too_large());
        }
        raw.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(raw))
}

/// Reads a body to its end (at most the route's limit), keeping none of it.
async fn discard(body: Body) {
    let mut stream = body.into_data_stream();
    let mut read = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        read += chunk.len();
        if read > hub_shared::infra::MAX_BACKUP_BYTES + 64 * 1024 {
            break;
        }
    }
}

/// Stores `backup` (pushed as `size` bytes) as the customer's next version at `now`; returns
/// the version and how many are kept.
pub async fn store_backup(state: &AppState, backup: InfraBackupIn, size: i64, now: i64) -> Result<(i64, i64)> {
    let id = backup.customer_id.clone();
    let mut json = Vec::with_capacity(size.max(0) as usize + 1024);
    serde_json::to_writer(&mut json, &backup).map_err(|e| AppError::Internal(e.into()))?;
    drop(backup);
    let _turn = state.push_limits().turns.lock(&id).await;
    let store = state.store();
    let mut version = store.next_infra_version(&id).await?;
    let mut sealed = state.cipher().seal_vec(&infra_backup_context(&id, version), json);
    for _ in 0..VERSION_TRIES {
        match store.insert_infra_backup(&id, version, now, size, &sealed, KEPT_VERSIONS as i64).await {
            Ok(kept) => return Ok((version, kept)),
            Err(StoreError::Conflict(_)) => {
                // Another replica took the number: seal again for the next one.
                let plain = state.cipher().open(&infra_backup_context(&id, version), &sealed)?;
                drop(sealed);
                version = store.next_infra_version(&id).await?;
                sealed = state.cipher().seal_vec(&infra_backup_context(&id, version), plain);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(format!("could not store the infra backup of {id:?}: other pushes kept taking the number")))
}

/// One async lock per key, forgotten when nobody holds or waits for it.
#[derive(Debug, Default)]
pub struct KeyedLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds the lock of a key until dropped.
pub struct KeyedGuard<'a> {
    owner: &'a KeyedLocks,
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl KeyedLocks {
    pub async fn lock(&self, key: &str) -> KeyedGuard<'_> {
        let lock = self.locks.lock().unwrap_or_else(|p| p.into_inner()).entry(key.to_string()).or_default().clone();
        let guard = lock.clone().lock_owned().await;
        KeyedGuard { owner: self, key: key.to_string(), lock, guard: Some(guard) }
    }

    /// How many keys are held or waited for.
    pub fn len(&self) -> usize {
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for KeyedGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.owner.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map and this guard still know the lock: nobody waits for it.
        if Arc::strong_count(&self.lock) == 2 {
            locks.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_key_takes_turns_and_is_forgotten_after() {
        let locks = Arc::new(KeyedLocks::default());
        let first = locks.lock("kovacs").await;
        let (l2, order) = (locks.clone(), Arc::new(Mutex::new(Vec::new())));
        let o2 = order.clone();
        let waiter = tokio::spawn(async move {
            let _g = l2.lock("kovacs").await;
            o2.lock().unwrap().push("second");
        });
        let _other = locks.lock("nagy").await; // another key does not wait
        tokio::task::yield_now().await;
        order.lock().unwrap().push("first");
        drop(first);
        waiter.await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["first", "second"]);
        drop(_other);
        assert!(locks.is_empty());
    }
}
