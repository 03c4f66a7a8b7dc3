//! SeaORM models, one module per table. Times are milliseconds since the Unix epoch
//! (what Facebook sends), stored as 64-bit integers so that SQLite and PostgreSQL agree.
#![forbid(unsafe_code)]

pub mod agent;
pub mod api_token;
pub mod api_token_page;
pub mod conversation;
pub mod conversation_activity;
pub mod message;
pub mod page;
pub mod page_event;
pub mod page_event_head;
pub mod page_member;
pub mod session;
pub mod sync_job;

pub mod prelude {
    pub use super::agent::Entity as Agent;
    pub use super::conversation::Entity as Conversation;
    pub use super::message::Entity as Message;
    pub use super::page::Entity as Page;
    pub use super::page_member::Entity as PageMember;
}
