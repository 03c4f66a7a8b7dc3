//! The parser against Facebook's documented shapes, and the subscribed fields held to it.
use super::*;

#[test]
fn a_bad_event_is_skipped_and_its_neighbours_kept() {
    let body = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"a","text":"hi"}},
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":6,"message":"oops"},
        {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":7,"optin":{"ref":"a"}},
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
    for field in ["messaging_optins", "messaging_handovers"] {
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

/// The attachments of one message event whose `message` holds `attachments`, or the
/// reason it was skipped (none: `Ok`).
fn attachments_of(attachments: &str) -> Result<Vec<Attachment>, usize> {
    let body = format!(
        r#"{{"object":"page","entry":[{{"id":"1","messaging":[
            {{"sender":{{"id":"9"}},"recipient":{{"id":"1"}},"timestamp":5,
              "message":{{"mid":"a","attachments":{attachments}}}}},
            {{"sender":{{"id":"9"}},"recipient":{{"id":"1"}},"timestamp":6,
              "message":{{"mid":"b","text":"beside it"}}}}]}}]}}"#
    );
    let parsed = parse(body.as_bytes()).unwrap();
    let texts: Vec<_> = parsed
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) if m.mid == "b" => m.text.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["beside it"], "the good event beside it is kept");
    if parsed.skipped > 0 {
        return Err(parsed.skipped);
    }
    match &parsed.events[0] {
        Event::Message(m) if m.mid == "a" => Ok(m.attachments.clone()),
        other => panic!("not the message: {other:?}"),
    }
}

#[test]
fn media_attachments_keep_their_type_and_url() {
    for kind in ["image", "video", "audio", "file"] {
        let got = attachments_of(&format!(
            r#"[{{"type":"{kind}","payload":{{"url":"https://cdn.example/x/{kind}.bin"}}}}]"#
        ))
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, kind);
        assert_eq!(
            got[0].url.as_deref(),
            Some(format!("https://cdn.example/x/{kind}.bin").as_str())
        );
    }
}

#[test]
fn a_file_is_named_by_its_title_or_the_end_of_its_url() {
    let got = attachments_of(
        r#"[{"type":"file","payload":{"url":"https://cdn.fbsbx.com/v/t59/Invoice%20May.pdf?_nc=1"}}]"#,
    )
    .unwrap();
    assert_eq!(got[0].file_name().as_deref(), Some("Invoice May.pdf"));
    let titled = Attachment {
        title: Some("report.pdf".into()),
        ..got[0].clone()
    };
    assert_eq!(titled.file_name().as_deref(), Some("report.pdf"));
}

#[test]
fn a_sticker_keeps_its_id_in_both_shapes_and_shows_once_during_the_transition() {
    // The new shape, with the older image repeated beside it (until August 2026).
    let both = attachments_of(
        r#"[{"type":"sticker","payload":{"url":"https://cdn.example/s.png","sticker_id":369239263222822}},
            {"type":"image","payload":{"url":"https://cdn.example/s.png","sticker_id":369239263222822}}]"#,
    )
    .unwrap();
    assert_eq!(both.len(), 1, "{both:?}");
    assert_eq!(both[0].kind, "sticker");
    assert_eq!(both[0].sticker_id.as_deref(), Some("369239263222822"));
    // The older shape alone: an image with a sticker id.
    let old = attachments_of(
        r#"[{"type":"image","payload":{"url":"https://cdn.example/s.png","sticker_id":"369239263222822"}}]"#,
    )
    .unwrap();
    assert_eq!(old, both);
    // The transition's image without the id, repeating the sticker's URL.
    let bare = attachments_of(
        r#"[{"type":"image","payload":{"url":"https://cdn.example/s.png"}},
            {"type":"sticker","payload":{"url":"https://cdn.example/s.png","sticker_id":1}}]"#,
    )
    .unwrap();
    assert_eq!(bare.len(), 1, "{bare:?}");
    assert_eq!(bare[0].kind, "sticker");
}

