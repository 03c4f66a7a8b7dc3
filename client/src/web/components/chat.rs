//! One conversation: its history (older pages on scroll up), live messages, the
//! composer with optimistic sending, and the status and assignee controls.
use dioxus::core::spawn_forever;
use dioxus::prelude::*;

use super::Avatar;
use super::notes::note_line;
use crate::model::follow_ups::{format_local, parse_local, snoozed_until_text};
use crate::model::{
    Activity, ActivityChange, Attachment, ConversationPresenceState, ConversationStatus, Message,
    MessageDirection, MessageList, MessageStatus, Note, Route, Shown, SnoozeChoice, Window,
    explain_error, parse_rfc3339, time,
};
use crate::web::actions;
use crate::web::browser;
use crate::web::state::AppState;

const LIST_ID: &str = "message-list";
/// How many older pages a search hit's message is looked for in (50 messages each).
const FOCUS_PAGES: u32 = 40;

#[component]
pub fn Chat() -> Element {
    let state = use_context::<AppState>();
    let open = state.open_conversation();
    match open {
        // Keyed in a list, so another id mounts a new view: Dioxus diffs a lone keyed
        // node in place (the key only counts among siblings), which kept the previous
        // conversation's hooks, tasks and draft.
        Some(id) => rsx! {
            for id in std::iter::once(id) {
                ChatView { key: "{id}", id }
            }
        },
        None => rsx! {
            section { class: "chat placeholder", "aria-label": "Chat",
                p { class: "muted", "Pick a conversation. Use ↑/↓ or j/k to move, Enter to open, ? for every shortcut." }
            }
        },
    }
}

