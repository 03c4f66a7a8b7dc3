use super::time::{clock, format_rfc3339};
use super::*;

fn conv(id: &str, ts: &str, status: ConversationStatus) -> Conversation {
    Conversation {
        id: id.into(),
        page_id: "p".into(),
        customer_psid: "123456789".into(),
        customer_name: Some("Ada Lovelace".into()),
        customer_picture: None,
        last_message_text: Some("hi".into()),
        last_timestamp: ts.into(),
        unread_count: 1,
        status,
        assignee: None,
        window_expires_at: None,
        human_agent_window_expires_at: None,
        snoozed_until: None,
        labels: Vec::new(),
    }
}

fn msg(id: &str, ts: &str, status: MessageStatus, cmid: Option<&str>) -> Message {
    Message {
        id: id.into(),
        mid: format!("m_{id}"),
        conversation_id: "7".into(),
        direction: MessageDirection::OUTBOUND,
        text: Some("hello".into()),
        attachments: Vec::new(),
        reactions: Vec::new(),
        edit_count: 0,
        timestamp: ts.into(),
        status,
        error_code: None,
        client_mutation_id: cmid.map(Into::into),
        app_id: None,
        sender_name: None,
        echo_label: None,
        tag: None,
        local_error: None,
    }
}

#[test]
fn timestamps_parse_with_and_without_fraction_and_offset() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1500));
    assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
    assert_eq!(
        parse_rfc3339("2026-11-26T15:59:43.123456Z"),
        Some(1_795_708_783_123)
    );
    assert_eq!(parse_rfc3339("yesterday"), None);
    assert_eq!(
        format_rfc3339(1_795_708_783_123),
        "2026-11-26T15:59:43.123Z"
    );
}

#[test]
fn relative_times_are_short() {
    let now = parse_rfc3339("2026-11-26T16:00:00Z").unwrap();
    let at = |s| parse_rfc3339(s).unwrap();
    assert_eq!(relative_time(at("2026-11-26T15:59:30Z"), now), "now");
    assert_eq!(relative_time(at("2026-11-26T15:55:00Z"), now), "5m");
    assert_eq!(relative_time(at("2026-11-26T13:00:00Z"), now), "3h");
    assert_eq!(relative_time(at("2026-11-24T16:00:00Z"), now), "2d");
    assert_eq!(relative_time(at("2026-11-12T16:00:00Z"), now), "12 Nov");
    assert_eq!(
        relative_time(at("2025-11-12T16:00:00Z"), now),
        "12 Nov 2025"
    );
    assert_eq!(format_left(3 * 3_600_000 + 12 * 60_000), "3h 12m");
    assert_eq!(format_left(5 * 86_400_000 + 2 * 3_600_000), "5d 2h");
    assert_eq!(format_left(86_400_000), "24h 0m");
    assert_eq!(clock(at("2026-11-26T15:04:00Z"), -60), "16:04");
}

#[test]
fn conversations_stay_newest_first_and_an_update_moves_one_without_duplicating_it() {
    let mut list = ConversationList::default();
    let all = ListFilter::default();
    list.merge_page(
        vec![
            conv("1", "2026-11-26T10:00:00Z", ConversationStatus::OPEN),
            conv("2", "2026-11-26T09:00:00Z", ConversationStatus::OPEN),
        ],
        &all,
        0,
        Some((Some("c2".into()), true)),
    );
    list.upsert(
        conv("2", "2026-11-26T11:00:00Z", ConversationStatus::OPEN),
        &all,
        0,
    );
    list.upsert(
        conv("2", "2026-11-26T11:00:00Z", ConversationStatus::OPEN),
        &all,
        0,
    );
    let ids: Vec<_> = list.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["2", "1"]);
    assert_eq!(list.end_cursor.as_deref(), Some("c2"));
}

