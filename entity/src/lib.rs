//! SeaORM models, one module per table. Times are milliseconds since the Unix epoch
//! (what Facebook sends), stored as 64-bit integers so that SQLite and PostgreSQL agree.
#![forbid(unsafe_code)]

pub mod agent;
pub mod api_token;
pub mod api_token_page;
pub mod audit_entry;
pub mod conversation;
pub mod conversation_activity;
pub mod conversation_label;
pub mod label;
pub mod message;
pub mod note;
pub mod note_mention;
pub mod page;
pub mod page_event;
pub mod page_event_head;
pub mod page_member;
pub mod referral;
pub mod saved_reply;
pub mod session;
pub mod sync_job;

pub mod prelude {
    pub use super::agent::Entity as Agent;
    pub use super::conversation::Entity as Conversation;
    pub use super::message::Entity as Message;
    pub use super::page::Entity as Page;
    pub use super::page_member::Entity as PageMember;
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    /// Events carry models as JSON (the bus, the event log's replays): each state must
    /// read the same there as in its column.
    fn serde_matches_column<E>()
    where
        E: ActiveEnum<Value = String> + Iterable + serde::Serialize,
    {
        for state in E::iter() {
            let json = serde_json::to_value(&state).ok();
            assert_eq!(json, Some(serde_json::Value::String(state.to_value())));
        }
    }

    #[test]
    fn states_serialize_as_their_stored_values() {
        serde_matches_column::<crate::message::Direction>();
        serde_matches_column::<crate::message::Status>();
        serde_matches_column::<crate::conversation::Status>();
        serde_matches_column::<crate::sync_job::Status>();
        serde_matches_column::<crate::audit_entry::Action>();
        serde_matches_column::<crate::audit_entry::ObjectKind>();
    }
}
