//! The two GraphQL-over-WebSocket protocols, as messages: `graphql-transport-ws` (the
//! `graphql-ws` library's) and the legacy `graphql-ws` of subscriptions-transport-ws.
use serde::Deserialize;
use serde_json::{Value, json};

/// Which protocol a connection speaks (its `Sec-WebSocket-Protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Protocol {
    /// `graphql-transport-ws`: subscribe / next / error / complete, ping / pong.
    TransportWs,
    /// `graphql-ws` (subscriptions-transport-ws): start / data / error / complete / stop,
    /// `ka` from the server, connection_terminate.
    Legacy,
}

impl Protocol {
    /// The first subprotocol the client offers that the server speaks.
    pub(super) fn negotiate<'a>(offered: impl Iterator<Item = &'a str>) -> Option<Self> {
        offered
            .flat_map(|header| header.split(','))
            .find_map(|name| match name.trim() {
                "graphql-transport-ws" => Some(Self::TransportWs),
                "graphql-ws" => Some(Self::Legacy),
                _ => None,
            })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::Legacy => "graphql-ws",
        }
    }

    /// One result of operation `id`.
    pub(super) fn next(self, id: &str, response: &async_graphql::Response) -> Value {
        let kind = match self {
            Self::TransportWs => "next",
            Self::Legacy => "data",
        };
        json!({ "type": kind, "id": id, "payload": response })
    }

    /// Operation `id` refused before it ran: `errors` is a list of GraphQL errors.
    pub(super) fn error(self, id: &str, errors: Value) -> Value {
        let payload = match self {
            Self::TransportWs => errors,
            // subscriptions-transport-ws sends one error object.
            Self::Legacy => errors
                .as_array()
                .and_then(|all| all.first().cloned())
                .unwrap_or(errors),
        };
        json!({ "type": "error", "id": id, "payload": payload })
    }

    pub(super) fn complete(self, id: &str) -> Value {
        json!({ "type": "complete", "id": id })
    }

    /// What the server sends a quiet connection to keep it (and learn that it is) alive.
    pub(super) fn keep_alive(self) -> Value {
        match self {
            Self::TransportWs => json!({ "type": "ping" }),
            Self::Legacy => json!({ "type": "ka" }),
        }
    }
}

/// A message from the client, in either protocol (the names do not overlap in meaning).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    #[serde(alias = "start")]
    Subscribe {
        id: String,
        payload: Box<async_graphql::Request>,
    },
    #[serde(alias = "stop")]
    Complete {
        id: String,
    },
    ConnectionTerminate,
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
}

/// The token of a `connection_init` payload `{"authorization": "Bearer <token>"}` (the
/// key in any case).
pub(super) fn init_token(payload: Option<&Value>) -> Option<&str> {
    payload?
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, value)| value.as_str())
        .and_then(crate::http::graphql::bearer)
}
