//! A managed customer's credentials: hidden until the operator reveals them (the hub writes the
//! reveal to the audit log), the setup commands with copy buttons, and the rotations.

use hub_shared::credentials::{setup_commands, Credentials, RevealedCredentials, SetupCommand};
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
        </section>
    }
}
