//! The domain: functions over a database connection (or transaction) and the bus.
//! Resolvers and HTTP handlers call these; they never write SQL themselves.
pub mod access;
pub mod activity;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod conversations;
pub mod credentials;
pub mod event_log;
pub mod inbox;
pub mod ingest;
pub mod labels;
pub mod limits;
pub mod notes;
#[cfg(test)]
mod one_transaction_tests;
pub mod outbox;
pub mod pages;
pub mod presence;
pub mod profiles;
pub mod saved_replies;
pub mod search;
pub mod send;
pub mod snooze;
pub mod story;
pub mod sync;
pub mod viewers;
