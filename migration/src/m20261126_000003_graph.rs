//! Connecting Pages (their token and state), sending (idempotency keys, errors),
//! assignment and customer pictures, and history-sync jobs.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite takes one column per ALTER TABLE.
async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Clone + 'static,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(manager, Pages::Table, text_null(Pages::AccessToken)).await?;
        add(
            manager,
            Pages::Table,
            boolean(Pages::NeedsReconnect).default(false).to_owned(),
        )
        .await?;
        add(manager, Pages::Table, big_integer_null(Pages::ConnectedAt)).await?;
        add(
            manager,
            Conversations::Table,
            text_null(Conversations::CustomerPicture),
        )
        .await?;
        add(
            manager,
            Conversations::Table,
            big_integer_null(Conversations::AssigneeId),
        )
        .await?;
        add(
            manager,
            Messages::Table,
            string_null(Messages::ClientMutationId),
        )
        .await?;
        add(
            manager,
            Messages::Table,
            big_integer_null(Messages::AgentId),
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("messages_page_client_mutation")
                    .table(Messages::Table)
                    .col(Messages::PageId)
                    .col(Messages::ClientMutationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncJobs::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SyncJobs::Id))
                    .col(string(SyncJobs::PageId))
                    .col(string(SyncJobs::Status))
                    .col(integer(SyncJobs::Conversations).default(0))
                    .col(integer(SyncJobs::Messages).default(0))
                    .col(string_null(SyncJobs::Error))
                    .col(big_integer(SyncJobs::StartedAt))
                    .col(big_integer_null(SyncJobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncJobs::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("messages_page_client_mutation")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            (Messages::Table.into_iden(), Messages::AgentId.into_iden()),
            (
                Messages::Table.into_iden(),
                Messages::ClientMutationId.into_iden(),
            ),
            (
                Conversations::Table.into_iden(),
                Conversations::AssigneeId.into_iden(),
            ),
            (
                Conversations::Table.into_iden(),
                Conversations::CustomerPicture.into_iden(),
            ),
            (Pages::Table.into_iden(), Pages::ConnectedAt.into_iden()),
            (Pages::Table.into_iden(), Pages::NeedsReconnect.into_iden()),
            (Pages::Table.into_iden(), Pages::AccessToken.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone)]
enum Pages {
    Table,
    AccessToken,
    NeedsReconnect,
    ConnectedAt,
}

#[derive(DeriveIden, Clone)]
enum Conversations {
    Table,
    CustomerPicture,
    AssigneeId,
}

#[derive(DeriveIden, Clone)]
enum Messages {
    Table,
    PageId,
    ClientMutationId,
    AgentId,
}

#[derive(DeriveIden)]
enum SyncJobs {
    Table,
    Id,
    PageId,
    Status,
    Conversations,
    Messages,
    Error,
    StartedAt,
    FinishedAt,
}
