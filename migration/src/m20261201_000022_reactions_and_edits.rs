//! What customers do to a message after sending it (issue 15, point 6):
//! `messages.reactions`, the reactions on it (JSON, as `attachments`: portable), and
//! `messages.edit_count` / `messages.edited_at`, Facebook's `num_edit` of the latest edit
//! applied and when it was made. One column per statement: SQLite alters one at a time.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null(Messages::Reactions),
            integer(Messages::EditCount).default(0).to_owned(),
            big_integer_null(Messages::EditedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Messages::Reactions, Messages::EditCount, Messages::EditedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Reactions,
    EditCount,
    EditedAt,
}