#[test]
fn a_page_fetched_before_a_live_update_does_not_move_the_conversation_back() {
    let mut list = ConversationList::default();
    let all = ListFilter::default();
    list.merge_page(
        vec![conv("1", "2026-11-26T10:00:00Z", ConversationStatus::OPEN)],
        &all,
        0,
        Some((Some("c1".into()), true)),
    );
    // A next page is asked for; meanwhile conversation 5 (below the first page) gets a
    // new message live, and the page answers with its older copy.
    let since = list.mark();
    list.upsert(
        conv("5", "2026-11-26T12:00:00Z", ConversationStatus::OPEN),
        &all,
        0,
    );
    list.merge_fetched(
        vec![
            conv("4", "2026-11-26T09:00:00Z", ConversationStatus::OPEN),
            conv("5", "2026-11-26T08:00:00Z", ConversationStatus::OPEN),
        ],
        &all,
        0,
        Some((Some("c5".into()), false)),
        since,
    );
    let shown: Vec<_> = list
        .items
        .iter()
        .map(|c| (c.id.as_str(), c.last_timestamp.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("5", "2026-11-26T12:00:00Z"),
            ("1", "2026-11-26T10:00:00Z"),
            ("4", "2026-11-26T09:00:00Z"),
        ]
    );
    assert!(!list.has_next);

    // A fetch that starts after the live update takes the server's copy again, also
    // across a reload of the list.
    list.clear();
    let since = list.mark();
    list.merge_fetched(
        vec![conv(
            "5",
            "2026-11-26T12:00:00Z",
            ConversationStatus::RESOLVED,
        )],
        &all,
        0,
        None,
        since,
    );
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].status, ConversationStatus::RESOLVED);
}

#[test]
fn a_page_does_not_bring_back_a_conversation_that_left_the_filter_live() {
    let filter = ListFilter {
        status: Some(ConversationStatus::OPEN),
        ..ListFilter::default()
    };
    let mut list = ConversationList::default();
    let since = list.mark();
    list.upsert(
        conv("3", "2026-11-26T10:00:00Z", ConversationStatus::RESOLVED),
        &filter,
        0,
    );
    list.merge_fetched(
        vec![conv("3", "2026-11-26T10:00:00Z", ConversationStatus::OPEN)],
        &filter,
        0,
        None,
        since,
    );
    assert!(list.items.is_empty());
}

#[test]
fn a_conversation_leaves_a_status_filter_it_no_longer_matches() {
    let mut list = ConversationList::default();
    let filter = ListFilter {
        status: Some(ConversationStatus::OPEN),
        ..ListFilter::default()
    };
    list.upsert(
        conv("1", "2026-11-26T10:00:00Z", ConversationStatus::OPEN),
        &filter,
        0,
    );
    list.upsert(
        conv("1", "2026-11-26T10:00:00Z", ConversationStatus::RESOLVED),
        &filter,
        0,
    );
    assert!(list.items.is_empty());
}

#[test]
fn the_assignee_filters_keep_whose_conversations_they_say_as_assignments_change() {
    let mine = ListFilter {
        assignee: AssigneeChoice::Mine,
        me: Some("7".into()),
        ..ListFilter::default()
    };
    let unassigned = ListFilter {
        assignee: AssigneeChoice::Unassigned,
        ..ListFilter::default()
    };
    let (mut my_list, mut free_list) = (ConversationList::default(), ConversationList::default());
    let mut c = conv("1", "2026-11-26T10:00:00Z", ConversationStatus::OPEN);
    my_list.upsert(c.clone(), &mine, 0);
    free_list.upsert(c.clone(), &unassigned, 0);
    assert!(my_list.items.is_empty());
    assert_eq!(free_list.items.len(), 1);
    c.assignee = Some(AgentRef {
        id: "7".into(),
        name: "Ada".into(),
    });
    my_list.upsert(c.clone(), &mine, 0);
    free_list.upsert(c, &unassigned, 0);
    assert_eq!(my_list.items.len(), 1);
    assert!(free_list.items.is_empty());
}