#[component]
fn ChatView(id: String) -> Element {
    let mut state = use_context::<AppState>();
    let mut error = use_signal(|| None::<String>);
    let mut loading_older = use_signal(|| false);
    // Scroll height before an older page went in above, to keep the view still.
    let mut height_before_older = use_signal(|| None::<i32>);
    let mut last_seen = use_signal(|| None::<String>);
    // Where the agent left this conversation's list before (kept across switches).
    let saved_scroll = state.scroll.peek().get(&id).copied();
    // Whether the agent is at the newest message (kept there as messages arrive).
    let mut pinned = use_signal(|| saved_scroll.is_none());

    // Opening: its thread (cached or new), its newest messages, marked read. Each lands
    // in this conversation's own thread, so a late answer never reaches another.
    let conv_id = id.clone();
    use_hook(move || {
        let id = conv_id;
        spawn(async move {
            state.threads.write().open(&id);
            let (latest, read) = futures::join!(
                actions::load_latest_messages(state, id.clone()),
                actions::update_conversation(state, id.clone(), None, None, true),
            );
            if let Err(e) = latest {
                error.set(Some(e.to_string()));
            }
            if read.is_err() {
                // Marking read is refused for an agent who may only look: load it plainly.
                match actions::load_conversation(state, id.clone()).await {
                    Ok(true) => {}
                    Ok(false) => error.set(Some(
                        "No such conversation, or not one of your Pages.".into(),
                    )),
                    Err(e) => error.set(Some(e.to_string())),
                }
            }
        });
    });

    // The others see this agent here until the view goes (NONE), refreshed well within
    // the server's 30 s; a closed tab stops refreshing and disappears by itself.
    let here_id = id.clone();
    use_hook(move || {
        spawn(async move {
            loop {
                actions::set_conversation_presence(
                    state,
                    here_id.clone(),
                    ConversationPresenceState::VIEWING,
                )
                .await;
                browser::sleep_ms(VIEWING_REFRESH_MS).await;
            }
        });
    });
    let gone_id = id.clone();
    use_drop(move || {
        spawn_forever(actions::set_conversation_presence(
            state,
            gone_id.clone(),
            ConversationPresenceState::NONE,
        ));
    });

    let effect_id = id.clone();
    // Keeps the newest message in view as messages arrive, unless the agent scrolled
    // up to read; keeps the view still when an older page goes in above; puts the view
    // back where the agent left this conversation.
    use_effect(move || {
        let last = state
            .threads
            .read()
            .get(&effect_id)
            .and_then(|t| t.messages.items.last().map(|m| (m.id.clone(), m.direction)));
        let before = height_before_older.peek().to_owned();
        let was_at_bottom = *pinned.peek();
        // A search hit's message is scrolled to instead (below).
        let focusing = state
            .focus_message
            .peek()
            .as_ref()
            .is_some_and(|(c, _)| *c == effect_id);
        spawn(async move {
            browser::sleep_ms(0).await;
            if let Some(h) = before {
                browser::scroll_by(LIST_ID, browser::scroll_height(LIST_ID) - h);
                height_before_older.set(None);
            }
            let last_id = last.as_ref().map(|(id, _)| id.clone());
            let changed = last_id != *last_seen.peek();
            let first_time = last_seen.peek().is_none();
            let own = changed && last.is_some_and(|(_, d)| d == MessageDirection::OUTBOUND);
            if first_time
                && last_id.is_some()
                && let Some(top) = saved_scroll
            {
                browser::set_scroll_top(LIST_ID, top);
            } else if before.is_none() && (first_time || was_at_bottom || own) && !focusing {
                // At the bottom, it stays there, also when a status or failure line grows.
                browser::scroll_to_bottom(LIST_ID);
            }
            if changed {
                last_seen.set(last_id);
            }
        });
    });

    // A search hit's message: older pages come until it is in the thread (at most
    // `FOCUS_PAGES` of them), then it is scrolled into view and marked.
    let focus_id = id.clone();
    let mut seeking = use_signal(|| 0u32);
    use_effect(move || {
        let Some(target) = state
            .focus_message
            .read()
            .clone()
            .and_then(|(c, m)| (c == focus_id).then_some(m))
        else {
            return;
        };
        let (present, more, loaded) = match state.threads.read().get(&focus_id) {
            Some(t) => (
                t.messages.items.iter().any(|m| m.id == target),
                t.messages.has_previous,
                t.messages.loaded,
            ),
            None => return,
        };
        if present {
            pinned.set(false);
            let selector = format!("[data-message-id=\"{target}\"]");
            spawn(async move {
                browser::sleep_ms(0).await;
                browser::scroll_into_view(&selector);
            });
        } else if loaded && more && *seeking.peek() < FOCUS_PAGES && !*loading_older.peek() {
            seeking += 1;
            let id = focus_id.clone();
            spawn(async move {
                if let Err(e) = actions::load_older_messages(state, id).await {
                    error.set(Some(e.to_string()));
                }
            });
        }
    });
    let focused = state
        .focus_message
        .read()
        .clone()
        .and_then(|(c, m)| (c == id).then_some(m));

    let (messages, held) = match state.threads.read().get(&id) {
        Some(t) => (t.messages.clone(), t.conversation.clone()),
        None => (MessageList::new(&id), None),
    };
    // The list's copy is the freshest (every refetch lands there); the thread's holds a
    // conversation the list has not loaded or filters out.
    let conversation = state.conversations.read().get(&id).cloned().or(held);
    let now = *state.now_ms.read();
    let agents = state.presence.read().clone();
    let me = state.me.read().as_ref().map(|m| m.id.clone());
    let collision = state.viewers.read().warning(&id, me.as_deref());
    let (activity, notes) = state
        .threads
        .read()
        .get(&id)
        .map(|t| (t.activity.clone(), t.notes.clone()))
        .unwrap_or_default();
    let window = match conversation.as_ref().map(|c| c.window(now)) {
        // The server's word beats this browser's clock.
        Some(_) if messages.refused_outside_window() => Window::Closed,
        Some(w) => w,
        None => Window::Unknown,
    };
    let tz = browser::timezone_offset_minutes();
    let status = conversation.as_ref().map(|c| c.status);
    let assignee = conversation
        .as_ref()
        .and_then(|c| c.assignee.as_ref().map(|a| a.id.clone()))
        .unwrap_or_default();

    let older_id = id.clone();
    let mut load_older = move || {
        let more = state
            .threads
            .peek()
            .get(&older_id)
            .is_some_and(|t| t.messages.has_previous);
        if loading_older() || !more {
            return;
        }
        loading_older.set(true);
        height_before_older.set(Some(browser::scroll_height(LIST_ID)));
        let id = older_id.clone();
        spawn(async move {
            if let Err(e) = actions::load_older_messages(state, id).await {
                error.set(Some(e.to_string()));
                height_before_older.set(None);
            }
            loading_older.set(false);
        });
    };

    let story_open = *state.story_open.read();
    let id_status = id.clone();
    let id_assign = id.clone();
    let id_scroll = id.clone();
    let mut load_older_click = load_older.clone();
    rsx! {
        section { class: "chat", "data-testid": "chat", "data-conversation-id": "{id}", "aria-label": "Chat",
            header { class: "chat-header",
                button {
                    class: "ghost back",
                    "data-testid": "chat-back",
                    "aria-label": "Back to conversations",
                    onclick: move |_| state.navigate(Route::Inbox),
                    "←"
                }
                if let Some(c) = &conversation {
                    Avatar { name: c.customer_label(), initials: c.initials(), picture: c.customer_picture.clone() }
                    div { class: "chat-title",
                        h2 { "data-testid": "chat-customer", "{c.customer_label()}" }
                        p {
                            class: "window-indicator {window.state()} {window.urgency()}",
                            "data-testid": "window-indicator",
                            "data-window": window.state(),
                            "data-urgency": window.urgency(),
                            "{window.describe()}"
                        }
                        if let Some((kind, text)) = &collision {
                            p { class: "collision {kind}", role: "status", "data-testid": "collision-warning", "data-state": "{kind}",
                                "{text}"
                            }
                        }
                        {super::labels::chips(&state, c)}
                        if let (ConversationStatus::SNOOZED, Some(until)) = (c.status, &c.snoozed_until) {
                            p { class: "snoozed-until", "data-testid": "snoozed-until", "data-until": "{until}",
                                {snoozed_until_text(until, now, tz)}
                            }
                        }
                    }
                }
                div { class: "chat-controls",
                    label { class: "sr-only", r#for: "conversation-status", "Status" }
                    select {
                        id: "conversation-status",
                        "data-testid": "conversation-status",
                        disabled: status.is_none(),
                        onchange: move |e| {
                            let id = id_status.clone();
                            let new = ConversationStatus::parse(&e.value());
                            spawn(async move {
                                if let Err(e) = actions::update_conversation(state, id, new, None, false).await {
                                    error.set(Some(e.to_string()));
                                }
                            });
                        },
                        // Snoozing needs a time: the Snooze menu sets it.
                        for s in ConversationStatus::ALL.iter().filter(|s| **s != ConversationStatus::SNOOZED || status == Some(**s)) {
                            option {
                                value: s.as_str(),
                                selected: status == Some(*s),
                                disabled: *s == ConversationStatus::SNOOZED,
                                "{s.label()}"
                            }
                        }
                    }
                    SnoozeMenu { id: id.clone(), disabled: status.is_none(), error }
                    if let Some(c) = &conversation {
                        super::labels::LabelPicker { conversation: c.clone() }
                    }
                    label { class: "sr-only", r#for: "conversation-assignee", "Assignee" }
                    select {
                        id: "conversation-assignee",
                        "data-testid": "conversation-assignee",
                        disabled: status.is_none(),
                        onchange: move |e| {
                            let id = id_assign.clone();
                            let v = e.value();
                            let to = if v.is_empty() { None } else { Some(v) };
                            spawn(async move {
                                if let Err(e) = actions::update_conversation(state, id, None, Some(to), false).await {
                                    error.set(Some(e.to_string()));
                                }
                            });
                        },
                        option { value: "", selected: assignee.is_empty(), "Unassigned" }
                        for p in agents.iter() {
                            option { value: "{p.agent.id}", selected: assignee == p.agent.id, "{p.agent.name}" }
                        }
                        if !assignee.is_empty() && !agents.iter().any(|p| p.agent.id == assignee) {
                            option { value: "{assignee}", selected: true,
                                {conversation.as_ref().and_then(|c| c.assignee.as_ref()).map(|a| a.name.clone()).unwrap_or_default()}
                            }
                        }
                    }
                    button {
                        class: "ghost story-toggle",
                        "data-testid": "customer-panel-toggle",
                        "aria-pressed": "{story_open}",
                        onclick: move |_| state.story_open.set(!story_open),
                        "Customer"
                    }
                }
            }
            if let Some(e) = error() {
                p { class: "banner error", role: "alert", "data-testid": "chat-error", "{e}" }
            }
            div {
                class: "message-list",
                id: LIST_ID,
                "data-testid": "message-list",
                role: "log",
                "aria-live": "polite",
                "aria-label": "Messages",
                tabindex: "0",
                onscroll: move |e| {
                    let gap = f64::from(e.scroll_height()) - e.scroll_top() - f64::from(e.client_height());
                    if (gap < 80.0) != *pinned.peek() {
                        pinned.set(gap < 80.0);
                    }
                    // Remembered for coming back; at the bottom means "at the newest".
                    if gap < 80.0 {
                        state.scroll.write().remove(&id_scroll);
                    } else {
                        state.scroll.write().insert(id_scroll.clone(), e.scroll_top());
                    }
                    if e.scroll_top() < 60.0 {
                        load_older();
                    }
                },
                if messages.has_previous {
                    button {
                        class: "load-older",
                        "data-testid": "load-older",
                        disabled: loading_older(),
                        onclick: move |_| load_older_click(),
                        if loading_older() { "Loading…" } else { "Older messages" }
                    }
                }
                if messages.loaded && messages.items.is_empty() {
                    p { class: "muted center", "No messages yet." }
                }
                for row in timeline(&messages, &activity, &notes, now) {
                    match row {
                        Row::Day { iso, label } => rsx! {
                            div {
                                key: "day-{iso}",
                                class: "day-separator",
                                role: "separator",
                                "aria-label": "{label}",
                                "data-testid": "day-separator",
                                "data-day": "{iso}",
                                span { "{label}" }
                            }
                        },
                        Row::Activity(a) => rsx! {
                            ActivityLine { key: "activity-{a.id}", activity: a, me: me.clone(), tz }
                        },
                        Row::Note(n) => note_line(n, me.as_deref(), tz),
                        Row::Message(m) => rsx! {
                            MessageItem { key: "{m.id}", focused: focused.as_deref() == Some(m.id.as_str()), message: m, tz, window_open: window.open() }
                        },
                    }
                }
            }
            Composer { id: id.clone(), window, known: conversation.is_some() }
            if story_open {
                super::story::StoryPanel { id: id.clone() }
            }
        }
    }
}

/// How often an open chat tells the others it is still here.
const VIEWING_REFRESH_MS: u32 = 10_000;
/// How often "replying" is repeated while the agent types (the server keeps it 7.5 s).
const REPLYING_REFRESH_MS: i64 = 2_500;

/// "Sam resolved this · 14:02": a status change, assignment or snooze, in the thread.
#[component]
fn ActivityLine(activity: Activity, me: Option<String>, tz: i64) -> Element {
    let at = parse_rfc3339(&activity.created_at);
    let clock = at.map(|t| time::clock(t, tz)).unwrap_or_default();
    let until = |t: &str| {
        parse_rfc3339(t)
            .map(|ms| format!("{} {}", time::clock(ms, tz), short_date(ms, tz)))
            .unwrap_or_else(|| t.to_string())
    };
    let Some(text) = activity.describe(me.as_deref(), until) else {
        return rsx! {};
    };
    let kind = match activity.change {
        ActivityChange::Status { .. } => "STATUS",
        ActivityChange::Assignee { .. } => "ASSIGNEE",
        ActivityChange::Snooze { .. } => "SNOOZE",
    };
    let actor = activity
        .actor
        .as_ref()
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    rsx! {
        div {
            class: "activity-line",
            role: "note",
            "data-testid": "activity-item",
            "data-kind": kind,
            "data-actor-id": "{actor}",
            span { "{text} · " }
            time { datetime: "{activity.created_at}", "{clock}" }
        }
    }
}

/// "1 Dec" in the browser's zone.
fn short_date(ms: i64, tz: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let local = crate::model::follow_ups::format_local(ms, tz);
    // "YYYY-MM-DDTHH:MM"
    let month: usize = local.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let day: u32 = local.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(1);
    format!("{day} {}", MONTHS[month.clamp(1, 12) - 1])
}

/// A line of the timeline: a message, a system line (a status change, assignment or
/// snooze), a private note, or the day the lines after it happened.
enum Row {
    Day { iso: String, label: String },
    Message(Message),
    Activity(Activity),
    Note(Note),
}

/// The messages, the activity and the notes in time order, with a day separator before
/// each day's first line (Today, Yesterday, a date), by the browser's time zone at each
/// line's time. Activity and notes older than the oldest loaded message wait until that
/// history is loaded (they would read out of place above it).
fn timeline(
    messages: &MessageList,
    activity: &[Activity],
    notes: &[Note],
    now_ms: i64,
) -> Vec<Row> {
    let oldest = if messages.has_previous {
        messages
            .items
            .first()
            .and_then(|m| parse_rfc3339(&m.timestamp))
    } else {
        None
    };
    // Activity and notes are each in time order: merged, not sorted (a sort's code
    // weighs on the wasm).
    let mut activity = activity
        .iter()
        .map(|a| (a.sort_key().0, Row::Activity(a.clone())))
        .peekable();
    let mut notes = notes
        .iter()
        .map(|n| (n.at(), Row::Note(n.clone())))
        .peekable();
    let mut side = Vec::new();
    loop {
        let take_note = match (activity.peek(), notes.peek()) {
            (Some((a, _)), Some((n, _))) => n < a,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        match if take_note {
            notes.next()
        } else {
            activity.next()
        } {
            Some(line) if oldest.is_none_or(|o| line.0 >= o) => side.push(line),
            Some(_) => {}
            None => break,
        }
    }
    let mut lines: Vec<(Option<i64>, Row)> = Vec::with_capacity(messages.items.len() + side.len());
    let mut pending = side.into_iter().peekable();
    for m in &messages.items {
        let at = parse_rfc3339(&m.timestamp);
        while let Some((t, row)) = pending.next_if(|(t, _)| *t < at.unwrap_or(i64::MAX)) {
            lines.push((Some(t), row));
        }
        lines.push((at, Row::Message(m.clone())));
    }
    lines.extend(pending.map(|(t, row)| (Some(t), row)));
    let today = time::local_day(now_ms, browser::timezone_offset_at(now_ms));
    let mut rows = Vec::with_capacity(lines.len() + 4);
    let mut last_day = None;
    for (at, row) in lines {
        if let Some(t) = at {
            let day = time::local_day(t, browser::timezone_offset_at(t));
            if last_day != Some(day) {
                rows.push(Row::Day {
                    iso: time::iso_date(day),
                    label: time::day_label(day, today),
                });
                last_day = Some(day);
            }
        }
        rows.push(row);
    }
    rows
}

#[component]
fn MessageItem(message: Message, tz: i64, window_open: bool, focused: bool) -> Element {
    let state = use_context::<AppState>();
    let m = message;
    let direction = m.direction.as_str();
    let status = m.status.as_str();
    let at = parse_rfc3339(&m.timestamp)
        .map(|t| time::clock(t, tz))
        .unwrap_or_default();
    let failure = m
        .failure()
        .map(|code| (code.to_string(), explain_error(code)));
    let echo = m.is_echo().then(|| m.echo_source());
    let retry_msg = m.clone();
    // Outside the window every send is refused: a Retry could not succeed.
    let can_retry = window_open && m.text.as_deref().is_some_and(|t| !t.is_empty());
    rsx! {
        div {
            class: "message-item {direction.to_ascii_lowercase()} {status.to_ascii_lowercase()}",
            "data-testid": "message-item",
            "data-focused": if focused { "true" } else { "false" },
            "data-message-id": "{m.id}",
            "data-direction": direction,
            "data-status": status,
            "data-echo": if echo.is_some() { "true" } else { "false" },
            div { class: "bubble",
                if let Some(text) = &m.text {
                    p { class: "message-text", "data-testid": "message-text", "{text}" }
                }
                for (i, a) in m.attachments.iter().enumerate() {
                    {attachment(i, a, state.viewer)}
                }
            }
            if !m.reactions.is_empty() {
                div { class: "reactions", "data-testid": "reactions", "aria-label": "Reactions",
                    for (i, emoji) in m.reactions.iter().enumerate() {
                        span { key: "{i}", class: "reaction", "data-testid": "reaction", "{emoji}" }
                    }
                }
            }
            div { class: "message-meta",
                if let Some(source) = &echo {
                    span { class: "echo", "data-testid": "echo-label", "Sent by the Page via {source} · " }
                } else if let Some(name) = &m.sender_name {
                    span { class: "sender", "data-testid": "message-sender", "{name} · " }
                }
                time { datetime: "{m.timestamp}", "{at}" }
                if m.edit_count > 0 {
                    span { class: "edited", "data-testid": "edited-mark", title: "The customer edited this message", " · edited" }
                }
                if m.direction == MessageDirection::OUTBOUND {
                    span { class: "status", " · {status_label(m.status)}" }
                }
                if m.is_human_agent() {
                    span {
                        class: "tag human-agent",
                        "data-testid": "human-agent-label",
                        title: "Sent after the 24-hour window, tagged HUMAN_AGENT",
                        " · Human agent reply"
                    }
                }
            }
            if let Some((code, why)) = failure {
                div { class: "failure", role: "alert",
                    span { "data-testid": "failure-reason", "data-code": "{code}", "{why} ({code})" }
                    if !window_open {
                        span { class: "muted", "data-testid": "no-retry", "Retrying cannot help while the window is closed." }
                    }
                    if can_retry {
                        button {
                            class: "retry",
                            "data-testid": "retry",
                            onclick: move |_| {
                                // Not tied to this view: switching away must not cut a send short.
                                spawn_forever(actions::retry(state, retry_msg.clone()));
                            },
                            "Retry"
                        }
                    }
                }
            }
        }
    }
}

fn status_label(s: MessageStatus) -> &'static str {
    match s {
        MessageStatus::PENDING => "Sending…",
        MessageStatus::SENT => "Sent",
        MessageStatus::DELIVERED => "Delivered",
        MessageStatus::READ => "Read",
        MessageStatus::FAILED => "Failed",
        MessageStatus::Unknown => "",
    }
}

/// One attachment as sent: images and stickers inline (an image enlarges on a click),
/// players for video and audio, a link for the rest (files by name, locations to their
/// map, shared links by title). `data-kind` is Facebook's type.
fn attachment(i: usize, a: &Attachment, mut viewer: Signal<Option<String>>) -> Element {
    let kind = a.kind.as_str();
    let url = a.url.clone().unwrap_or_default();
    match a.shown() {
        Shown::Image => {
            let full = url.clone();
            rsx! {
                button {
                    key: "{i}",
                    class: "attachment-image",
                    "data-testid": "attachment",
                    "data-kind": kind,
                    "aria-label": "Enlarge the image",
                    onclick: move |_| viewer.set(Some(full.clone())),
                    img { src: "{url}", alt: a.title.clone().unwrap_or_else(|| "Image".into()), loading: "lazy", referrerpolicy: "no-referrer" }
                }
            }
        }
        Shown::Sticker => rsx! {
            img { key: "{i}", class: "attachment-sticker", "data-testid": "attachment", "data-kind": kind, src: "{url}", alt: "Sticker", loading: "lazy", referrerpolicy: "no-referrer" }
        },
        Shown::Video => rsx! {
            video { key: "{i}", class: "attachment-media", "data-testid": "attachment", "data-kind": kind, src: "{url}", controls: true, preload: "metadata" }
        },
        Shown::Audio => rsx! {
            audio { key: "{i}", class: "attachment-media", "data-testid": "attachment", "data-kind": kind, src: "{url}", controls: true, preload: "metadata" }
        },
        Shown::Link => rsx! {
            a { key: "{i}", class: "attachment-link", "data-testid": "attachment", "data-kind": kind, href: a.href().unwrap_or_default(), target: "_blank", rel: "noopener noreferrer", {a.label()} }
        },
        Shown::Bare => {
            // A file just sent has its name but no URL until Facebook's echo.
            let text = if a.name.is_some() || a.title.is_some() {
                a.label()
            } else {
                format!("[{kind}]")
            };
            rsx! {
                span { key: "{i}", class: "attachment-link", "data-testid": "attachment", "data-kind": kind, "{text}" }
            }
        }
    }
}

/// The composer's file input (one composer is shown at a time).
const FILE_INPUT: &str = "composer-file";

/// How often the typing indicator is renewed while the agent keeps typing.
const TYPING_RENEW_MS: i64 = 5_000;

#[component]
fn Composer(id: String, window: Window, known: bool) -> Element {
    let state = use_context::<AppState>();
    let text = state.drafts.read().get(&id).to_string();
    // When the customer was last told the Page is typing (0: not since the last stop).
    let mut typing_since = use_signal(|| 0i64);
    // When the other agents were last told this one is replying (0: not replying).
    let mut replying_since = use_signal(|| 0i64);
    let send_id = id.clone();
    // Facebook refuses replies outside both windows (and before the customer wrote):
    // nothing is sent that cannot succeed. Until the conversation is loaded, sending waits.
    // Reply (to the customer) or Note (for the team only: never sent, so no window).
    let mut note_mode = use_signal(|| false);
    let noting = note_mode();
    let closed = known && !window.open() && !noting;
    let can_send = known && (window.open() || noting);
    // A file chosen to go with the next Send, and why the last one could not.
    let mut file = use_signal(|| None::<web_sys::File>);
    let mut file_error = use_signal(|| None::<String>);
    let mut send = move || {
        let body = state.drafts.peek().get(&send_id).trim().to_string();
        let chosen = file.peek().clone();
        if *note_mode.peek() {
            if body.is_empty() || !can_send {
                return;
            }
            state.set_draft(&send_id, "");
            file_error.set(None);
            let id = send_id.clone();
            spawn_forever(async move {
                if let Err(e) = actions::add_note(state, id.clone(), body.clone()).await {
                    // The text comes back, unless a new draft was begun meanwhile.
                    if state.drafts.peek().get(&id).is_empty() {
                        state.set_draft(&id, &body);
                    }
                    if let Ok(mut error) = file_error.try_write() {
                        *error = Some(e.to_string());
                    }
                }
            });
            return;
        }
        if (body.is_empty() && chosen.is_none()) || !can_send {
            return;
        }
        if let Some(chosen) = chosen {
            file_error.set(None);
            let id = send_id.clone();
            // The file stays chosen until the server has it: a refusal is shown beside it.
            spawn_forever(async move {
                match actions::send_file(state, id, chosen).await {
                    Ok(()) => {
                        if let Ok(mut f) = file.try_write() {
                            *f = None;
                        }
                        browser::clear_file_input(FILE_INPUT);
                    }
                    Err(e) => {
                        if let Ok(mut error) = file_error.try_write() {
                            *error = Some(e.to_string());
                        }
                    }
                }
            });
        }
        if body.is_empty() {
            return;
        }
        state.set_draft(&send_id, "");
        // Facebook ends the typing indicator when the message arrives.
        typing_since.set(0);
        if *replying_since.peek() != 0 {
            replying_since.set(0);
            spawn(actions::set_conversation_presence(
                state,
                send_id.clone(),
                ConversationPresenceState::VIEWING,
            ));
        }
        // Not tied to this view: switching away must not cut a send short.
        spawn_forever(actions::send_text(state, send_id.clone(), body));
    };
    let typing_id = id.clone();
    let note_id = id.clone();
    let input_id = id.clone();
    let drop_id = id.clone();
    // Leaving the conversation with a draft stops the typing indicator.
    use_drop(move || {
        if *typing_since.peek() != 0 {
            spawn_forever(actions::send_typing(state, drop_id.clone(), false));
        }
    });
    let mut send_key = send.clone();
    let empty = text.trim().is_empty() && (noting || file.read().is_none());
    let chosen = file
        .read()
        .as_ref()
        .map(|f| (f.name(), crate::model::format_size(f.size())));
    let human_agent = match window {
        Window::HumanAgent { left_ms } if !noting => Some(crate::model::format_left(left_ms)),
        _ => None,
    };
    rsx! {
        form {
            class: if noting { "composer note-mode" } else { "composer" },
            onsubmit: move |e| {
                e.prevent_default();
                send();
            },
            div { class: "composer-mode", role: "group", "aria-label": "Reply to the customer, or a note for your team",
                button {
                    r#type: "button",
                    "data-testid": "composer-mode-reply",
                    "aria-pressed": if noting { "false" } else { "true" },
                    onclick: move |_| note_mode.set(false),
                    "Reply"
                }
                button {
                    r#type: "button",
                    "data-testid": "composer-mode-note",
                    "aria-pressed": if noting { "true" } else { "false" },
                    onclick: move |_| {
                        note_mode.set(true);
                        // A note is not for the customer: stop showing them the Page typing.
                        if *typing_since.peek() != 0 {
                            typing_since.set(0);
                            spawn(actions::send_typing(state, note_id.clone(), false));
                        }
                    },
                    "Note"
                }
            }
            if closed {
                p { class: "composer-warning", role: "status", "data-testid": "composer-warning",
                    "data-window": window.state(),
                    if window == Window::Unknown {
                        "The customer has not written yet: Facebook refuses replies until they do."
                    } else {
                        "The messaging window is closed: the customer last wrote more than 7 days ago, and Facebook refuses replies until they write again."
                    }
                }
            }
            if let Some(left) = human_agent {
                p { class: "composer-notice", role: "status", "data-testid": "composer-notice",
                    "The 24-hour window has closed: this reply goes out tagged HUMAN_AGENT (allowed for {left} more)."
                }
            }
            label { class: "sr-only", r#for: "composer-input", if noting { "Note" } else { "Reply" } }
            textarea {
                id: "composer-input",
                "data-testid": "composer-input",
                rows: "2",
                maxlength: "2000",
                placeholder: if noting { "Note for your team… (@name mentions, Enter adds it)" } else { "Reply… (Enter sends, Shift+Enter for a new line)" },
                value: "{text}",
                oninput: move |e| {
                    let value = e.value();
                    let typing = !value.trim().is_empty();
                    state.set_draft(&input_id, &value);
                    // The other agents see "replying…" while there is a draft (renewed
                    // while typing goes on), whatever the window.
                    let now = browser::now_ms();
                    let replying = *replying_since.peek();
                    if typing && now - replying >= REPLYING_REFRESH_MS {
                        replying_since.set(now);
                        spawn(actions::set_conversation_presence(state, input_id.clone(), ConversationPresenceState::TYPING));
                    } else if !typing && replying != 0 {
                        replying_since.set(0);
                        spawn(actions::set_conversation_presence(state, input_id.clone(), ConversationPresenceState::VIEWING));
                    }
                    if closed || *note_mode.peek() {
                        return;
                    }
                    // Messenger shows `typing_on` for about 20 s: renew it every 5 s while
                    // the agent types, and stop it when the draft is cleared.
                    let since = *typing_since.peek();
                    if typing && now - since >= TYPING_RENEW_MS {
                        typing_since.set(now);
                        spawn(actions::send_typing(state, typing_id.clone(), true));
                    } else if !typing && since != 0 {
                        typing_since.set(0);
                        spawn(actions::send_typing(state, typing_id.clone(), false));
                    }
                },
                onkeydown: move |e: KeyboardEvent| {
                    if e.key() == Key::Enter && !e.modifiers().shift() && !e.is_composing() {
                        e.prevent_default();
                        send_key();
                    }
                },
            }
            input {
                r#type: "file",
                id: FILE_INPUT,
                class: "file-input",
                "data-testid": "composer-file-input",
                onchange: move |_| {
                    let chosen = browser::chosen_file(FILE_INPUT);
                    let too_big = chosen.as_ref().is_some_and(|f| f.size() > crate::model::MAX_FILE_BYTES);
                    file_error.set(too_big.then(|| "This file is larger than 25 MB, the most Messenger takes.".to_string()));
                    file.set(chosen.filter(|_| !too_big));
                },
            }
            super::emoji::EmojiPicker { target: "composer-input" }
            if !noting {
                label { class: "attach button", r#for: FILE_INPUT, "data-testid": "composer-attach", title: "Attach a file", "Attach" }
            }
            if let (Some((name, size)), false) = (chosen, noting) {
                p { class: "chosen-file", "data-testid": "chosen-file",
                    span { class: "chosen-file-name", "data-testid": "chosen-file-name", "{name}" }
                    span { class: "muted", "data-testid": "chosen-file-size", " · {size} " }
                    button {
                        r#type: "button",
                        class: "link",
                        "data-testid": "chosen-file-remove",
                        "aria-label": "Remove the file",
                        onclick: move |_| {
                            file.set(None);
                            file_error.set(None);
                            browser::clear_file_input(FILE_INPUT);
                        },
                        "Remove"
                    }
                }
            }
            if let Some(error) = file_error() {
                p { class: "composer-error", role: "alert", "data-testid": "composer-file-error", "{error}" }
            }
            button {
                class: "primary",
                r#type: "submit",
                "data-testid": "composer-send",
                disabled: empty || !can_send,
                title: if closed { "Facebook refuses replies outside the messaging window" } else { "" },
                if noting { "Add note" } else { "Send" }
            }
        }
    }
}

/// Snooze: 1 hour, tomorrow at 9:00, next Monday at 9:00 (local time), or a time picked.
/// The conversation wakes (OPEN) by itself then, or when the customer writes.
#[component]
fn SnoozeMenu(id: String, disabled: bool, error: Signal<Option<String>>) -> Element {
    let state = use_context::<AppState>();
    let mut open = use_signal(|| false);
    let mut picked = use_signal(String::new);
    let mut busy = use_signal(|| false);
    let mut snooze = move |id: String, until: i64| {
        busy.set(true);
        spawn(async move {
            match actions::snooze_conversation(state, id, until).await {
                Ok(()) => {
                    open.set(false);
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let now = *state.now_ms.read();
    let tz = browser::timezone_offset_minutes();
    let earliest = format_local(now + 60_000, tz);
    let pick_id = id.clone();
    rsx! {
        div { class: "snooze",
            button {
                class: "ghost",
                "data-testid": "snooze-menu",
                "aria-haspopup": "true",
                "aria-expanded": if open() { "true" } else { "false" },
                disabled: disabled || busy(),
                onclick: move |_| {
                    let now_open = !*open.peek();
                    open.set(now_open);
                },
                "Snooze"
            }
            if open() {
                div { class: "snooze-options", role: "menu",
                    for choice in SnoozeChoice::ALL {
                        button {
                            role: "menuitem",
                            "data-testid": "snooze-option",
                            "data-snooze": choice.key(),
                            disabled: busy(),
                            onclick: {
                                let id = id.clone();
                                move |_| snooze(id.clone(), choice.until(browser::now_ms(), tz))
                            },
                            "{choice.label()}"
                        }
                    }
                    form {
                        class: "snooze-pick",
                        onsubmit: move |e| {
                            e.prevent_default();
                            match parse_local(&picked.peek(), tz) {
                                Some(until) if until > browser::now_ms() => snooze(pick_id.clone(), until),
                                _ => error.set(Some("Pick a time in the future to snooze until.".into())),
                            }
                        },
                        label { r#for: "snooze-at", "Pick a time" }
                        input {
                            id: "snooze-at",
                            r#type: "datetime-local",
                            "data-testid": "snooze-at",
                            min: "{earliest}",
                            value: "{picked}",
                            oninput: move |e| picked.set(e.value()),
                        }
                        button { r#type: "submit", "data-testid": "snooze-at-submit", disabled: busy(), "Snooze" }
                    }
                }
            }
        }
    }
}
