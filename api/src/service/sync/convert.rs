//! What the Conversations API's shapes become here: the customer of a thread, and each
//! of its messages as the webhook event ingest already knows how to store.
use chrono::DateTime;

use crate::facebook::events::{Attachment, Direction, Event, IncomingMessage};
use crate::facebook::graph::{GraphConversation, GraphMessage};

/// Graph's `2026-11-26T13:25:26+0000` as ms.
pub(super) fn parse_time(text: &str) -> Option<i64> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.timestamp_millis())
}

fn attachments(message: &GraphMessage) -> Vec<Attachment> {
    let Some(list) = &message.attachments else {
        return Vec::new();
    };
    list.data
        .iter()
        .map(|a| {
            let pick = |key: &str| {
                a.get(key)
                    .and_then(|v| v.get("url"))
                    .and_then(|u| u.as_str())
            };
            let (kind, url) = if let Some(url) = pick("image_data") {
                ("image", Some(url))
            } else if let Some(url) = pick("video_data") {
                ("video", Some(url))
            } else {
                ("file", a.get("file_url").and_then(|u| u.as_str()))
            };
            Attachment {
                kind: kind.to_owned(),
                url: url.map(str::to_owned),
                title: a.get("name").and_then(|n| n.as_str()).map(str::to_owned),
                ..Attachment::default()
            }
        })
        .collect()
}

/// The customer of a Graph conversation: the participant that is not the Page.
pub(super) fn customer(
    page_id: &str,
    conversation: &GraphConversation,
) -> Option<(String, Option<String>)> {
    conversation
        .participants
        .as_ref()?
        .data
        .iter()
        .find(|p| p.id != page_id)
        .map(|p| (p.id.clone(), p.name.clone()))
}

/// One imported message as a historical webhook event (`None` without a readable time).
pub(super) fn to_event(page_id: &str, psid: &str, message: &GraphMessage) -> Option<Event> {
    let timestamp = parse_time(&message.created_time)?;
    let from_page = message.from.as_ref().is_some_and(|f| f.id == page_id);
    Some(Event::Message(IncomingMessage {
        page_id: page_id.to_owned(),
        psid: psid.to_owned(),
        mid: message.id.clone(),
        direction: if from_page {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        text: message.message.clone().filter(|t| !t.is_empty()),
        attachments: attachments(message),
        quick_reply_payload: None,
        reply_to_mid: None,
        app_id: None,
        timestamp,
        metadata: None,
        historical: true,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn graph_times_are_read_with_or_without_a_colon_in_the_offset() {
        assert_eq!(parse_time("1970-01-01T00:00:01+0000"), Some(1000));
        assert_eq!(parse_time("1970-01-01T01:00:01+01:00"), Some(1000));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn the_customer_is_the_participant_that_is_not_the_page() {
        let thread: GraphConversation = serde_json::from_value(json!({
            "id": "t1",
            "participants": {"data": [{"id": "page"}, {"id": "psid", "name": "Ada"}]}
        }))
        .unwrap();
        let alone: GraphConversation = serde_json::from_value(json!({
            "id": "t2",
            "participants": {"data": [{"id": "page"}]}
        }))
        .unwrap();

        assert_eq!(
            customer("page", &thread),
            Some(("psid".to_owned(), Some("Ada".to_owned())))
        );
        assert_eq!(customer("page", &alone), None);
    }

    #[test]
    fn a_graph_message_becomes_a_historical_event_with_its_attachments() {
        let message: GraphMessage = serde_json::from_value(json!({
            "id": "m1",
            "created_time": "1970-01-01T00:00:02+0000",
            "from": {"id": "page"},
            "message": "",
            "attachments": {"data": [
                {"image_data": {"url": "https://x/i.png"}},
                {"video_data": {"url": "https://x/v.mp4"}},
                {"file_url": "https://x/f.pdf", "name": "f.pdf"}
            ]}
        }))
        .unwrap();

        let Some(Event::Message(event)) = to_event("page", "psid", &message) else {
            panic!("a message event");
        };
        assert_eq!(event.direction, Direction::Outbound);
        assert_eq!(event.timestamp, 2000);
        assert_eq!(event.text, None);
        assert!(event.historical);
        let kinds: Vec<(&str, Option<&str>)> = event
            .attachments
            .iter()
            .map(|a| (a.kind.as_str(), a.url.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("image", Some("https://x/i.png")),
                ("video", Some("https://x/v.mp4")),
                ("file", Some("https://x/f.pdf"))
            ]
        );
        assert_eq!(event.attachments[2].title.as_deref(), Some("f.pdf"));
    }
}