#[test]
fn a_location_has_its_coordinates_title_and_a_map() {
    let got = attachments_of(
        r#"[{"type":"location","title":"Ana's Location","url":"https://l.facebook.com/l.php?u=x",
             "payload":{"coordinates":{"lat":60.1699,"long":24.9384}}}]"#,
    )
    .unwrap();
    assert_eq!(got[0].kind, "location");
    assert_eq!(got[0].title.as_deref(), Some("Ana's Location"));
    assert_eq!(
        got[0].coordinates,
        Some(Coordinates {
            lat: 60.1699,
            long: 24.9384
        })
    );
    assert_eq!(
        got[0].map_url().as_deref(),
        Some("https://www.openstreetmap.org/?mlat=60.1699&mlon=24.9384#map=16/60.1699/24.9384")
    );
}

#[test]
fn a_shared_link_has_its_title_and_url_beside_or_in_the_payload() {
    let beside = attachments_of(
        r#"[{"type":"fallback","title":"Rust 2026","url":"https://blog.example/rust","payload":null}]"#,
    )
    .unwrap();
    let inside = attachments_of(
        r#"[{"type":"fallback","payload":{"title":"Rust 2026","url":"https://blog.example/rust"}}]"#,
    )
    .unwrap();
    assert_eq!(beside, inside);
    assert_eq!(beside[0].title.as_deref(), Some("Rust 2026"));
    assert_eq!(beside[0].url.as_deref(), Some("https://blog.example/rust"));
    // A share Facebook cannot show comes without a payload: kept, with nothing to link.
    let bare = attachments_of(r#"[{"type":"fallback"}]"#).unwrap();
    assert_eq!(bare[0].url, None);
}

#[test]
fn malformed_attachment_payloads_reject_their_message_alone() {
    for bad in [
        r#"[{"type":"image","payload":"https://cdn.example/a.png"}]"#,
        r#"[{"type":"image","payload":{"url":42}}]"#,
        r#"[{"type":"image","payload":{"url":"javascript:alert(1)"}}]"#,
        r#"[{"type":"file","payload":{"url":"not a url"}}]"#,
        r#"[{"type":"location","payload":{"coordinates":{"lat":"north","long":1}}}]"#,
        r#"[{"type":"location","payload":{"coordinates":{"lat":91,"long":1}}}]"#,
        r#"[{"type":"location","payload":{"coordinates":{"lat":1,"long":-181}}}]"#,
        r#"[{"type":"location","payload":{"coordinates":{"lat":1}}}]"#,
        r#"[{"type":"sticker","payload":{"url":"https://cdn.example/s.png","sticker_id":""}}]"#,
        r#"[{"type":"sticker","payload":{"sticker_id":1.5}}]"#,
        r#"[{"payload":{"url":"https://cdn.example/a.png"}}]"#,
        r#"[{"type":"","payload":{"url":"https://cdn.example/a.png"}}]"#,
        r#"{"type":"image"}"#,
    ] {
        assert_eq!(attachments_of(bad), Err(1), "{bad}");
    }
    let long_title = format!(r#"[{{"type":"fallback","title":"{}"}}]"#, "t".repeat(2001));
    assert_eq!(attachments_of(&long_title), Err(1));
}

#[test]
fn an_over_long_url_is_left_out_and_its_attachment_kept() {
    let url = format!("https://cdn.example/{}", "a".repeat(5000));
    let got = attachments_of(&format!(
        r#"[{{"type":"image","payload":{{"url":"{url}"}}}}]"#
    ))
    .unwrap();
    assert_eq!(got[0].kind, "image");
    assert_eq!(got[0].url, None);
}

/// The events of one entry of Page 1 holding `events` (messaging objects, as JSON text).
fn events_of(events: &[&str]) -> Parsed {
    let body = format!(
        r#"{{"object":"page","entry":[{{"id":"1","time":1,"messaging":[{}]}}]}}"#,
        events.join(",")
    );
    parse(body.as_bytes()).unwrap()
}

fn referrals(parsed: &Parsed) -> Vec<&Referral> {
    parsed
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Referral(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn an_ad_referral_keeps_its_ad_and_a_retry_has_the_same_key() {
    let ad = r#"{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1458692752478,
        "referral":{"ref":"spring","ad_id":6045246247433,"source":"ADS","type":"OPEN_THREAD",
          "ads_context_data":{"ad_title":"Tents -20%","photo_url":"https://x/p.jpg","post_id":"1_2"}}}"#;
    let once = events_of(&[ad]);
    let twice = events_of(&[ad]);
    let found = referrals(&once);
    assert_eq!(found.len(), 1, "{:?}", once.events);
    let r = found[0];
    assert_eq!(
        (r.source.as_str(), r.kind.as_deref(), r.ref_param.as_deref()),
        ("ADS", Some("OPEN_THREAD"), Some("spring"))
    );
    assert_eq!(r.ad_id.as_deref(), Some("6045246247433"));
    assert_eq!(r.ad_title.as_deref(), Some("Tents -20%"));
    assert_eq!(r.psid, "9");
    assert_eq!(r.key, referrals(&twice)[0].key);
    assert_eq!(once.events[0].customer(), Some(("1", "9")));
}

#[test]
fn a_postback_and_a_message_bring_their_referral_beside_them() {
    let parsed = events_of(&[
        r#"{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,
            "postback":{"mid":"m_p","title":"Get Started","payload":"GO",
              "referral":{"ref":"shop","source":"SHORTLINK","type":"OPEN_THREAD"}}}"#,
        r#"{"sender":{"user_ref":"u7"},"recipient":{"id":"1"},"timestamp":6,
            "message":{"mid":"m_m","text":"hi",
              "referral":{"source":"CUSTOMER_CHAT_PLUGIN","type":"OPEN_THREAD",
                "referer_uri":"https://shop.example/tents?x=1"}}}"#,
    ]);
    assert_eq!(parsed.events.len(), 4, "{:?}", parsed.events);
    let found = referrals(&parsed);
    assert_eq!(found[0].key, "mid:m_p");
    assert_eq!(found[0].ref_param.as_deref(), Some("shop"));
    assert_eq!(found[1].key, "mid:m_m");
    assert_eq!(found[1].psid, "u7", "the chat plugin's visitor");
    assert_eq!(
        found[1].referer_uri.as_deref(),
        Some("https://shop.example/tents?x=1")
    );
}

#[test]
fn a_malformed_referral_is_skipped_and_its_neighbours_kept() {
    let bad = [
        r#""referral":{"ref":"r","type":"OPEN_THREAD"}"#,
        r#""referral":{"source":"CUSTOMER_CHAT_PLUGIN","referer_uri":"javascript:alert(1)"}"#,
        r#""referral":{"source":"ADS","ad_id":""}"#,
        r#""referral":{"source":"SHORT LINK"}"#,
        r#""referral":{"source":"SHORTLINK","ref":"a\u0000b"}"#,
    ];
    let mut events: Vec<String> = bad
        .iter()
        .map(|b| format!(r#"{{"sender":{{"id":"9"}},"recipient":{{"id":"1"}},"timestamp":5,{b}}}"#))
        .collect();
    events.push(
        r#"{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":6,
            "message":{"mid":"m_ok","text":"kept",
              "referral":{"source":"CUSTOMER_CHAT_PLUGIN","referer_uri":"data:text/html,x"}}}"#
            .to_owned(),
    );
    events.push(
        r#"{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":7,
            "referral":{"source":"SHORTLINK","ref":"good"}}"#
            .to_owned(),
    );
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let parsed = events_of(&refs);
    assert_eq!(parsed.skipped, bad.len());
    let found = referrals(&parsed);
    assert_eq!(found.len(), 1, "{:?}", parsed.events);
    assert_eq!(found[0].ref_param.as_deref(), Some("good"));
    assert!(
        parsed
            .events
            .iter()
            .any(|e| matches!(e, Event::Message(m) if m.mid == "m_ok")),
        "a message whose referral is malformed is kept, without it"
    );
}
