//! `pages.reconnect_reason`: why a Page needs reconnecting, beside `needs_reconnect`:
//! `TOKEN_REFUSED` (Facebook refused its token, code 190) or `PERMISSION_MISSING` (the token
//! lacks a permission, codes 200-299 such as 230 `pages_messaging`). Null when the Page is
//! fine, and for Pages flagged before this column existed (read as `TOKEN_REFUSED`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Pages::Table)
                    .add_column(string_null(Pages::ReconnectReason))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Pages::Table)
                    .drop_column(Pages::ReconnectReason)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Pages {
    Table,
    ReconnectReason,
}
