//! The parser against Facebook's documented shapes, and the subscribed fields held to it.
use super::*;

#[test]
fn a_bad_event_is_skipped_and_its_neighbours_kept() {
    let body = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"a","text":"hi"}},
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":6,"message":"oops"},
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":7,"reaction":{"mid":"a"}},
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":8,"read":{"watermark":8}}
    ]}]}"#;
    let parsed = parse(body).unwrap();
    assert_eq!(parsed.events.len(), 2);
    assert_eq!(parsed.skipped, 1);
    assert_eq!(parsed.ignored, 1);
}

#[test]
fn escaped_unicode_is_decoded() {
    let body = br#"{"object":"page","entry":[{"id":"1","messaging":[
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"a","text":"\u00e4\u00f6\u00e5 \ud83d\ude00"}}]}]}"#;
    let parsed = parse(body).unwrap();
    let Event::Message(m) = &parsed.events[0] else {
        panic!("not a message")
    };
    assert_eq!(m.text.as_deref(), Some("äöå 😀"));
}

/// One event of each webhook field, as Facebook documents it; `standby` is a message
/// under the entry's `standby` array.
fn event_of_field(field: &str) -> (&'static str, &'static str) {
    let event = match field {
        "messages" => r#""message":{"mid":"m1","text":"hi"}"#,
        "message_echoes" => r#""message":{"mid":"m2","is_echo":true,"app_id":1,"text":"x"}"#,
        "messaging_postbacks" => r#""postback":{"mid":"m3","title":"Start","payload":"GO"}"#,
        "message_deliveries" => r#""delivery":{"watermark":5}"#,
        "message_reads" => r#""read":{"watermark":5}"#,
        "standby" => r#""message":{"mid":"m4","text":"elsewhere"}"#,
        "message_reactions" => r#""reaction":{"mid":"m1","action":"react","emoji":"x"}"#,
        "message_edits" => r#""message_edit":{"mid":"m1","text":"y","num_edit":1}"#,
        "messaging_referrals" => {
            r#""referral":{"ref":"r","source":"SHORTLINK","type":"OPEN_THREAD"}"#
        }
        "messaging_optins" => r#""optin":{"ref":"r"}"#,
        "messaging_handovers" => r#""pass_thread_control":{"new_owner_app_id":"1"}"#,
        other => panic!("no sample event for {other}"),
    };
    let array = if field == "standby" {
        "standby"
    } else {
        "messaging"
    };
    (array, event)
}

fn parses(field: &str) -> bool {
    let (array, event) = event_of_field(field);
    let body = format!(
        r#"{{"object":"page","entry":[{{"id":"1","time":1,"{array}":[
            {{"sender":{{"id":"9"}},"recipient":{{"id":"1"}},"timestamp":5,{event}}}]}}]}}"#
    );
    let parsed = parse(body.as_bytes()).unwrap();
    assert_eq!(parsed.skipped, 0, "{field}: {body}");
    !parsed.events.is_empty()
}

#[test]
fn every_subscribed_field_is_parsed() {
    for field in SUBSCRIBED_FIELDS {
        assert!(
            parses(field),
            "{field} is subscribed but its event is ignored"
        );
    }
}

#[test]
fn fields_we_do_not_parse_are_not_subscribed() {
    // Parsing one of these? Add its field to SUBSCRIBED_FIELDS (and move it up there).
    for field in [
        "message_reactions",
        "message_edits",
        "messaging_referrals",
        "messaging_optins",
        "messaging_handovers",
    ] {
        assert!(!SUBSCRIBED_FIELDS.contains(&field), "{field}");
        assert!(
            !parses(field),
            "{field} is parsed: subscribe the Page to it"
        );
    }
}

#[test]
fn not_json_is_an_error() {
    assert!(parse(b"{not json").is_err());
}
