//! A managed customer's credentials: hidden until the operator reveals them (the hub writes the
//! reveal to the audit log), the setup commands with copy buttons, the rotations, and setting
//! them to given values (the old hub's, on a cut-over).

use hub_shared::credentials::{setup_commands, Credentials, RevealedCredentials, SetCredentials, SetupCommand};
use hub_shared::ApiError;
use leptos::prelude::*;

use super::action::act;
use crate::api;
use crate::components::{ConfirmButton, CopyValue, ErrorNotice, OneTimeCredentials};

/// The hub's address as the browser sees it, for the setup commands shown before a reveal.
fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

#[component]
pub fn CredentialsCard(id: String) -> impl IntoView {
    let revealed = RwSignal::new(None::<RevealedCredentials>);
    let rotated = RwSignal::new(None::<(&'static str, Credentials)>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let reveal = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            act(busy, error, async move { api::reveal_credentials(&id).await }, move |r| revealed.set(Some(r)));
        }
    };
    let rotate_key = {
        let id = id.clone();
        move || {
            let id = id.clone();
            act(busy, error, async move { api::rotate_api_key(&id).await }, move |c| {
                revealed.set(None);
                rotated.set(Some(("New API key", c)));
            });
        }
    };
    let rotate_password = {
        let id = id.clone();
        move || {
            let id = id.clone();
            act(busy, error, async move { api::rotate_retrieval_password(&id).await }, move |c| {
                revealed.set(None);
                rotated.set(Some(("New retrieval password", c)));
            });
        }
    };
    let commands = {
        let id = id.clone();
        move || -> Vec<SetupCommand> {
            revealed.with(|r| match r {
                Some(r) => r.setup_commands.clone(),
                None => setup_commands(&origin(), &id, None, None),
            })
        }
    };
    view! {
        <section class="card" id="credentials">
            <div class="card-head">
                <h2>"Credentials"</h2>
                <Show when=move || revealed.with(Option::is_none)>
                    <button type="button" class="secondary" id="reveal" disabled=move || busy.get() on:click=reveal.clone()>
                        "Reveal"
                    </button>
                </Show>
            </div>
            {move || rotated.get().map(|(title, c)| view! {
                <OneTimeCredentials title=title api_key=c.api_key retrieval_password=c.retrieval_password/>
            })}
            {move || match revealed.get() {
                None => view! {
                    <p class="muted small">"Hidden. Revealing them is written to the audit log."</p>
                    <dl class="kv">
                        <dt>"API key"</dt><dd class="secret-hidden">"fh_••••••••••••"</dd>
                        <dt>"Retrieval password"</dt><dd class="secret-hidden">"••••-••••-••••-••••"</dd>
                    </dl>
                }
                .into_any(),
                Some(r) => view! {
                    <p class="muted small">"Revealed; this was written to the audit log."</p>
                    <h3>"API key"</h3>
                    <CopyValue value=r.credentials.api_key.clone().unwrap_or_default() id="revealed-api-key"/>
                    <h3>"Retrieval password"</h3>
                    <CopyValue value=r.credentials.retrieval_password.clone().unwrap_or_default() id="revealed-retrieval-password"/>
                }
                .into_any(),
            }}
            <h3>"Setup commands"</h3>
            <div id="setup-commands">
                {move || commands().into_iter().map(|c| view! {
                    <p class="small muted cmd-label">{c.label}</p>
                    <CopyValue value=c.command/>
                }).collect_view()}
            </div>
            <div class="actions">
                <ConfirmButton label="Rotate API key" id="rotate-key" busy=busy confirm="Yes, rotate"
                    question="The old key stops working at once." on_confirm=rotate_key/>
                <ConfirmButton label="Rotate retrieval password" id="rotate-password" busy=busy confirm="Yes, rotate"
                    question="The old password stops working at once." on_confirm=rotate_password/>
            </div>
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
            <SetGivenCredentials id=id on_set=move || revealed.set(None)/>
        </section>
    }
}

/// Setting the key and password to values the operator already has, such as the ones the old
/// hub issued, so the controllers in the field keep working. Empty fields are left as they are.
#[component]
fn SetGivenCredentials(id: String, on_set: impl Fn() + Clone + 'static) -> impl IntoView {
    let api_key = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(None::<&'static str>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let given = SetCredentials {
            api_key: Some(api_key.get_untracked()).filter(|k| !k.is_empty()),
            retrieval_password: Some(password.get_untracked()).filter(|p| !p.trim().is_empty()),
        };
        if let Err(problem) = given.validate() {
            error.set(Some(ApiError::new("invalid_field", problem.message)));
            return;
        }
        let id = id.clone();
        let on_set = on_set.clone();
        saved.set(None);
        act(busy, error, async move { api::set_credentials(&id, &given).await }, move |_| {
            api_key.set(String::new());
            password.set(String::new());
            saved.set(Some("Saved; the previous values stopped working."));
            on_set();
        });
    };
    view! {
        <details class="set-credentials" id="set-credentials">
            <summary>"Set given values (moving from the old hub)"</summary>
            <form on:submit=submit>
                <p class="muted small">"Empty fields stay as they are. Written to the audit log, never the values."</p>
                <label for="set-api-key">"API key (at least 24 characters)"</label>
                <input type="password" id="set-api-key" autocomplete="off"
                    prop:value=move || api_key.get() on:input=move |ev| api_key.set(event_target_value(&ev))/>
                <label for="set-retrieval-password">"Retrieval password"</label>
                <input type="password" id="set-retrieval-password" autocomplete="off"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                <div class="actions">
                    <button type="submit" class="secondary" id="set-credentials-save" disabled=move || busy.get()>"Set"</button>
                </div>
            </form>
            {move || saved.get().map(|text| view! { <p class="ok" id="set-credentials-result">{text}</p> })}
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        </details>
    }
}
