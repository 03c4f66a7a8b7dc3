//! The few browser facilities the inbox needs, each failing soft: a missing
//! `localStorage` (private mode) only costs the reload-survival of the session.
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

const TOKEN_KEY: &str = "messengerflow.session";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The session token saved by the last sign-in in this browser.
pub fn load_token() -> Option<String> {
    storage()?.get_item(TOKEN_KEY).ok()?
}

/// Saves the session token (`None` forgets it).
pub fn save_token(token: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match token {
            Some(t) => s.set_item(TOKEN_KEY, t),
            None => s.remove_item(TOKEN_KEY),
        };
    }
}

const DRAFTS_KEY: &str = "messengerflow.drafts";

/// The drafts saved in this browser (forgotten at sign-out).
pub fn load_drafts() -> crate::model::Drafts {
    storage()
        .and_then(|s| s.get_item(DRAFTS_KEY).ok().flatten())
        .map(|json| crate::model::Drafts::from_json(&json))
        .unwrap_or_default()
}

/// Saves the drafts (`None` forgets them).
pub fn save_drafts(json: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match json {
            Some(j) => s.set_item(DRAFTS_KEY, j),
            None => s.remove_item(DRAFTS_KEY),
        };
    }
}

/// The URL's hash, which carries the route.
pub fn hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

pub fn set_hash(hash: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(hash);
    }
}

/// Calls `f` with the new hash whenever it changes (back button, links).
pub fn on_hash_change(mut f: impl FnMut(String) + 'static) {
    let Some(w) = web_sys::window() else { return };
    let closure = Closure::<dyn FnMut()>::new(move || f(hash()));
    let _ = w.add_event_listener_with_callback("hashchange", closure.as_ref().unchecked_ref());
    // Lives as long as the page.
    closure.forget();
}

/// Milliseconds since the epoch, by the browser's clock.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The browser's time zone as JavaScript gives it (minutes behind UTC).
pub fn timezone_offset_minutes() -> i64 {
    js_sys::Date::new_0().get_timezone_offset() as i64
}

/// The browser's time zone offset at the moment `ms` (minutes behind UTC; daylight
/// saving time moves it).
pub fn timezone_offset_at(ms: i64) -> i64 {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).get_timezone_offset() as i64
}

/// A random idempotency key for `sendMessage`.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The subscription endpoint on the page's own origin.
pub fn ws_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let secure = location
        .and_then(|l| l.protocol().ok())
        .is_some_and(|p| p == "https:");
    format!("{}://{host}/graphql/ws", if secure { "wss" } else { "ws" })
}

/// Moves the keyboard focus to the first element matching `selector`.
pub fn focus(selector: &str) {
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = el {
        let _ = el.focus();
    }
}