#[test]
fn ending_soon_lists_the_window_that_closes_first_first_and_drops_closed_ones() {
    let now = parse_rfc3339("2026-11-26T10:00:00Z").unwrap();
    let soon = ListFilter {
        ending_soon: true,
        ..ListFilter::default()
    };
    let with_window = |id: &str, closes: &str| Conversation {
        window_expires_at: Some(closes.into()),
        human_agent_window_expires_at: Some("2026-12-02T10:00:00Z".into()),
        ..conv(id, "2026-11-26T09:59:00Z", ConversationStatus::OPEN)
    };
    let mut list = ConversationList::default();
    list.upsert(with_window("1", "2026-11-26T13:00:00Z"), &soon, now);
    list.upsert(with_window("2", "2026-11-26T10:30:00Z"), &soon, now);
    list.upsert(with_window("3", "2026-11-26T20:00:00Z"), &soon, now);
    list.upsert(with_window("4", "2026-11-26T09:00:00Z"), &soon, now);
    let ids: Vec<_> = list.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["2", "1"]);
    assert_eq!(soon.status(), Some(ConversationStatus::OPEN));
    assert_eq!(soon.window_hours(), Some(4));
}

#[test]
fn the_servers_copy_replaces_the_optimistic_message_and_a_replay_does_not_duplicate() {
    let mut list = MessageList::new("7");
    list.upsert(msg("1", "2026-11-26T10:00:00Z", MessageStatus::READ, None));
    let pending = Message::pending("7", "abc", "hello", "2026-11-26T10:01:00.000Z");
    list.upsert(pending);
    assert!(list.items[1].is_local());
    list.upsert(msg(
        "2",
        "2026-11-26T10:01:00Z",
        MessageStatus::PENDING,
        Some("abc"),
    ));
    list.upsert(msg(
        "2",
        "2026-11-26T10:01:00Z",
        MessageStatus::DELIVERED,
        Some("abc"),
    ));
    // A late SENT does not undo DELIVERED; the replayed PENDING neither.
    list.upsert(msg(
        "2",
        "2026-11-26T10:01:00Z",
        MessageStatus::SENT,
        Some("abc"),
    ));
    list.upsert(msg(
        "2",
        "2026-11-26T10:01:00Z",
        MessageStatus::PENDING,
        Some("abc"),
    ));
    assert_eq!(list.items.len(), 2);
    assert_eq!(list.items[1].id, "2");
    assert_eq!(list.items[1].status, MessageStatus::DELIVERED);
}

#[test]
fn a_refused_send_fails_its_optimistic_message_with_the_reason() {
    let mut list = MessageList::new("7");
    list.upsert(Message::pending(
        "7",
        "abc",
        "hi",
        "2026-11-26T10:01:00.000Z",
    ));
    list.fail_local("abc", "OUTSIDE_MESSAGING_WINDOW");
    assert_eq!(list.items[0].failure(), Some("OUTSIDE_MESSAGING_WINDOW"));
    list.remove_local(&local_id("abc"));
    assert!(list.items.is_empty());
}

#[test]
fn older_pages_go_before_and_other_conversations_are_ignored() {
    let mut list = MessageList::new("7");
    list.merge_page(
        vec![msg("5", "2026-11-26T10:05:00Z", MessageStatus::SENT, None)],
        Some((Some("s5".into()), true)),
    );
    list.merge_page(
        vec![msg("3", "2026-11-26T10:03:00Z", MessageStatus::SENT, None)],
        Some((Some("s3".into()), false)),
    );
    let mut other = msg("9", "2026-11-26T10:09:00Z", MessageStatus::SENT, None);
    other.conversation_id = "8".into();
    list.upsert(other);
    let ids: Vec<_> = list.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["3", "5"]);
    assert!(!list.has_previous);
    assert!(list.items[0].is_echo());
}

#[test]
fn the_window_indicator_follows_the_two_windows() {
    let now = parse_rfc3339("2026-11-26T16:00:00Z").unwrap();
    let mut c = conv("1", "2026-11-26T10:00:00Z", ConversationStatus::OPEN);
    assert_eq!(c.window(now), Window::Unknown);
    c.window_expires_at = Some("2026-11-26T19:00:00Z".into());
    c.human_agent_window_expires_at = Some("2026-12-02T16:00:00Z".into());
    assert_eq!(c.window(now).state(), "standard");
    assert!(c.window(now).describe().contains("3h 0m left"));
    c.window_expires_at = Some("2026-11-26T15:00:00Z".into());
    assert_eq!(
        c.window(now),
        Window::HumanAgent {
            left_ms: 6 * 86_400_000
        }
    );
    c.human_agent_window_expires_at = Some("2026-11-26T15:00:00Z".into());
    assert_eq!(c.window(now), Window::Closed);
}

