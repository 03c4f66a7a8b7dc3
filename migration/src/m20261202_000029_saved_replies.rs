//! `saved_replies`: a Page's canned answers, each under a shortcut that agents type after
//! `/` in the composer. A shortcut is unique per Page whatever its case: `shortcut_key`
//! holds it case-folded by the server (the engines' `lower()` differ outside ASCII), under
//! a unique index with the Page.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedReplies::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SavedReplies::Id))
                    .col(string(SavedReplies::PageId))
                    // As the agent wrote it, without the `/`.
                    .col(string(SavedReplies::Shortcut))
                    // The shortcut case-folded: what uniqueness compares.
                    .col(string(SavedReplies::ShortcutKey))
                    .col(text(SavedReplies::Text))
                    .col(big_integer(SavedReplies::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("saved_replies_page_id_shortcut_key")
                    .table(SavedReplies::Table)
                    .col(SavedReplies::PageId)
                    .col(SavedReplies::ShortcutKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SavedReplies::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SavedReplies {
    Table,
    Id,
    PageId,
    Shortcut,
    ShortcutKey,
    Text,
    CreatedAt,
}
