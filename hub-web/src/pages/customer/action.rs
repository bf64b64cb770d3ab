//! What the management cards share: running one operator action against the hub with a busy
//! flag and an error slot.

use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Runs `action` with `busy` set, then `then` with its answer, or shows its error.
pub(super) fn act<T: 'static>(
    busy: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    action: impl std::future::Future<Output = Result<T, ApiError>> + 'static,
    then: impl FnOnce(T) + 'static,
) {
    busy.set(true);
    error.set(None);
    spawn_local(async move {
        let result = action.await;
        busy.set(false);
        match result {
            Ok(value) => then(value),
            Err(e) => error.set(Some(e)),
        }
    });
}
