//! A value the operator copies (a secret, a command): shown in a monospace box with a copy
//! button, and the one-time credentials card shown after creation or rotation.

use leptos::prelude::*;

/// Puts `text` on the clipboard; false when the browser refuses (no secure context).
fn copy_to_clipboard(text: &str) -> bool {
    let navigator = js_sys::Reflect::get(&window(), &"navigator".into()).ok();
    let clipboard = navigator.and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok());
    let Some(clipboard) = clipboard.filter(|c| !c.is_undefined()) else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &"writeText".into()).ok();
    write
        .and_then(|w| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(w).ok())
        .is_some_and(|w| w.call1(&clipboard, &text.into()).is_ok())
}

/// A copy button for `text`; says "Copied" for a moment after a click.
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, #[prop(optional)] label: &'static str) -> impl IntoView {
    let state = RwSignal::new(None::<bool>);
    let click = move |_| {
        let ok = copy_to_clipboard(&text.get_untracked());
        state.set(Some(ok));
        set_timeout(move || state.set(None), std::time::Duration::from_millis(1500));
    };
    let label = if label.is_empty() { "Copy" } else { label };
    view! {
        <button type="button" class="copy" on:click=click>
            {move || match state.get() {
                None => label,
                Some(true) => "Copied",
                Some(false) => "Select and copy",
            }}
        </button>
    }
}

/// A value in a monospace box with its copy button. `id` names the box for tests.
#[component]
pub fn CopyValue(#[prop(into)] value: String, #[prop(optional)] id: &'static str) -> impl IntoView {
    let text = Signal::stored(value.clone());
    view! {
        <div class="copy-value">
            <code id=(!id.is_empty()).then_some(id)>{value}</code>
            <CopyButton text=text/>
        </div>
    }
}

/// The API key and retrieval password right after they were made, with the warning that the
/// hub shows them only now.
#[component]
pub fn OneTimeCredentials(
    #[prop(into)] title: String,
    api_key: Option<String>,
    retrieval_password: Option<String>,
) -> impl IntoView {
    view! {
        <section class="card one-time" id="one-time-credentials">
            <h2>{title}</h2>
            <p class="notice warn">
                <strong>"Shown only once. "</strong>
                "Copy these now and hand them to the customer: the hub stores them encrypted and shows them \
                 again only through an audited reveal."
            </p>
            {api_key.map(|k| view! {
                <h3>"API key"</h3>
                <CopyValue value=k id="new-api-key"/>
            })}
            {retrieval_password.map(|p| view! {
                <h3>"Retrieval password"</h3>
                <CopyValue value=p id="new-retrieval-password"/>
            })}
        </section>
    }
}
