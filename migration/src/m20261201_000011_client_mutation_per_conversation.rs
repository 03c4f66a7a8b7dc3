//! `clientMutationId` is unique per conversation, not per Page: integrations that number
//! their keys 1, 2, … in each conversation must not have one conversation's send taken
//! for another's repeat. Replaces `messages_page_client_mutation` (page, key) with
//! `messages_conversation_client_mutation` (conversation, key), still partial (only the
//! keyed messages, replies from the inbox). Keys unique per Page are unique per
//! conversation too, so existing rows always fit the new index.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_INDEX: &str = "messages_page_client_mutation";
const NEW_INDEX: &str = "messages_conversation_client_mutation";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Also on SQLite: between the drop and the create no other connection may insert a
    /// keyed message unchecked, and a failure leaves the old index in place.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(OLD_INDEX)
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(keyed_index(NEW_INDEX, Messages::ConversationId))
            .await
    }

    /// Fails if two conversations of one Page used the same key since `up`: the old
    /// index cannot hold them.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NEW_INDEX)
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(keyed_index(OLD_INDEX, Messages::PageId))
            .await
    }
}

/// A unique index on (`scope`, client_mutation_id) over the keyed messages only.
fn keyed_index(name: &str, scope: Messages) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(Messages::Table)
        .col(scope)
        .col(Messages::ClientMutationId)
        .unique()
        .and_where(Expr::col(Messages::ClientMutationId).is_not_null())
        .to_owned()
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    PageId,
    ConversationId,
    ClientMutationId,
}
