//! `/assets`: the app logos and screenshots the hub serves to controllers, each with its preview,
//! size and SHA-256; the operator uploads new ones and deletes old ones here.

use hub_shared::assets::{parse_asset_name, AssetInfo, AssetManifest};
use hub_shared::ApiError;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::{ErrorNotice, Loading};
use crate::format;

/// The manifest as last loaded, and a way to load it again after a change.
#[derive(Clone, Copy)]
struct Manifest {
    answer: RwSignal<Option<Result<AssetManifest, ApiError>>>,
}

impl Manifest {
    fn load(self) {
        spawn_local(async move { self.answer.set(Some(api::get_asset_manifest().await)) });
    }
}

#[component]
pub fn AssetsPage() -> impl IntoView {
    let manifest = Manifest { answer: RwSignal::new(None) };
    manifest.load();
    view! {
        <div class="page-head">
            <h1>"Assets"</h1>
            <p class="muted" id="assets-summary">
                {move || manifest.answer.with(|a| match a {
                    Some(Ok(m)) => format!("{} files · {} · read {}", m.assets.len(), format::bytes(m.total_bytes),
                        format::datetime(m.scanned_at)),
                    _ => String::new(),
                })}
            </p>
        </div>
        <UploadForm manifest=manifest/>
        {move || match manifest.answer.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
            Some(Ok(m)) if m.assets.is_empty() => view! {
                <p class="notice empty" id="no-assets">"No assets yet. Upload one above, or put files into the hub's assets directory."</p>
            }.into_any(),
            Some(Ok(m)) => view! {
                <div class="asset-grid" id="assets">
                    {m.assets.into_iter().map(|a| view! { <AssetTile asset=a manifest=manifest/> }).collect_view()}
                </div>
            }.into_any(),
        }}
    }
}

#[component]
fn AssetTile(asset: AssetInfo, manifest: Manifest) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let name = asset.filename.clone();
    let delete = move |_| {
        let name = name.clone();
        spawn_local(async move {
            match api::delete_asset(&name).await {
                Ok(()) => manifest.load(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let kind = match asset.kind {
        hub_shared::assets::AssetKind::Logo => "LOGO",
        hub_shared::assets::AssetKind::Screenshot => "SCREENSHOT",
    };
    view! {
        <figure class="asset" data-asset=asset.filename.clone()>
            <div class="asset-preview">
                <img src=api::asset_url(&asset.filename, &asset.sha256) alt=asset.filename.clone() loading="lazy"/>
            </div>
            <figcaption>
                <strong class="asset-name">{asset.filename.clone()}</strong>
                <span class="asset-meta">
                    <span class="tag">{kind}</span>
                    <span>{format::bytes(asset.size)}</span>
                </span>
                <span class="muted">{asset.content_type.clone()}</span>
                <code class="asset-hash" title=asset.sha256.clone()>{asset.sha256.clone()}</code>
                <span class="muted asset-date">"changed " {format::datetime(asset.modified_at)}</span>
                {move || error.get().map(|e| view! { <span class="form-error">{e.message}</span> })}
                <span class="asset-actions">
                    <Show when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class="link danger delete" on:click=move |_| confirming.set(true)>"Delete"</button>
                        }>
                        <span class="confirm">"Delete this file?"</span>
                        <button type="button" class="link danger confirm-delete" on:click=delete.clone()>"Delete"</button>
                        <button type="button" class="link" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </Show>
                </span>
            </figcaption>
        </figure>
    }
}

/// Picks a file and the name it is stored under (the file's own name by default), checks the
/// name with the server's rule, and uploads it.
#[component]
fn UploadForm(manifest: Manifest) -> impl IntoView {
    let file_input = NodeRef::<html::Input>::new();
    let name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<String, String>>);
    let name_error = move || {
        let n = name.get();
        (!n.is_empty()).then(|| parse_asset_name(&n).err()).flatten()
    };
    let picked = move |_| {
        let file = file_input.get().and_then(|i| i.files()).and_then(|f| f.get(0));
        if let Some(f) = file {
            name.set(f.name());
        }
        result.set(None);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(file) = file_input.get().and_then(|i| i.files()).and_then(|f| f.get(0)) else {
            result.set(Some(Err("Choose a file first.".into())));
            return;
        };
        let filename = name.get_untracked();
        if let Err(e) = parse_asset_name(&filename) {
            result.set(Some(Err(e)));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::put_asset(&filename, file).await {
                Ok(info) => {
                    result.set(Some(Ok(format!("Uploaded {} ({}).", info.filename, format::bytes(info.size)))));
                    name.set(String::new());
                    if let Some(input) = file_input.get_untracked() {
                        input.set_value("");
                    }
                    manifest.load();
                }
                Err(e) => result.set(Some(Err(e.message))),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card upload" id="upload" on:submit=submit>
            <h2>"Upload"</h2>
            <div class="upload-row">
                <input type="file" id="asset-file" accept="image/svg+xml,image/png,image/webp" node_ref=file_input on:change=picked/>
                <input type="text" id="asset-name" placeholder="nextcloud-logo.svg" aria-label="File name"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Uploading…" } else { "Upload" }}
                </button>
            </div>
            <p class="muted hint">"Names: {slug}-logo.svg, {slug}-logo.png or {slug}-screenshot-{N}.webp; at most 2 MiB."</p>
            {move || name_error().map(|e| view! { <p class="form-error" id="asset-name-error">{e}</p> })}
            {move || result.get().map(|r| match r {
                Ok(text) => view! { <p class="ok" id="upload-result">{text}</p> }.into_any(),
                Err(text) => view! { <p class="form-error" id="upload-result">{text}</p> }.into_any(),
            })}
        </form>
    }
}
