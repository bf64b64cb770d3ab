//! A button for a destructive action that asks once more, in place, before it acts.

use leptos::prelude::*;

/// Shows `label`; a click shows `question` with a confirming and a cancel button, and only the
/// confirming one runs `on_confirm`.
#[component]
pub fn ConfirmButton(
    label: &'static str,
    question: &'static str,
    #[prop(default = "Yes")] confirm: &'static str,
    #[prop(optional)] id: &'static str,
    #[prop(into)] busy: Signal<bool>,
    on_confirm: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    move || {
        if asking.get() {
            let on_confirm = on_confirm.clone();
            view! {
                <span class="confirm" role="group">
                    <span class="confirm-q">{question}</span>
                    <button type="button" class="danger" data-confirm=id disabled=move || busy.get()
                        on:click=move |_| { asking.set(false); on_confirm(); }>{confirm}</button>
                    <button type="button" class="secondary" on:click=move |_| asking.set(false)>"Cancel"</button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="secondary danger-text" id=(!id.is_empty()).then_some(id) disabled=move || busy.get()
                    on:click=move |_| asking.set(true)>{label}</button>
            }
            .into_any()
        }
    }
}
