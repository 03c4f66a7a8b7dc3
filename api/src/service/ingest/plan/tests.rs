//! `plan` with plain values: no database, no writer.
use std::collections::HashMap;

use entity::message::{self, Direction, Status};

use super::{Outcome, Touched, announcements, customers, plan};
use crate::bus::Change;
use crate::facebook::events::{Attachment, Event, IncomingMessage};
use crate::service::ingest::{IngestReport, OWN_METADATA_PREFIX};

const PAGE: &str = "page";

fn incoming(psid: &str, mid: &str, direction: Direction, timestamp: i64) -> IncomingMessage {
    IncomingMessage {
        page_id: PAGE.to_owned(),
        psid: psid.to_owned(),
        mid: mid.to_owned(),
        direction,
        text: Some(format!("text of {mid}")),
        attachments: Vec::new(),
        quick_reply_payload: None,
        reply_to_mid: None,
        app_id: None,
        timestamp,
        metadata: None,
        historical: false,
    }
}

fn inbound(psid: &str, mid: &str, timestamp: i64) -> Event {
    Event::Message(incoming(psid, mid, Direction::Inbound, timestamp))
}

fn read(psid: &str, watermark: i64) -> Event {
    Event::Read {
        page_id: PAGE.to_owned(),
        psid: psid.to_owned(),
        watermark,
    }
}

fn delivered(psid: &str, watermark: i64) -> Event {
    Event::Delivery {
        page_id: PAGE.to_owned(),
        psid: psid.to_owned(),
        watermark,
    }
}

/// Conversation 10 for customer "a", 20 for "b".
fn conversations() -> HashMap<(String, String), i64> {
    HashMap::from([
        ((PAGE.to_owned(), "a".to_owned()), 10),
        ((PAGE.to_owned(), "b".to_owned()), 20),
    ])
}

/// The stored row of `m`, as the insert returns it.
fn stored(id: i64, conversation_id: i64, m: &IncomingMessage) -> message::Model {
    message::Model {
        id,
        page_id: m.page_id.clone(),
        conversation_id,
        mid: m.mid.clone(),
        direction: m.direction,
        text: m.text.clone(),
        attachments: None,
        quick_reply_payload: None,
        reply_to_mid: None,
        app_id: None,
        timestamp: m.timestamp,
        status: Status::Sent,
        error_code: None,
        created_at: 0,
        client_mutation_id: None,
        agent_id: None,
        tag: None,
        reactions: None,
        edit_count: 0,
        edited_at: None,
    }
}

fn report(stored: usize, duplicates: usize, watermarks: usize) -> IngestReport {
    IngestReport {
        stored,
        duplicates,
        watermarks,
        changes: 0,
        referrals: 0,
    }
}

#[test]
fn a_message_repeated_within_a_group_is_one_row_and_one_duplicate() {
    // Arrange: the same mid in two deliveries, and twice in the first.
    let first = [inbound("a", "m1", 1), inbound("a", "m1", 1)];
    let second = [inbound("a", "m1", 1), inbound("a", "m2", 2)];

    // Act
    let planned = plan([&first[..], &second[..]], &conversations()).unwrap();

    // Assert
    let mids: Vec<&str> = planned
        .rows
        .iter()
        .map(|r| r.message.mid.as_str())
        .collect();
    assert_eq!(mids, ["m1", "m2"]);
    assert_eq!(planned.rows[1].job, 1);
    assert_eq!(planned.reports, [report(0, 1, 0), report(0, 1, 0)]);
}

#[test]
fn each_row_is_counted_once_as_stored_or_as_already_stored() {
    // Arrange: m1 was stored by an earlier group; m2 and m3 are new.
    let events = [
        inbound("a", "m1", 1),
        inbound("a", "m2", 2),
        inbound("b", "m3", 3),
    ];
    let mut planned = plan([&events[..]], &conversations()).unwrap();
    let added: Vec<message::Model> = planned.rows[1..]
        .iter()
        .zip([2, 3])
        .map(|(row, id)| stored(id, row.conversation_id, row.message))
        .collect();

    // Act
    planned.account(&added);

    // Assert
    assert_eq!(planned.reports, [report(2, 1, 0)]);
    assert_eq!(planned.touched[&10].new_inbound, 1, "m1 was counted before");
    assert_eq!(planned.touched[&20].new_inbound, 1);
}

#[test]
fn an_echo_of_our_send_adopts_the_stored_row_instead_of_adding_one() {
    // Arrange
    let mut echo = incoming("a", "m.echo", Direction::Outbound, 5);
    echo.metadata = Some(format!("{OWN_METADATA_PREFIX}42"));
    let mut foreign_echo = incoming("a", "m.inbox", Direction::Outbound, 6);
    foreign_echo.metadata = Some("something else".to_owned());
    let mut inbound_tagged = incoming("b", "m.in", Direction::Inbound, 7);
    inbound_tagged.metadata = Some(format!("{OWN_METADATA_PREFIX}43"));
    let events = [
        Event::Message(echo),
        Event::Message(foreign_echo),
        Event::Message(inbound_tagged),
    ];

    // Act
    let mut planned = plan([&events[..]], &conversations()).unwrap();
    let adoption = planned.adoptions[0];
    planned.adopted(&adoption.row);

    // Assert
    assert_eq!(planned.adoptions.len(), 1);
    assert_eq!(adoption.own_id, 42);
    assert_eq!(adoption.row.conversation_id, 10);
    let rows: Vec<&str> = planned
        .rows
        .iter()
        .map(|r| r.message.mid.as_str())
        .collect();
    assert_eq!(
        rows,
        ["m.inbox", "m.in"],
        "only our outbound echoes are adopted"
    );
    assert_eq!(planned.reports, [report(0, 1, 0)]);
    assert!(planned.touched[&10].new_outbound);
}

