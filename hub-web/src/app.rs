//! The shell of the app: the header with navigation and the routes.
//!
//! Pages that need a signed-in operator sit inside `Protected`; when the session is missing or
//! ends (any API call answers 401) the app goes to `/login?next=<where the operator was>`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{path, NavigateOptions};

use crate::api;
use crate::components::{ErrorNotice, Loading};
use crate::pages;
use crate::session::{login_url, use_session, Session};

fn current_path() -> String {
    let location = window().location();
    format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default())
}

#[component]
pub fn App() -> impl IntoView {
    let session = Session { info: RwSignal::new(None), error: RwSignal::new(None) };
    provide_context(session);
    spawn_local(async move {
        match api::get_session().await {
            Ok(info) => session.info.set(Some(info)),
            Err(e) => session.error.set(Some(e)),
        }
    });
    view! {
        <Router>
            <Shell/>
        </Router>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    api::on_unauthorized({
        let navigate = navigate.clone();
        move || {
            session.signed_out();
            navigate(&login_url(&current_path()), NavigateOptions { replace: true, ..Default::default() });
        }
    });
    let location = use_location();
    Effect::new(move |_| {
        let needs_login = session.info.with(|i| i.as_ref().is_some_and(|i| i.auth_required && !i.authenticated));
        if needs_login && location.pathname.get() != "/login" {
            navigate(&login_url(&current_path()), NavigateOptions { replace: true, ..Default::default() });
        }
    });
    view! {
        <Header/>
        <main class="page">
            {move || session.error.get().map(|e| view! { <ErrorNotice error=e/> })}
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/") view=|| view! { <Protected><pages::dashboard::DashboardPage/></Protected> }/>
                <Route path=path!("/configs") view=|| view! { <Protected><pages::configs::ConfigsPage/></Protected> }/>
                <Route path=path!("/customers/:id") view=|| view! { <Protected><pages::customer::CustomerPage/></Protected> }/>
                <Route path=path!("/configs/new") view=|| view! { <Protected><pages::config_form::NewConfigPage/></Protected> }/>
                <Route path=path!("/configs/:id/edit") view=|| view! { <Protected><pages::config_form::EditConfigPage/></Protected> }/>
                <Route path=path!("/audit") view=|| view! { <Protected><pages::audit::AuditLogPage/></Protected> }/>
                <Route path=path!("/events") view=|| view! { <Protected><pages::events::EventsPage/></Protected> }/>
                <Route path=path!("/maintenance") view=|| view! { <Protected><pages::maintenance::MaintenancePage/></Protected> }/>
                <Route path=path!("/jobs") view=|| view! { <Protected><pages::jobs::JobsPage/></Protected> }/>
                <Route path=path!("/rollouts") view=|| view! { <Protected><pages::rollouts::RolloutsPage/></Protected> }/>
                <Route path=path!("/rollouts/:id") view=|| view! { <Protected><pages::rollouts::RolloutPage/></Protected> }/>
                <Route path=path!("/assets") view=|| view! { <Protected><pages::assets::AssetsPage/></Protected> }/>
            </Routes>
        </main>
    }
}

/// Shows its children only to a signed-in operator (or to anyone when the hub has no password).
#[component]
fn Protected(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let allowed = Memo::new(move |_| session.allowed());
    move || {
        if allowed.get() {
            children().into_any()
        } else {
            view! { <Loading/> }.into_any()
        }
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let show_logout = move || session.info.with(|i| i.as_ref().is_some_and(|i| i.auth_required && i.authenticated));
    let logout = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            // Even when the hub cannot be reached the operator leaves the pages.
            let _ = api::logout().await;
            session.signed_out();
            navigate("/login", NavigateOptions::default());
        });
    };
    view! {
        <header class="top">
            <a href="/" class="brand"><span class="brand-long">"felhom "</span>"hub"</a>
            <nav class="nav" aria-label="Main">
                <Show when=move || session.allowed()>
                    <A href="/" exact=true>"Dashboard"</A>
                    <A href="/configs">"Customers"</A>
                    <A href="/audit">"Audit log"</A>
                    <A href="/events">"Events"</A>
                    <A href="/maintenance">"Maintenance"</A>
                    <A href="/rollouts">"Rollouts"</A>
                    <A href="/jobs">"Jobs"</A>
                    <A href="/assets">"Assets"</A>
                </Show>
            </nav>
            <Show when=show_logout>
                <button class="link logout" id="logout" on:click=logout.clone()>"Log out"</button>
            </Show>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><A href="/">"Back to the dashboard"</A></p>
        </section>
    }
}
