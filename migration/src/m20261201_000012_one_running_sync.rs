//! At most one RUNNING history sync per Page (a partial unique index), so two concurrent
//! `syncFullHistory` calls start one job and both answer it; and `heartbeat_at`, which the
//! running job renews, so that a job left RUNNING by an instance that died no longer
//! blocks a new one. Jobs already running twice for a Page keep only the newest RUNNING.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "sync_jobs_one_running_per_page";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SyncJobs::Table)
                    .add_column(big_integer_null(SyncJobs::HeartbeatAt))
                    .to_owned(),
            )
            .await?;
        let newest_running = Query::select()
            .expr(Expr::col(SyncJobs::Id).max())
            .from(SyncJobs::Table)
            .and_where(Expr::col(SyncJobs::Status).eq("RUNNING"))
            .group_by_col(SyncJobs::PageId)
            .to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(SyncJobs::Table)
                    .value(SyncJobs::Status, "FAILED")
                    .value(
                        SyncJobs::Error,
                        "superseded by a newer sync of the same Page",
                    )
                    .value(SyncJobs::FinishedAt, Expr::col(SyncJobs::StartedAt))
                    .and_where(Expr::col(SyncJobs::Status).eq("RUNNING"))
                    .and_where(Expr::col(SyncJobs::Id).not_in_subquery(newest_running))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(SyncJobs::Table)
                    .col(SyncJobs::PageId)
                    .unique()
                    .and_where(Expr::col(SyncJobs::Status).eq("RUNNING"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(SyncJobs::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SyncJobs::Table)
                    .drop_column(SyncJobs::HeartbeatAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SyncJobs {
    Table,
    Id,
    PageId,
    Status,
    Error,
    StartedAt,
    FinishedAt,
    HeartbeatAt,
}
