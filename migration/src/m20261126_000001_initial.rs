//! Pages, agents, membership, conversations and messages, with the indexes the inbox reads by.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Pages::Table)
                    .if_not_exists()
                    .col(string(Pages::Id).primary_key())
                    .col(string_null(Pages::Name))
                    .col(big_integer(Pages::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Agents::Id))
                    .col(string_uniq(Agents::Email))
                    .col(string(Agents::Name))
                    .col(string(Agents::Role))
                    .col(string_null(Agents::PasswordHash))
                    .col(big_integer(Agents::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PageMembers::Table)
                    .if_not_exists()
                    .col(string(PageMembers::PageId))
                    .col(big_integer(PageMembers::AgentId))
                    .col(big_integer(PageMembers::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(PageMembers::PageId)
                            .col(PageMembers::AgentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PageMembers::Table, PageMembers::PageId)
                            .to(Pages::Table, Pages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PageMembers::Table, PageMembers::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Conversations::Id))
                    .col(string(Conversations::PageId))
                    .col(string(Conversations::Psid))
                    .col(string_null(Conversations::CustomerName))
                    .col(text_null(Conversations::LastMessageText))
                    .col(big_integer(Conversations::LastTimestamp))
                    .col(integer(Conversations::UnreadCount).default(0))
                    .col(string(Conversations::Status).default("OPEN"))
                    .col(big_integer_null(Conversations::LastInboundTimestamp))
                    .col(big_integer(Conversations::DeliveredWatermark).default(0))
                    .col(big_integer(Conversations::ReadWatermark).default(0))
                    .col(big_integer(Conversations::CreatedAt))
                    .col(big_integer(Conversations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Conversations::Table, Conversations::PageId)
                            .to(Pages::Table, Pages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("conversations_page_psid")
                    .table(Conversations::Table)
                    .col(Conversations::PageId)
                    .col(Conversations::Psid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The inbox: a Page's conversations, newest first, paged by (time, id).
        manager
            .create_index(
                Index::create()
                    .name("conversations_page_last")
                    .table(Conversations::Table)
                    .col(Conversations::PageId)
                    .col((Conversations::LastTimestamp, IndexOrder::Desc))
                    .col((Conversations::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Messages::Id))
                    .col(string(Messages::PageId))
                    .col(big_integer(Messages::ConversationId))
                    .col(string(Messages::Mid))
                    .col(string(Messages::Direction))
                    .col(text_null(Messages::Text))
                    .col(text_null(Messages::Attachments))
                    .col(text_null(Messages::QuickReplyPayload))
                    .col(string_null(Messages::ReplyToMid))
                    .col(string_null(Messages::AppId))
                    .col(big_integer(Messages::Timestamp))
                    .col(string(Messages::Status))
                    .col(string_null(Messages::ErrorCode))
                    .col(big_integer(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Idempotent ingest: Facebook's mid is unique within a Page.
        manager
            .create_index(
                Index::create()
                    .name("messages_page_mid")
                    .table(Messages::Table)
                    .col(Messages::PageId)
                    .col(Messages::Mid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A chat: a conversation's messages in time order, paged by (time, id).
        manager
            .create_index(
                Index::create()
                    .name("messages_conversation_time")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::Timestamp)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Messages::Table.into_iden(),
            Conversations::Table.into_iden(),
            PageMembers::Table.into_iden(),
            Agents::Table.into_iden(),
            Pages::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Pages {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    Email,
    Name,
    Role,
    PasswordHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PageMembers {
    Table,
    PageId,
    AgentId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    PageId,
    Psid,
    CustomerName,
    LastMessageText,
    LastTimestamp,
    UnreadCount,
    Status,
    LastInboundTimestamp,
    DeliveredWatermark,
    ReadWatermark,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    PageId,
    ConversationId,
    Mid,
    Direction,
    Text,
    Attachments,
    QuickReplyPayload,
    ReplyToMid,
    AppId,
    Timestamp,
    Status,
    ErrorCode,
    CreatedAt,
}
