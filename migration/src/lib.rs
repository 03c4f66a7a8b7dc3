//! MessengerFlow's migrations. Written with sea-query's portable builders only, so the
//! same files run on SQLite (embedded default) and PostgreSQL (production).
#![forbid(unsafe_code)]

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_initial;
mod m20261126_000002_auth;
mod m20261126_000003_graph;
mod m20261126_000004_event_log;
mod m20261126_000005_partial_client_mutation_index;
mod m20261201_000010_agent_deactivation;
mod m20261201_000011_client_mutation_per_conversation;
mod m20261201_000012_one_running_sync;
mod m20261201_000013_snooze_and_sync_total;
mod m20261201_000014_conversation_activity;
mod m20261201_000016_message_tag;
mod m20261201_000017_page_reconnect_reason;
mod m20261201_000020_unread_index;
mod m20261201_000022_reactions_and_edits;
mod m20261201_000026_audit_log;
mod m20261202_000027_labels;
mod m20261202_000028_notes;
mod m20261202_000029_saved_replies;
mod m20261202_000030_referrals;
mod m20261202_000031_search;

/// Runs at server start (`api`) and from the `migration` CLI.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261126_000002_auth::Migration),
            Box::new(m20261126_000003_graph::Migration),
            Box::new(m20261126_000004_event_log::Migration),
            Box::new(m20261126_000005_partial_client_mutation_index::Migration),
            Box::new(m20261201_000010_agent_deactivation::Migration),
            Box::new(m20261201_000011_client_mutation_per_conversation::Migration),
            Box::new(m20261201_000012_one_running_sync::Migration),
            Box::new(m20261201_000013_snooze_and_sync_total::Migration),
            Box::new(m20261201_000014_conversation_activity::Migration),
            Box::new(m20261201_000016_message_tag::Migration),
            Box::new(m20261201_000017_page_reconnect_reason::Migration),
            Box::new(m20261201_000020_unread_index::Migration),
            Box::new(m20261201_000022_reactions_and_edits::Migration),
            Box::new(m20261201_000026_audit_log::Migration),
            Box::new(m20261202_000027_labels::Migration),
            Box::new(m20261202_000028_notes::Migration),
            Box::new(m20261202_000029_saved_replies::Migration),
            Box::new(m20261202_000030_referrals::Migration),
            Box::new(m20261202_000031_search::Migration),
        ]
    }
}
