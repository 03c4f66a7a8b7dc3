//! What the tab shows and when the agent is alerted: the unread total in the title and
//! the favicon, and which customer messages get a sound or a desktop notification.
use super::{Conversation, ConversationList, Message, MessageDirection, Page, parse_rfc3339};

/// A message older than this when it arrives is history (a sync, a long replay), not
/// news: no alert.
pub const FRESH_MS: i64 = 2 * 60 * 1000;

/// The unread total of Page `page_id` (over all its conversations, as the server counts
/// them: the list may hold only a few of them).
pub fn unread_total(pages: &[Page], page_id: Option<&str>) -> i64 {
    pages
        .iter()
        .find(|p| Some(p.id.as_str()) == page_id)
        .map_or(0, |p| p.unread_total.max(0))
}

/// The tab's title for `unread` messages.
pub fn title(unread: i64) -> String {
    if unread > 0 {
        format!("({unread}) MessengerFlow")
    } else {
        "MessengerFlow".to_string()
    }
}

/// The favicon, an SVG: a speech bubble, with the unread total on a red badge (99+ at
/// most).
pub fn favicon_svg(unread: i64) -> String {
    let bubble = "<rect x='1' y='4' width='24' height='18' rx='5' fill='#0b57d0'/>\
        <path d='M6 21v8l8-8z' fill='#0b57d0'/>";
    let badge = if unread > 0 {
        let text = if unread > 99 {
            "99+".to_string()
        } else {
            unread.to_string()
        };
        let size = match text.len() {
            1 => 15,
            2 => 12,
            _ => 9,
        };
        format!(
            "<circle cx='22' cy='10' r='10' fill='#d93025'/>\
             <text x='22' y='{y}' font-family='Arial,sans-serif' font-weight='700' \
             font-size='{size}' text-anchor='middle' fill='#fff'>{text}</text>",
            y = 10 + size * 7 / 20,
        )
    } else {
        String::new()
    };
    format!("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'>{bubble}{badge}</svg>")
}

/// Whether the list held the message's conversation before the message: a copy that
/// already shows this message (or a later one) came with it, from a refetch that
/// overtook the live event, and says nothing of before.
pub fn listed_before(list: &ConversationList, message: &Message) -> bool {
    let sent = parse_rfc3339(&message.timestamp).unwrap_or(i64::MAX);
    list.get(&message.conversation_id)
        .and_then(|c| parse_rfc3339(&c.last_timestamp))
        .is_some_and(|last| last < sent)
}

/// Why a customer's message alerts the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// Its conversation was not in the list: a new conversation (or one coming back
    /// from beyond what the list has loaded).
    NewConversation,
    /// Its conversation is assigned to the signed-in agent.
    AssignedToMe,
}

/// Whether a message just received alerts the agent, and why.
/// - `listed`: its conversation was in the list before the message came;
/// - `conversation`: its conversation as the list has it now, if it does;
/// - `watching`: the agent has this conversation open in a tab in front.
pub fn alert_for(
    message: &Message,
    listed: bool,
    conversation: Option<&Conversation>,
    me: Option<&str>,
    watching: bool,
    now_ms: i64,
) -> Option<Alert> {
    if message.direction != MessageDirection::INBOUND || watching {
        return None;
    }
    let sent = parse_rfc3339(&message.timestamp)?;
    if now_ms - sent > FRESH_MS {
        return None;
    }
    let mine = conversation
        .and_then(|c| c.assignee.as_ref())
        .is_some_and(|a| Some(a.id.as_str()) == me);
    if mine {
        Some(Alert::AssignedToMe)
    } else if !listed {
        Some(Alert::NewConversation)
    } else {
        None
    }
}

