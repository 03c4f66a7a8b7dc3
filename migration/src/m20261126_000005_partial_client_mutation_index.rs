//! `messages_page_client_mutation` covers only the messages sent with a
//! `client_mutation_id` (replies from the inbox). Every webhook message has none, and
//! indexing those NULLs only cost ingest an index insertion per message.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "messages_page_client_mutation";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Also on SQLite: the drop and the create then share one connection (another pooled
    /// connection may still see the index), and a failure leaves the old index in place.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(manager, false).await
    }
}

/// Drops the index and creates it again, partial (only keyed messages) or whole.
async fn replace(manager: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(INDEX).table(Messages::Table).to_owned())
        .await?;
    let mut index = Index::create();
    index
        .name(INDEX)
        .table(Messages::Table)
        .col(Messages::PageId)
        .col(Messages::ClientMutationId)
        .unique();
    if partial {
        index.and_where(Expr::col(Messages::ClientMutationId).is_not_null());
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    PageId,
    ClientMutationId,
}