#[test]
fn routes_round_trip_through_the_hash() {
    for route in [Route::Inbox, Route::Chat("42".into()), Route::Settings] {
        assert_eq!(Route::parse(&route.hash()), route);
    }
    assert_eq!(Route::parse("#/c/x1"), Route::Inbox);
    assert_eq!(Route::parse(""), Route::Inbox);
}

#[test]
fn unknown_enum_values_decode_as_unknown() {
    let s: MessageStatus = serde_json::from_str("\"BOUNCED\"").unwrap();
    assert_eq!(s, MessageStatus::Unknown);
    assert_eq!(
        ConversationStatus::parse("SNOOZED"),
        Some(ConversationStatus::SNOOZED)
    );
}

fn msg_in(conversation: &str, id: &str, ts: &str) -> Message {
    Message {
        conversation_id: conversation.into(),
        direction: MessageDirection::INBOUND,
        ..msg(id, ts, MessageStatus::SENT, None)
    }
}

fn ids(threads: &Threads, conversation: &str) -> Vec<String> {
    threads
        .get(conversation)
        .map(|t| t.messages.items.iter().map(|m| m.id.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn a_message_lands_in_its_own_conversations_thread_and_no_other() {
    let mut threads = Threads::default();
    threads.open("1");
    threads.open("2");

    assert!(threads.upsert_message(msg_in("2", "20", "2026-11-26T10:00:00Z")));
    assert!(threads.upsert_message(msg_in("1", "10", "2026-11-26T10:01:00Z")));
    // A conversation never opened: left for its first load.
    assert!(!threads.upsert_message(msg_in("3", "30", "2026-11-26T10:02:00Z")));

    assert_eq!(ids(&threads, "1"), ["10"]);
    assert_eq!(ids(&threads, "2"), ["20"]);
    assert!(threads.get("3").is_none());
    assert!(threads.has_message(&msg_in("2", "20", "2026-11-26T10:00:00Z")));
    assert!(!threads.has_message(&msg_in("1", "20", "2026-11-26T10:00:00Z")));
    threads.remove_message("20");
    assert!(ids(&threads, "2").is_empty());
}

#[test]
fn reopening_a_thread_keeps_its_messages_and_its_place_in_history() {
    let mut threads = Threads::default();
    threads.open("1").messages.merge_page(
        vec![msg_in("1", "10", "2026-11-26T10:00:00Z")],
        Some((Some("c10".into()), true)),
    );
    threads.open("2");

    let again = threads.open("1");

    assert_eq!(again.messages.items.len(), 1);
    assert_eq!(again.messages.start_cursor.as_deref(), Some("c10"));
    assert!(again.messages.has_previous && again.messages.loaded);
    assert!(!threads.get("2").is_some_and(|t| t.messages.loaded));
}

#[test]
fn only_the_most_recently_opened_threads_are_kept() {
    let mut threads = Threads::default();
    for i in 0..=threads::KEEP_THREADS {
        threads.open(&i.to_string());
    }
    assert!(threads.get("0").is_none(), "the least recent is dropped");
    assert!(threads.get("1").is_some());
    assert!(threads.get(&threads::KEEP_THREADS.to_string()).is_some());

    threads.keep_only(Some("5"));
    assert!(threads.get("5").is_some());
    assert!(threads.get("6").is_none());
    threads.keep_only(None);
    assert!(threads.get("5").is_none());
}

#[test]
fn a_threads_conversation_is_updated_only_when_held() {
    let mut threads = Threads::default();
    threads.open("1");
    threads.put_conversation(&conv(
        "1",
        "2026-11-26T10:00:00Z",
        ConversationStatus::RESOLVED,
    ));
    threads.put_conversation(&conv("2", "2026-11-26T10:00:00Z", ConversationStatus::OPEN));
    let held = threads.get("1").and_then(|t| t.conversation.as_ref());
    assert_eq!(held.map(|c| c.status), Some(ConversationStatus::RESOLVED));
    assert!(threads.get("2").is_none());
}

#[test]
fn drafts_are_per_conversation_and_survive_a_round_trip_through_json() {
    let mut drafts = Drafts::default();
    drafts.set("1", "for Ada");
    drafts.set("2", "for Bert");
    drafts.set("2", "");

    assert_eq!(drafts.get("1"), "for Ada");
    assert_eq!(drafts.get("2"), "", "an emptied draft is gone");
    assert_eq!(drafts.get("3"), "");
    let back = Drafts::from_json(&drafts.to_json());
    assert_eq!(back, drafts);
    assert_eq!(Drafts::from_json("not json"), Drafts::default());
    assert_eq!(Drafts::from_json(r#"{"1": 5}"#), Drafts::default());
}

fn key(key: &str) -> keys::KeyPress<'_> {
    keys::KeyPress {
        key,
        ..keys::KeyPress::default()
    }
}

#[test]
fn shortcut_letters_act_outside_fields_only_and_escape_everywhere() {
    use keys::{Shortcut, shortcut};
    assert_eq!(shortcut(&key("r")), Some(Shortcut::Reply));
    assert_eq!(shortcut(&key("e")), Some(Shortcut::Resolve));
    assert_eq!(shortcut(&key("J")), Some(Shortcut::Next));
    assert_eq!(shortcut(&key("K")), Some(Shortcut::Previous));
    assert_eq!(shortcut(&key("?")), Some(Shortcut::Help));
    assert_eq!(shortcut(&key("x")), None);
    let alt = |k| keys::KeyPress {
        alt: true,
        ..key(k)
    };
    assert_eq!(shortcut(&alt("ArrowDown")), Some(Shortcut::Next));
    assert_eq!(shortcut(&alt("ArrowUp")), Some(Shortcut::Previous));
    assert_eq!(shortcut(&alt("r")), None);
    let typing = |k| keys::KeyPress {
        in_field: true,
        ..key(k)
    };
    for k in ["r", "e", "J", "K", "?", "j"] {
        assert_eq!(shortcut(&typing(k)), None, "{k} while typing");
    }
    assert_eq!(shortcut(&typing("Escape")), Some(Shortcut::Escape));
    let ctrl = keys::KeyPress {
        ctrl: true,
        ..key("r")
    };
    assert_eq!(shortcut(&ctrl), None, "Ctrl+R reloads, as ever");
}

#[test]
fn list_keys_reach_the_list_only_when_nothing_has_the_focus() {
    use keys::{Shortcut, shortcut};
    // Focused in the list, the list moves itself; elsewhere (the message log) they scroll.
    assert_eq!(shortcut(&key("j")), None);
    assert_eq!(shortcut(&key("ArrowDown")), None);
    let nowhere = |k| keys::KeyPress {
        nothing_focused: true,
        ..key(k)
    };
    for k in ["j", "k", "ArrowDown", "ArrowUp"] {
        assert_eq!(shortcut(&nowhere(k)), Some(Shortcut::FocusList), "{k}");
    }
}

#[test]
fn next_and_previous_stop_at_the_ends_of_the_list() {
    let ids: Vec<String> = ["3", "2", "1"].iter().map(|s| s.to_string()).collect();
    assert_eq!(keys::step_in(&ids, Some("3"), 1).as_deref(), Some("2"));
    assert_eq!(keys::step_in(&ids, Some("1"), 1).as_deref(), Some("1"));
    assert_eq!(keys::step_in(&ids, Some("3"), -1).as_deref(), Some("3"));
    assert_eq!(keys::step_in(&ids, Some("2"), -1).as_deref(), Some("3"));
    assert_eq!(keys::step_in(&ids, None, 1).as_deref(), Some("3"));
    assert_eq!(keys::step_in(&ids, Some("9"), -1).as_deref(), Some("3"));
    assert_eq!(keys::step_in(&[], Some("3"), 1), None);
}

#[test]
fn the_window_chip_turns_amber_under_four_hours_and_red_under_one() {
    const H: i64 = 3_600_000;
    let standard = |left_ms| Window::Standard {
        left_ms,
        human_left_ms: left_ms + 6 * 24 * H,
    };
    assert_eq!(standard(23 * H).urgency(), "calm");
    assert_eq!(standard(4 * H).urgency(), "calm");
    assert_eq!(standard(4 * H - 1).urgency(), "soon");
    assert_eq!(standard(H).urgency(), "soon");
    assert_eq!(standard(H - 1).urgency(), "urgent");
    assert_eq!(standard(60_000).urgency(), "urgent");
    // After the 24 hours, the human agent window's end is what counts.
    assert_eq!(
        Window::HumanAgent {
            left_ms: 3 * 24 * H
        }
        .urgency(),
        "calm"
    );
    assert_eq!(Window::HumanAgent { left_ms: 2 * H }.urgency(), "soon");
    assert_eq!(
        Window::HumanAgent {
            left_ms: 30 * 60_000
        }
        .urgency(),
        "urgent"
    );
    assert_eq!(Window::Closed.urgency(), "closed");
    assert_eq!(Window::Unknown.urgency(), "unknown");
    assert!(standard(H).open() && Window::HumanAgent { left_ms: H }.open());
    assert!(!Window::Closed.open() && !Window::Unknown.open());
}

#[test]
fn a_conversation_close_to_the_end_of_its_window_is_urgent() {
    let now = parse_rfc3339("2026-11-26T16:00:00Z").unwrap();
    let mut c = conv("1", "2026-11-25T16:30:00Z", ConversationStatus::OPEN);
    c.window_expires_at = Some("2026-11-26T16:30:00Z".into());
    c.human_agent_window_expires_at = Some("2026-12-02T16:30:00Z".into());
    assert_eq!(c.window(now).urgency(), "urgent");
    c.window_expires_at = Some("2026-11-26T19:00:00Z".into());
    assert_eq!(c.window(now).urgency(), "soon");
}

#[test]
fn day_separators_say_today_yesterday_then_the_date_in_the_browsers_zone() {
    use time::{day_label, iso_date, local_day};
    let at = |s| parse_rfc3339(s).unwrap();
    let now = at("2026-11-26T10:00:00Z");
    let today = local_day(now, 0);
    assert_eq!(
        day_label(local_day(at("2026-11-26T00:00:00Z"), 0), today),
        "Today"
    );
    assert_eq!(
        day_label(local_day(at("2026-11-25T23:59:59Z"), 0), today),
        "Yesterday"
    );
    assert_eq!(
        day_label(local_day(at("2026-11-24T12:00:00Z"), 0), today),
        "Tue 24 Nov"
    );
    assert_eq!(
        day_label(local_day(at("2025-12-26T12:00:00Z"), 0), today),
        "Fri 26 Dec 2025"
    );
    assert_eq!(
        iso_date(local_day(at("2026-11-24T12:00:00Z"), 0)),
        "2026-11-24"
    );
    // 23:30 UTC is already tomorrow in Berlin (60 minutes ahead: offset -60) and still
    // the same day in New York (offset 300).
    let late = at("2026-11-25T23:30:00Z");
    assert_eq!(iso_date(local_day(late, -60)), "2026-11-26");
    assert_eq!(
        day_label(local_day(late, -60), local_day(now, -60)),
        "Today"
    );
    assert_eq!(iso_date(local_day(late, 300)), "2026-11-25");
    assert_eq!(
        day_label(local_day(late, 300), local_day(now, 300)),
        "Yesterday"
    );
}

#[test]
fn only_a_reply_tagged_human_agent_is_labelled_so() {
    let mut m = msg("1", "2026-11-26T10:00:00Z", MessageStatus::SENT, Some("k"));
    assert!(!m.is_human_agent());
    m.tag = Some("HUMAN_AGENT".into());
    assert!(m.is_human_agent());
}

#[test]
fn a_reply_refused_outside_the_window_closes_it_until_the_customer_writes_again() {
    let mut list = MessageList::new("7");
    list.upsert(msg_in("7", "1", "2026-11-19T10:00:00Z"));
    assert!(!list.refused_outside_window());
    list.upsert(Message::pending(
        "7",
        "k1",
        "Sorry!",
        "2026-11-26T10:00:00Z",
    ));
    list.fail_local("k1", "RATE_LIMITED");
    assert!(
        !list.refused_outside_window(),
        "another failure says nothing of the window"
    );
    list.upsert(Message::pending(
        "7",
        "k2",
        "Sorry!",
        "2026-11-26T10:01:00Z",
    ));
    list.fail_local("k2", "OUTSIDE_MESSAGING_WINDOW");
    assert!(list.refused_outside_window());
    list.upsert(msg_in("7", "2", "2026-11-26T10:05:00Z"));
    assert!(!list.refused_outside_window(), "the customer wrote again");
}

#[test]
fn file_sizes_read_as_people_read_them() {
    assert_eq!(format_size(812.0), "812 B");
    assert_eq!(format_size(4300.0), "4.2 KB");
    assert_eq!(format_size(MAX_FILE_BYTES), "25.0 MB");
}

fn attachment(kind: &str, url: Option<&str>) -> Attachment {
    Attachment {
        kind: kind.into(),
        url: url.map(Into::into),
        title: None,
        name: None,
        map_url: None,
    }
}

#[test]
fn each_attachment_type_is_shown_as_sent() {
    let url = Some("https://cdn.example/x");
    assert_eq!(attachment("image", url).shown(), Shown::Image);
    assert_eq!(attachment("sticker", url).shown(), Shown::Sticker);
    assert_eq!(attachment("video", url).shown(), Shown::Video);
    assert_eq!(attachment("audio", url).shown(), Shown::Audio);
    assert_eq!(attachment("file", url).shown(), Shown::Link);
    assert_eq!(attachment("template", url).shown(), Shown::Link);
    assert_eq!(attachment("image", None).shown(), Shown::Bare);
    assert_eq!(attachment("fallback", None).shown(), Shown::Bare);
    // A location links to its map, with or without Facebook's own URL.
    let mut place = attachment("location", None);
    place.map_url = Some("https://www.openstreetmap.org/?mlat=1&mlon=2".into());
    place.title = Some("Campsite".into());
    assert_eq!(place.shown(), Shown::Link);
    assert_eq!(place.href(), place.map_url.as_deref());
    assert_eq!(place.label(), "📍 Campsite");
}

#[test]
fn links_are_named_by_the_files_name_or_the_shares_title() {
    let mut file = attachment("file", Some("https://cdn.example/a.pdf"));
    file.name = Some("a.pdf".into());
    assert_eq!(file.label(), "📎 a.pdf");
    let mut link = attachment("fallback", Some("https://example.org/notes"));
    assert_eq!(link.label(), "🔗 https://example.org/notes");
    link.title = Some("Notes".into());
    assert_eq!(link.label(), "🔗 Notes");
    assert_eq!(attachment("location", None).label(), "📍 Location");
}

fn label(id: &str, name: &str) -> crate::model::Label {
    crate::model::Label {
        id: id.into(),
        name: name.into(),
        color: "#1f7a8c".into(),
    }
}

#[test]
fn a_label_filter_keeps_the_conversations_carrying_it_as_their_labels_change() {
    let filter = ListFilter {
        label: Some("5".into()),
        ..ListFilter::default()
    };
    let mut list = ConversationList::default();
    let mut c = conv("1", "2026-11-26T10:00:00Z", ConversationStatus::OPEN);
    list.upsert(c.clone(), &filter, 0);
    assert!(list.items.is_empty());
    c.labels = vec![label("5", "VIP")];
    list.upsert(c.clone(), &filter, 0);
    assert_eq!(list.items.len(), 1);
    c.labels.clear();
    list.upsert(c, &filter, 0);
    assert!(list.items.is_empty());
}

#[test]
fn chips_follow_the_pages_labels_renamed_and_deleted() {
    let mut labels = crate::model::PageLabels::default();
    let mut c = conv("1", "2026-11-26T10:00:00Z", ConversationStatus::OPEN);
    c.labels = vec![label("5", "VIP"), label("6", "Refund")];
    // Before the Page's list arrives, the conversation's own copies.
    assert_eq!(labels.of(&c).len(), 2);
    // Read again after a rename of 5 and the deletion of 6: by the Page's order.
    labels.set(vec![label("7", "army"), label("5", "Very important")]);
    let chips: Vec<String> = labels.of(&c).into_iter().map(|l| l.name).collect();
    assert_eq!(chips, ["Very important"]);
    assert_eq!(labels.toggled(&c, "7", true), ["5", "7"]);
    assert_eq!(labels.toggled(&c, "5", false), Vec::<String>::new());
    assert_eq!(labels.pick(&["7".into(), "5".into()]).len(), 2);
}
