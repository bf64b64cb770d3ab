//! `/login`: sign in with the operator password, then go back where the operator was
//! (`?next=`). Without a password on the hub there is nothing to sign in to.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api;
use crate::session::use_session;

/// Where to go after signing in: only paths inside the app.
fn next_path(next: Option<String>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/login") => p,
        _ => "/".into(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let next = move || next_path(query.with(|q| q.get("next")));

    // Already signed in, or no password on this hub: nothing to do here.
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if session.allowed() {
                navigate(&next(), NavigateOptions { replace: true, ..Default::default() });
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let pw = password.get_untracked();
        spawn_local(async move {
            match api::login(pw).await {
                Ok(info) => {
                    password.set(String::new());
                    session.info.set(Some(info));
                }
                Err(e) if e.code == "unauthorized" => error.set(Some("Wrong password.".into())),
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card login">
            <h1>"Sign in"</h1>
            <p class="muted">"The felhom hub's operator dashboard."</p>
            <form on:submit=submit>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    autofocus prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))/>
                {move || error.get().map(|e| view! { <p class="form-error" id="login-error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::next_path;

    #[test]
    fn goes_back_only_inside_the_app() {
        assert_eq!(next_path(Some("/customers/kovacs?period=24h".into())), "/customers/kovacs?period=24h");
        assert_eq!(next_path(Some("//evil.example".into())), "/");
        assert_eq!(next_path(Some("https://evil.example".into())), "/");
        assert_eq!(next_path(Some("/login".into())), "/");
        assert_eq!(next_path(None), "/");
    }
}
