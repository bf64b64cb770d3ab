//! The live stream in the browser: one `EventSource` on `GET /api/v1/stream` per tab, shared by
//! the pages that follow it (a browser opens only a few connections to a host, and a stream
//! holds one), and closed when no page follows it any more. The browser reconnects by itself
//! and resumes with `Last-Event-ID`. While the stream is down, a timer calls each page every
//! 60 s instead, as before there was a stream; once it is back, each page is called to catch up.
//! The connection is closed when the page is hidden for navigation (`pagehide`) and opened again
//! if it comes back (`pageshow`): a page the browser keeps in its back-forward cache would
//! otherwise hold its connection, and a few such pages exhaust the browser's connections to the
//! hub, so that the next page's API calls wait forever.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use hub_shared::stream::StreamMessage;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use crate::api;

/// How often a page refreshes while the stream is down.
pub const FALLBACK: Duration = Duration::from_secs(60);

/// What a page does with a message, or with `None` to reload on its own.
type OnChange = dyn Fn(Option<&StreamMessage>);

/// A page following the stream.
struct Follower {
    id: u64,
    on_change: Rc<OnChange>,
    up: RwSignal<bool>,
}

/// An open `EventSource` with the callbacks it calls.
struct Connection {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

/// The tab's one stream and who follows it.
struct Shared {
    /// `None` while the page is hidden.
    connection: Option<Connection>,
    followers: Vec<Follower>,
    up: bool,
    /// Opened once already: a later opening is a reconnection, after which pages catch up.
    opened: bool,
}

thread_local! {
    static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
    static NEXT_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static PAGE_LISTENERS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The followers' callbacks, taken out so none runs while the stream is borrowed.
fn followers() -> Vec<Rc<OnChange>> {
    SHARED
        .with(|s| s.borrow().as_ref().map(|s| s.followers.iter().map(|f| f.on_change.clone()).collect()))
        .unwrap_or_default()
}

fn set_up(up: bool) -> bool {
    SHARED.with(|s| {
        let mut shared = s.borrow_mut();
        let Some(shared) = shared.as_mut() else { return false };
        shared.up = up;
        for f in &shared.followers {
            f.up.try_set(up);
        }
        up && std::mem::replace(&mut shared.opened, true)
    })
}

fn connect() -> Option<Connection> {
    let source = EventSource::new(api::STREAM_PATH).ok()?;
    let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let Some(text) = e.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string()) else { return };
        if let Ok(message) = serde_json::from_str::<StreamMessage>(&text) {
            for call in followers() {
                call(Some(&message));
            }
        }
    });
    for kind in ["status", "event", "job"] {
        let _ = source.add_event_listener_with_callback(kind, on_message.as_ref().unchecked_ref());
    }
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if set_up(true) {
            for call in followers() {
                call(None);
            }
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        set_up(false);
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(Connection { source, _listeners: vec![on_message, on_open, on_error] })
}

/// Closes the connection when the page is hidden and opens it again when it is shown, once per
/// tab (see the module's documentation).
fn watch_page() {
    if PAGE_LISTENERS.with(|done| done.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else { return };
    let on_hide = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        let closed = SHARED.with(|s| s.borrow_mut().as_mut().and_then(|shared| shared.connection.take()));
        if let Some(connection) = closed {
            connection.source.close();
            set_up(false);
        }
    });
    let on_show = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        SHARED.with(|s| {
            if let Some(shared) = s.borrow_mut().as_mut() {
                if shared.connection.is_none() {
                    shared.connection = connect();
                }
            }
        });
    });
    let _ = window.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("pageshow", on_show.as_ref().unchecked_ref());
    // They live as long as the tab.
    on_hide.forget();
    on_show.forget();
}

/// Calls `on_change` with each message of the stream, and with `None` when the page should
/// reload on its own (every 60 s while the stream is down, and once when it comes back); `up`
/// says whether the stream is up. The page stops following when its component goes away.
pub fn follow(up: RwSignal<bool>, on_change: impl Fn(Option<&StreamMessage>) + 'static) {
    let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
    let on_change: Rc<OnChange> = Rc::new(on_change);
    watch_page();
    SHARED.with(|s| {
        let mut shared = s.borrow_mut();
        if shared.is_none() {
            *shared = Some(Shared { connection: connect(), followers: Vec::new(), up: false, opened: false });
        }
        if let Some(shared) = shared.as_mut() {
            up.set(shared.up);
            shared.followers.push(Follower { id, on_change: on_change.clone(), up });
        }
    });
    let timer = set_interval_with_handle(
        move || {
            if !up.get_untracked() {
                on_change(None);
            }
        },
        FALLBACK,
    )
    .ok();
    on_cleanup(move || {
        if let Some(timer) = timer {
            timer.clear();
        }
        let last = SHARED.with(|s| {
            let mut shared = s.borrow_mut();
            let current = shared.as_mut()?;
            current.followers.retain(|f| f.id != id);
            if current.followers.is_empty() {
                shared.take()
            } else {
                None
            }
        });
        if let Some(connection) = last.and_then(|last| last.connection) {
            connection.source.close();
        }
    });
}
