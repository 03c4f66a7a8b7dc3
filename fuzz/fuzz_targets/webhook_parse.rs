//! Fuzzes `api::facebook::events::parse` with raw webhook bodies: it must never panic, and
//! every event it returns must carry the ids it promises.
//!
//! What `events.rs` promises (and so all that is asserted here):
//! - `page_id`, `psid` and a message's `mid` passed `valid_id`: non-empty, at most
//!   `MAX_ID_LEN` (512) bytes, no control character (`char::is_control`). That includes
//!   the `postback:{psid}:{timestamp}` mid derived for a postback without one: an event
//!   whose derived mid would be too long is refused as malformed;
//! - an attachment's URL, when kept, is at most 8 * 512 bytes.
//!
//! The input is the raw body, unstructured: that is what the webhook receives. Start it
//! from `seeds/webhook_parse/` with `-dict=json.dict` (see `run.sh`).
#![no_main]

use api::facebook::events::{Event, parse};
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

fuzz_target!(|body: &[u8]| {
    let Ok(parsed) = parse(body) else {
        return;
    };
    for event in &parsed.events {
        match event {
            Event::Message(m) => {
                assert_valid_id("page_id", &m.page_id);
                assert_valid_id("psid", &m.psid);
                assert_valid_id("mid", &m.mid);
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
