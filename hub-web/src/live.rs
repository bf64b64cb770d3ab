//! The live stream in the browser: an `EventSource` on `GET /api/v1/stream` that hands every
//! message to the page (the browser reconnects by itself and resumes with `Last-Event-ID`).
//! While the stream is down, a timer calls the page every 60 s instead, as before there was a
//! stream; and once it is back, the page is called once to catch up.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use hub_shared::stream::StreamMessage;
use leptos::__reexports::send_wrapper::SendWrapper;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use crate::api;

/// How often the page refreshes while the stream is down.
pub const FALLBACK: Duration = Duration::from_secs(60);

/// What a page does with a message, or with `None` to reload on its own.
type OnChange = dyn Fn(Option<&StreamMessage>);

/// Calls `on_change` with each message of the stream, and with `None` when the page should
/// reload on its own (every 60 s while the stream is down, and once when it comes back); `up`
/// says whether the stream is up. Everything stops when the calling component goes away.
pub fn follow(up: RwSignal<bool>, on_change: impl Fn(Option<&StreamMessage>) + 'static) {
    let on_change: Rc<OnChange> = Rc::new(on_change);
    let source = EventSource::new(api::STREAM_PATH).ok();
    let mut listeners: Vec<Closure<dyn FnMut(web_sys::Event)>> = Vec::new();
    if let Some(source) = &source {
        let call = on_change.clone();
        let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(text) = e.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string()) else { return };
            if let Ok(message) = serde_json::from_str::<StreamMessage>(&text) {
                call(Some(&message));
            }
        });
        for kind in ["status", "event", "job"] {
            let _ = source.add_event_listener_with_callback(kind, on_message.as_ref().unchecked_ref());
        }
        let (call, opened) = (on_change.clone(), Cell::new(false));
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            up.set(true);
            // The first opening follows the page's own load; a later one may have missed some.
            if opened.replace(true) {
                call(None);
            }
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| up.set(false));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        listeners.extend([on_message, on_open, on_error]);
    }
    let call = on_change.clone();
    let timer = set_interval_with_handle(
        move || {
            if !up.get_untracked() {
                call(None);
            }
        },
        FALLBACK,
    )
    .ok();
    let held = SendWrapper::new((source, listeners));
    on_cleanup(move || {
        let (source, listeners) = held.take();
        if let Some(source) = source {
            source.close();
        }
        drop(listeners);
        if let Some(timer) = timer {
            timer.clear();
        }
    });
}
