//! An image enlarged over the inbox (a click on an image attachment): a dialog closed by
//! Escape (`keyboard`), its button or a click anywhere on it.
use dioxus::prelude::*;

use crate::web::browser;
use crate::web::state::AppState;

#[component]
pub fn ImageViewer() -> Element {
    let state = use_context::<AppState>();
    let mut viewer = state.viewer;
    use_effect(move || {
        if viewer().is_some() {
            spawn(async move {
                browser::sleep_ms(0).await;
                browser::focus("#image-viewer-close");
            });
        }
    });
    let Some(url) = viewer() else {
        return rsx! {};
    };
    rsx! {
        div {
            class: "sheet-backdrop viewer",
            role: "dialog",
            "aria-modal": "true",
            "aria-label": "Image",
            "data-testid": "image-viewer",
            onclick: move |_| viewer.set(None),
            img { src: "{url}", alt: "The image, enlarged", referrerpolicy: "no-referrer" }
            button {
                id: "image-viewer-close",
                class: "viewer-close",
                "data-testid": "image-viewer-close",
                "aria-label": "Close the image",
                onclick: move |_| viewer.set(None),
                "×"
            }
        }
    }
}