fn element_by_id(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// The scroll height of an element, to keep the view still when older messages are
/// put above it.
pub fn scroll_height(id: &str) -> i32 {
    element_by_id(id).map(|e| e.scroll_height()).unwrap_or(0)
}

/// Scrolls an element to its bottom (the newest message).
pub fn scroll_to_bottom(id: &str) {
    if let Some(e) = element_by_id(id) {
        e.set_scroll_top(e.scroll_height());
    }
}

/// Scrolls an element to `top` pixels from its top.
pub fn set_scroll_top(id: &str, top: f64) {
    if let Some(e) = element_by_id(id) {
        e.set_scroll_top(top as i32);
    }
}

/// Scrolls an element down by `by` pixels.
pub fn scroll_by(id: &str, by: i32) {
    if let Some(e) = element_by_id(id) {
        e.set_scroll_top(e.scroll_top() + by);
    }
}

/// Whether the scrollable element `id` is shown and its end is less than `margin` pixels
/// below its visible part: scrolled near the end, or its content does not fill it.
pub fn near_end(id: &str, margin: i32) -> bool {
    element_by_id(id).is_some_and(|e| {
        e.client_height() > 0 && e.scroll_height() - e.scroll_top() - e.client_height() < margin
    })
}

/// A listener on the window, removed when this is dropped.
pub struct WindowListener {
    kind: &'static str,
    closure: Closure<dyn FnMut()>,
}

impl Drop for WindowListener {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback(
                self.kind,
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Calls `f` on each `kind` event of the window (`resize`, `focus`, …) until the
/// returned guard is dropped.
pub fn on_window(kind: &'static str, f: impl FnMut() + 'static) -> Option<WindowListener> {
    let w = web_sys::window()?;
    let closure = Closure::<dyn FnMut()>::new(f);
    w.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
        .ok()?;
    Some(WindowListener { kind, closure })
}

/// Whether the tab is in front (marking read only makes sense then).
pub fn visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| !d.hidden())
}

pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// A `keydown` listener on the document, removed when dropped.
pub struct KeyListener {
    closure: Closure<dyn FnMut(web_sys::KeyboardEvent)>,
}

impl Drop for KeyListener {
    fn drop(&mut self) {
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            let _ = d.remove_event_listener_with_callback(
                "keydown",
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Calls `f` with every key press that reaches the document (after the page's own
/// handlers, which may have taken it: `defaultPrevented`).
pub fn on_key_down(f: impl FnMut(web_sys::KeyboardEvent) + 'static) -> KeyListener {
    let closure = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(f);
    if let Some(d) = web_sys::window().and_then(|w| w.document()) {
        let _ = d.add_event_listener_with_callback("keydown", closure.as_ref().unchecked_ref());
    }
    KeyListener { closure }
}

/// Whether an event's target is a field that takes typing (input, textarea, select, an
/// editable element), where letters are text, not shortcuts.
pub fn is_field(target: Option<web_sys::EventTarget>) -> bool {
    let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) else {
        return false;
    };
    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
}

/// Whether nothing on the page has the keyboard focus.
pub fn nothing_focused() -> bool {
    let Some(d) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    match d.active_element() {
        None => true,
        Some(el) => d.body().is_some_and(|b| b.is_same_node(Some(&el))),
    }
}

/// The conversation ids of the list as shown, top first.
pub fn listed_conversations() -> Vec<String> {
    let Some(d) = web_sys::window().and_then(|w| w.document()) else {
        return Vec::new();
    };
    let Ok(items) = d.query_selector_all("[data-testid=\"conversation-item\"]") else {
        return Vec::new();
    };
    (0..items.length())
        .filter_map(|i| items.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .filter_map(|e| e.get_attribute("data-conversation-id"))
        .collect()
}

/// Moves the focus to the list's item of `id`, or to the first item.
pub fn focus_list_item(id: Option<&str>) {
    let own =
        id.map(|id| format!("[data-testid=\"conversation-item\"][data-conversation-id=\"{id}\"]"));
    let found = own.as_deref().is_some_and(|sel| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(sel).ok().flatten())
            .is_some()
    });
    match own {
        Some(sel) if found => focus(&sel),
        _ => focus("[data-testid=\"conversation-item\"]"),
    }
}

/// The conversation whose list item has the keyboard focus, if any.
pub fn focused_conversation() -> Option<String> {
    let el = web_sys::window()?.document()?.active_element()?;
    el.closest("[data-conversation-id]")
        .ok()
        .flatten()?
        .get_attribute("data-conversation-id")
}

/// The file chosen in the file input `id`, if any.
pub fn chosen_file(id: &str) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    let input: web_sys::HtmlInputElement = web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .dyn_into()
        .ok()?;
    input.files()?.get(0)
}

/// Forgets the file chosen in the file input `id`, so choosing the same one again is a change.
pub fn clear_file_input(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(input) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.set_value("");
    }
}

/// Selects the text of the input `id`, so it can be copied by hand.
pub fn select(id: &str) {
    if let Some(input) =
        element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.select();
    }
}

/// Puts `text` on the clipboard; whether the browser allowed it.
pub async fn copy(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Types `text` into the textarea `id` at its cursor (over its selection), leaves the
/// cursor after it and the focus in it, and tells the page's own handlers as typing
/// would (a bubbling `input` event), so whatever keeps the field's value keeps this too.
pub fn insert_at_cursor(id: &str, text: &str) {
    let Some(area) =
        element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return;
    };
    let end_of_text = area.value().encode_utf16().count() as u32;
    let start = area.selection_start().ok().flatten().unwrap_or(end_of_text);
    let end = area.selection_end().ok().flatten().unwrap_or(start);
    let _ = area.set_range_text_with_start_and_end_and_mode(text, start, end, "end");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    if let Ok(event) = web_sys::Event::new_with_event_init_dict("input", &init) {
        let _ = area.dispatch_event(&event);
    }
    let _ = area.focus();
}

/// What a control asks for, read from the element an event happened on (or its closest
/// ancestor naming an act): its `data-act`, the `data-id` of it or of its closest
/// ancestor having one (its row), and its value (a box's, or `data-value`) and whether it
/// is checked. One handler serves a screen's rows.
pub struct Acted {
    pub act: String,
    pub id: String,
    pub value: String,
    pub on: bool,
}

pub fn acted(event: &web_sys::Event) -> Option<Acted> {
    let el = event
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("[data-act]")
        .ok()??;
    let (value, on) = match el.dyn_ref::<web_sys::HtmlInputElement>() {
        Some(input) => (input.value(), input.checked()),
        None => (el.get_attribute("data-value").unwrap_or_default(), false),
    };
    let id = el.closest("[data-id]").ok().flatten();
    Some(Acted {
        act: el.get_attribute("data-act").unwrap_or_default(),
        id: id
            .and_then(|e| e.get_attribute("data-id"))
            .unwrap_or_default(),
        value,
        on,
    })
}

/// Puts the form `id` back as it was first drawn, then `field` to `value`.
pub fn reset_form(id: &str, field: Option<(&str, &str)>) {
    if let Some(form) =
        element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlFormElement>().ok())
    {
        form.reset();
    }
    if let Some((field, value)) = field
        && let Some(input) =
            element_by_id(field).and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.set_value(value);
    }
}
