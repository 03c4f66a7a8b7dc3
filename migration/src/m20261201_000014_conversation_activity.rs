//! `conversation_activity`: who changed a conversation's status or assignee (or snoozed
//! it), when, from what to what. The thread shows these as system lines, and
//! `Conversation.activity` pages through them. A change the server made by itself (a
//! snooze waking, a customer reopening a thread) has no actor.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConversationActivity::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ConversationActivity::Id))
                    .col(string(ConversationActivity::PageId))
                    .col(big_integer(ConversationActivity::ConversationId))
                    // The agent who made the change; null for the server itself.
                    .col(big_integer_null(ConversationActivity::ActorId))
                    // STATUS, ASSIGNEE or SNOOZE.
                    .col(string(ConversationActivity::Kind))
                    // A status, an agent id, or an until-time in ms, as text; null for none.
                    .col(string_null(ConversationActivity::FromValue))
                    .col(string_null(ConversationActivity::ToValue))
                    .col(big_integer(ConversationActivity::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ConversationActivity::Table,
                                ConversationActivity::ConversationId,
                            )
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A conversation's activity, paged by id.
        manager
            .create_index(
                Index::create()
                    .name("conversation_activity_conversation_id")
                    .table(ConversationActivity::Table)
                    .col(ConversationActivity::ConversationId)
                    .col(ConversationActivity::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ConversationActivity::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConversationActivity {
    Table,
    Id,
    PageId,
    ConversationId,
    ActorId,
    Kind,
    FromValue,
    ToValue,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}
