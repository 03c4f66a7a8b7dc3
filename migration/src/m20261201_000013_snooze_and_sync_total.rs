//! What keeps customers from slipping by: `conversations.snoozed_until` (ms; set while a
//! conversation is SNOOZED, cleared when it leaves SNOOZED), which the server's waker reads
//! (a partial index holds only the snoozed rows); indexes for the inbox's assignee filters
//! and its "ending soon" view (OPEN conversations by the start of their messaging window);
//! and `sync_jobs.total`, the conversations a full history sync has to import (null until
//! counted).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SNOOZED_INDEX: &str = "conversations_snoozed_until";
const ASSIGNEE_INDEX: &str = "conversations_page_assignee_last";
const WINDOW_INDEX: &str = "conversations_page_status_inbound";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(big_integer_null(Conversations::SnoozedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SyncJobs::Table)
                    .add_column(integer_null(SyncJobs::Total))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(SNOOZED_INDEX)
                    .table(Conversations::Table)
                    .col(Conversations::SnoozedUntil)
                    .and_where(Expr::col(Conversations::Status).eq("SNOOZED"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ASSIGNEE_INDEX)
                    .table(Conversations::Table)
                    .col(Conversations::PageId)
                    .col(Conversations::AssigneeId)
                    .col((Conversations::LastTimestamp, IndexOrder::Desc))
                    .col((Conversations::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(WINDOW_INDEX)
                    .table(Conversations::Table)
                    .col(Conversations::PageId)
                    .col(Conversations::Status)
                    .col(Conversations::LastInboundTimestamp)
                    .col(Conversations::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [WINDOW_INDEX, ASSIGNEE_INDEX, SNOOZED_INDEX] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Conversations::Table)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(SyncJobs::Table)
                    .drop_column(SyncJobs::Total)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conversations::SnoozedUntil)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    PageId,
    Status,
    LastTimestamp,
    LastInboundTimestamp,
    AssigneeId,
    SnoozedUntil,
}

#[derive(DeriveIden)]
enum SyncJobs {
    Table,
    Total,
}