/// The notification's title and body.
pub fn describe(
    alert: Alert,
    conversation: Option<&Conversation>,
    message: &Message,
) -> (String, String) {
    let who = conversation.map_or_else(|| "A customer".to_string(), Conversation::customer_label);
    let title = match alert {
        Alert::NewConversation => format!("New conversation: {who}"),
        Alert::AssignedToMe => format!("{who} (assigned to you)"),
    };
    let body = match message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => text.chars().take(140).collect(),
        None => "sent an attachment".to_string(),
    };
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentRef, ConversationStatus, MessageStatus};

    fn message(direction: MessageDirection, at: &str) -> Message {
        let mut m = Message::pending("7", "x", "Is it in stock?", at);
        m.id = "9".into();
        m.direction = direction;
        m.client_mutation_id = None;
        m.status = MessageStatus::SENT;
        m
    }

    fn conversation(assignee: Option<&str>) -> Conversation {
        Conversation {
            id: "7".into(),
            page_id: "p".into(),
            customer_psid: "123456789".into(),
            customer_name: Some("Ada Lovelace".into()),
            customer_picture: None,
            last_message_text: None,
            last_timestamp: "2026-11-26T10:00:00Z".into(),
            unread_count: 2,
            status: ConversationStatus::OPEN,
            assignee: assignee.map(|id| AgentRef {
                id: id.into(),
                name: "Sam".into(),
            }),
            window_expires_at: None,
            human_agent_window_expires_at: None,
            snoozed_until: None,
            labels: Vec::new(),
        }
    }

    const AT: &str = "2026-11-26T10:00:00Z";

    #[test]
    fn the_title_and_favicon_carry_the_unread_total() {
        assert_eq!(title(0), "MessengerFlow");
        assert_eq!(title(3), "(3) MessengerFlow");
        assert!(!favicon_svg(0).contains("<text"));
        assert!(favicon_svg(3).contains(">3</text>"));
        assert!(favicon_svg(250).contains(">99+</text>"));
    }

    #[test]
    fn the_unread_total_is_the_selected_pages_whatever_the_list_holds() {
        let page = |id: &str, unread_total| Page {
            id: id.into(),
            name: None,
            connected: true,
            needs_reconnect: false,
            permission_missing: false,
            event_position: "0".into(),
            unread_total,
        };
        let pages = [page("p1", 7), page("p2", 2)];
        assert_eq!(unread_total(&pages, Some("p1")), 7);
        assert_eq!(unread_total(&pages, Some("p2")), 2);
        assert_eq!(unread_total(&pages, Some("gone")), 0);
        assert_eq!(unread_total(&pages, None), 0);
    }

    #[test]
    fn a_copy_that_came_with_the_message_does_not_make_it_listed_before() {
        let mut list = ConversationList::default();
        let inbound = message(MessageDirection::INBOUND, "2026-11-26T10:05:00Z");
        assert!(!listed_before(&list, &inbound));
        let all = crate::model::ListFilter::default();
        list.merge_page(vec![conversation(None)], &all, 0, None);
        assert!(listed_before(&list, &inbound));
        let mut fetched = conversation(None);
        fetched.last_timestamp = "2026-11-26T10:05:00Z".into();
        list.merge_page(vec![fetched], &all, 0, None);
        assert!(!listed_before(&list, &inbound));
    }

    #[test]
    fn new_conversations_and_mine_alert_others_and_history_do_not() {
        let inbound = message(MessageDirection::INBOUND, AT);
        let mine = conversation(Some("a1"));
        let theirs = conversation(Some("a2"));
        let me = Some("a1");
        let now = parse_rfc3339(AT).unwrap_or_default() + 30_000;
        assert_eq!(
            alert_for(&inbound, false, None, me, false, now),
            Some(Alert::NewConversation)
        );
        assert_eq!(
            alert_for(&inbound, true, Some(&mine), me, false, now),
            Some(Alert::AssignedToMe)
        );
        assert_eq!(
            alert_for(&inbound, true, Some(&theirs), me, false, now),
            None
        );
        // Open in front of the agent, our own replies, and old history: nothing.
        assert_eq!(alert_for(&inbound, true, Some(&mine), me, true, now), None);
        let reply = message(MessageDirection::OUTBOUND, AT);
        assert_eq!(alert_for(&reply, false, None, me, false, now), None);
        let old = message(MessageDirection::INBOUND, "2026-11-26T09:00:00Z");
        assert_eq!(alert_for(&old, false, None, me, false, now), None);
        let (title, body) = describe(Alert::AssignedToMe, Some(&mine), &inbound);
        assert_eq!(title, "Ada Lovelace (assigned to you)");
        assert_eq!(body, "Is it in stock?");
    }
}
