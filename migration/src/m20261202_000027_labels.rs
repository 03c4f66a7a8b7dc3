//! `labels` and `conversation_labels`: a Page's labels (name, colour) and which of its
//! conversations carry which. A label's name is unique per Page regardless of case:
//! `name_key` holds the name case-folded by the server (the engines' `lower()` differ
//! outside ASCII), under a unique index with the Page.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Labels::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Labels::Id))
                    .col(string(Labels::PageId))
                    // As the agent wrote it, trimmed.
                    .col(string(Labels::Name))
                    // The name case-folded: what uniqueness compares.
                    .col(string(Labels::NameKey))
                    // `#rrggbb`, lower case.
                    .col(string(Labels::Color))
                    .col(big_integer(Labels::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("labels_page_id_name_key")
                    .table(Labels::Table)
                    .col(Labels::PageId)
                    .col(Labels::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationLabels::Table)
                    .if_not_exists()
                    .col(big_integer(ConversationLabels::ConversationId))
                    .col(big_integer(ConversationLabels::LabelId))
                    .primary_key(
                        Index::create()
                            .col(ConversationLabels::ConversationId)
                            .col(ConversationLabels::LabelId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ConversationLabels::Table,
                                ConversationLabels::ConversationId,
                            )
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConversationLabels::Table, ConversationLabels::LabelId)
                            .to(Labels::Table, Labels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // `conversations(labelId)`: a label's conversations.
        manager
            .create_index(
                Index::create()
                    .name("conversation_labels_label_id")
                    .table(ConversationLabels::Table)
                    .col(ConversationLabels::LabelId)
                    .col(ConversationLabels::ConversationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ConversationLabels::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Labels::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Labels {
    Table,
    Id,
    PageId,
    Name,
    NameKey,
    Color,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConversationLabels {
    Table,
    ConversationId,
    LabelId,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}