#[test]
fn watermarks_keep_the_highest_of_the_group_and_count_each_event() {
    // Arrange
    let first = [read("a", 50), delivered("a", 40)];
    let second = [read("a", 30), delivered("a", 45), delivered("b", 7)];

    // Act
    let planned = plan([&first[..], &second[..]], &conversations()).unwrap();

    // Assert
    assert_eq!(planned.touched[&10].read, 50);
    assert_eq!(planned.touched[&10].delivered, 45);
    assert_eq!(planned.touched[&20].delivered, 7);
    assert_eq!(planned.touched[&20].read, 0);
    assert!(planned.touched[&20].marks());
    assert_eq!(planned.reports, [report(0, 0, 2), report(0, 0, 3)]);
    assert!(planned.rows.is_empty());
}

#[test]
fn a_conversation_gains_its_newest_message_and_unread_live_inbound_only() {
    // Arrange: a live message, an older history import, an attachment-only reply.
    let live = incoming("a", "live", Direction::Inbound, 20);
    let mut imported = incoming("a", "old", Direction::Inbound, 10);
    imported.historical = true;
    let mut reply = incoming("a", "reply", Direction::Outbound, 30);
    reply.text = None;
    reply.attachments = vec![Attachment {
        kind: "image".to_owned(),
        ..Attachment::default()
    }];
    let events = [
        Event::Message(live.clone()),
        Event::Message(imported.clone()),
        Event::Message(reply.clone()),
    ];
    let mut planned = plan([&events[..]], &conversations()).unwrap();
    let mut reply_row = stored(3, 10, &reply);
    reply_row.attachments = serde_json::to_string(&reply.attachments).ok();
    let added = [stored(1, 10, &live), stored(2, 10, &imported), reply_row];

    // Act
    planned.account(&added);

    // Assert
    let expected = Touched {
        new_inbound: 1,
        newest: Some((30, "[image]".to_owned())),
        newest_inbound: Some(20),
        delivered: 0,
        read: 0,
        new_outbound: true,
    };
    assert_eq!(planned.touched_in_order(), [(10, expected)]);
    assert_eq!(planned.reports, [report(3, 0, 0)]);
}

#[test]
fn a_customer_without_a_conversation_is_refused() {
    let events = [inbound("stranger", "m1", 1)];

    let planned = plan([&events[..]], &conversations());

    assert!(planned.is_err());
}

#[test]
fn customers_are_named_once_in_the_order_first_seen() {
    let events = [inbound("b", "m1", 1), read("a", 3), inbound("b", "m2", 2)];

    let found = customers(&events);

    assert_eq!(
        found,
        [
            (PAGE.to_owned(), "b".to_owned()),
            (PAGE.to_owned(), "a".to_owned())
        ]
    );
}

#[test]
fn a_message_added_and_marked_in_one_group_is_announced_once_with_its_final_state() {
    // Arrange
    let first = stored(1, 10, &incoming("a", "m1", Direction::Outbound, 1));
    let mut first_read = first.clone();
    first_read.status = Status::Read;
    let older = stored(7, 10, &incoming("a", "m0", Direction::Outbound, 0));
    let outcome = Outcome {
        added: vec![first],
        updated: vec![first_read, older],
        removed: vec![Change::MessageRemoved {
            page_id: PAGE.to_owned(),
            id: 9,
        }],
        conversations: Vec::new(),
        reopened: Vec::new(),
        referrals: Vec::new(),
    };

    // Act
    let changes = announcements(outcome);

    // Assert
    let shown: Vec<(&str, i64, Option<Status>)> = changes
        .iter()
        .map(|change| match change {
            Change::MessageAdded(m) => ("added", m.id, Some(m.status)),
            Change::MessageUpdated(m) => ("updated", m.id, Some(m.status)),
            Change::MessageRemoved { id, .. } => ("removed", *id, None),
            _ => ("other", 0, None),
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("added", 1, Some(Status::Read)),
            ("updated", 7, Some(Status::Sent)),
            ("removed", 9, None)
        ]
    );
}

fn referral(psid: &str, key: &str) -> Event {
    Event::Referral(crate::facebook::events::Referral {
        page_id: PAGE.into(),
        psid: psid.into(),
        key: key.into(),
        source: "SHORTLINK".into(),
        kind: None,
        ref_param: Some("r".into()),
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        timestamp: 1,
    })
}

#[test]
fn a_referral_repeated_within_a_group_is_stored_once_in_its_customers_conversation() {
    // Arrange: Facebook's retry of a referral in the same group, and another customer's.
    let first = [referral("a", "referral:a:1")];
    let second = [referral("a", "referral:a:1"), referral("b", "referral:b:1")];

    // Act
    let planned = plan([&first[..], &second[..]], &conversations()).unwrap();

    // Assert
    let conversations = conversations();
    let kept: Vec<(i64, &str)> = planned
        .referrals
        .iter()
        .map(|(c, r)| (*c, r.key.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            (
                conversations[&(PAGE.to_owned(), "a".to_owned())],
                "referral:a:1"
            ),
            (
                conversations[&(PAGE.to_owned(), "b".to_owned())],
                "referral:b:1"
            ),
        ]
    );
    assert_eq!(planned.reports[0].referrals, 1);
    assert_eq!(planned.reports[1].referrals, 2);
}
