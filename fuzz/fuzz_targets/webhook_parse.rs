//! Fuzzes `api::facebook::events::parse` with raw webhook bodies: it must never panic, and
//! every event it returns must carry the ids it promises.
//!
//! What `events.rs` promises (and so all that is asserted here):
//! - `page_id`, `psid` and a message's `mid` passed `valid_id`: non-empty, at most
//!   `MAX_ID_LEN` (512) bytes, no control character (`char::is_control`);
//! - except a postback's `mid` when Facebook sent none (or an invalid one): then it is
//!   derived as `postback:{psid}:{timestamp}`. That one is non-empty and has no control
//!   character, but is NOT bounded by 512 bytes (up to 9 + 512 + 1 + 20 = 542), so only
//!   its exact form is checked;
//! - an attachment's URL, when kept, is at most 8 * 512 bytes.
//!
//! The input is the raw body, unstructured: that is what the webhook receives. Start it
//! from `seeds/webhook_parse/` with `-dict=json.dict` (see `run.sh`).
#![no_main]

use api::facebook::events::{Direction, Event, parse};
use libfuzzer_sys::fuzz_target;

const MAX_ID_LEN: usize = 512;

fn assert_valid_id(what: &str, id: &str) {
    assert!(!id.is_empty(), "{what} is empty");
    assert!(
        id.len() <= MAX_ID_LEN,
        "{what} is {} bytes, more than {MAX_ID_LEN}",
        id.len()
    );
    assert!(
        !id.chars().any(char::is_control),
        "{what} has a control character: {id:?}"
    );
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && !id.chars().any(char::is_control)
}

fuzz_target!(|body: &[u8]| {
    let Ok(parsed) = parse(body) else {
        return;
    };
    for event in &parsed.events {
        match event {
            Event::Message(m) => {
                assert_valid_id("page_id", &m.page_id);
                assert_valid_id("psid", &m.psid);
                if !is_valid_id(&m.mid) {
                    // Only a postback's derived mid may fail `valid_id`.
                    let derived = format!("postback:{}:{}", m.psid, m.timestamp);
                    assert_eq!(m.mid, derived, "mid fails valid_id and is not derived");
                    assert_eq!(m.direction, Direction::Inbound);
                    assert!(!m.mid.chars().any(char::is_control));
                }
                for a in &m.attachments {
                    if let Some(url) = &a.url {
                        assert!(url.len() <= 8 * MAX_ID_LEN, "url of {} bytes", url.len());
                    }
                }
            }
            Event::Delivery { page_id, psid, .. } | Event::Read { page_id, psid, .. } => {
                assert_valid_id("page_id", page_id);
                assert_valid_id("psid", psid);
            }
        }
        assert!(!event.page_id().is_empty());
    }
});
