//! Which webhook field (`subscribed_fields` entry) a messaging object belongs to, so that
//! every event, also those injected through `POST /_sim/pages/{id}/events`, reaches the app
//! only when the Page subscribed it to that field, as Facebook does
//! (<https://developers.facebook.com/docs/messenger-platform/webhooks#subscribe-your-app>:
//! "you will only receive notifications for the fields you subscribe to"; the field of each
//! event type is listed at
//! <https://developers.facebook.com/docs/messenger-platform/reference/webhook-events>).
//!
//! Events in an entry's `standby` array (another app owns the thread) need `standby`,
//! whatever their type. An object of no known type is not filtered: the documentation has
//! no field for it, and tests post such objects to check that receivers ignore them (the
//! simulator's choice).

use serde_json::Value;

/// The key of a messaging object that names its type, and the field it needs, in the
/// order they are tried (an echo is a `message` with `is_echo`, handled first).
const FIELD_OF_KEY: &[(&str, &str)] = &[
    ("message", "messages"),
    ("postback", "messaging_postbacks"),
    ("delivery", "message_deliveries"),
    ("read", "message_reads"),
    ("reaction", "message_reactions"),
    ("message_edit", "message_edits"),
    ("referral", "messaging_referrals"),
    ("optin", "messaging_optins"),
    ("pass_thread_control", "messaging_handovers"),
    ("take_thread_control", "messaging_handovers"),
    ("request_thread_control", "messaging_handovers"),
    ("app_roles", "messaging_handovers"),
    ("policy_enforcement", "messaging_policy_enforcement"),
    ("account_linking", "messaging_account_linking"),
    ("game_play", "messaging_game_plays"),
];

/// The field `event` needs, or `None` for an object of no known type.
pub fn field_of(event: &Value, standby: bool) -> Option<&'static str> {
    if standby {
        return Some("standby");
    }
    let is_echo = event
        .get("message")
        .and_then(|m| m.get("is_echo"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if is_echo {
        return Some("message_echoes");
    }
    FIELD_OF_KEY
        .iter()
        .find(|(key, _)| event.get(key).is_some())
        .map(|(_, field)| *field)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::field_of;

    #[test]
    fn each_event_type_needs_its_field() {
        let cases = [
            (json!({"message": {"mid": "m", "text": "hi"}}), "messages"),
            (
                json!({"message": {"mid": "m", "is_echo": true}}),
                "message_echoes",
            ),
            (
                json!({"postback": {"payload": "GO"}}),
                "messaging_postbacks",
            ),
            (json!({"delivery": {"watermark": 1}}), "message_deliveries"),
            (json!({"read": {"watermark": 1}}), "message_reads"),
            (
                json!({"reaction": {"mid": "m", "action": "react"}}),
                "message_reactions",
            ),
            (
                json!({"message_edit": {"mid": "m", "text": "x"}}),
                "message_edits",
            ),
            (
                json!({"referral": {"source": "ADS"}}),
                "messaging_referrals",
            ),
            (json!({"pass_thread_control": {}}), "messaging_handovers"),
        ];
        for (event, field) in cases {
            assert_eq!(field_of(&event, false), Some(field), "{event}");
        }
    }

    #[test]
    fn standby_needs_standby_and_unknown_types_have_no_field() {
        assert_eq!(
            field_of(&json!({"message": {"mid": "m"}}), true),
            Some("standby")
        );
        assert_eq!(field_of(&json!({"gossip": {}}), false), None);
    }
}
