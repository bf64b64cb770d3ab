//! The operator's single-page app of the felhom hub: Leptos in the browser, talking to the hub's
//! JSON API. Built with trunk and embedded into the `felhom-hub` binary.

mod api;
mod app;
mod components;
mod fleet;
mod format;
mod live;
mod pages;
mod session;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

#[cfg(test)]
mod style_tests {
    /// An unclosed block swallows every rule after it (a lost `}` once put the whole ops section
    /// inside the phone-only media query), and no build step complains.
    #[test]
    fn the_stylesheet_closes_every_block() {
        let css = include_str!("../style.css");
        let mut depth = 0i32;
        for (n, line) in css.lines().enumerate() {
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            assert!(depth >= 0, "style.css line {}: a `}}` closes nothing", n + 1);
        }
        assert_eq!(depth, 0, "style.css leaves a block open");
    }
}
