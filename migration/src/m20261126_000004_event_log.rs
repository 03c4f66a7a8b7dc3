//! The per-Page event log: every change a subscriber can see, in order, so that a
//! subscriber that was away can replay what it missed. Written in the same transaction
//! as the change it records.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The last position given out per Page. Bumping it takes the row's lock, so on
        // PostgreSQL the writers of one Page commit their positions in order.
        manager
            .create_table(
                Table::create()
                    .table(PageEventHeads::Table)
                    .if_not_exists()
                    .col(string(PageEventHeads::PageId).primary_key())
                    .col(big_integer(PageEventHeads::Position))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PageEvents::Table)
                    .if_not_exists()
                    .col(string(PageEvents::PageId))
                    .col(big_integer(PageEvents::Position))
                    // MESSAGE_ADDED, MESSAGE_UPDATED or CONVERSATION_UPDATED.
                    .col(string(PageEvents::Kind))
                    // The message's or the conversation's id; replay reads its current row.
                    .col(big_integer(PageEvents::EntityId))
                    .col(big_integer(PageEvents::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(PageEvents::PageId)
                            .col(PageEvents::Position),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(PageEvents::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(PageEventHeads::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PageEventHeads {
    Table,
    PageId,
    Position,
}

#[derive(DeriveIden)]
enum PageEvents {
    Table,
    PageId,
    Position,
    Kind,
    EntityId,
    CreatedAt,
}
