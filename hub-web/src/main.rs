//! The operator's single-page app of the felhom hub: Leptos in the browser, talking to the hub's
//! JSON API. Built with trunk and embedded into the `felhom-hub` binary.

mod api;
mod app;
mod components;
mod fleet;
mod format;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
