//! `Page.unreadTotal` (the sum of the unread counts of a Page's conversations) is read for
//! every live event the web inbox receives: a partial index holds only the conversations
//! with something unread, so the sum reads those rows and not the Page's whole history.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UNREAD_INDEX: &str = "conversations_page_unread";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(UNREAD_INDEX)
                    .table(Conversations::Table)
                    .col(Conversations::PageId)
                    .col(Conversations::UnreadCount)
                    .and_where(Expr::col(Conversations::UnreadCount).gt(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(UNREAD_INDEX)
                    .table(Conversations::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    PageId,
    UnreadCount,
}
