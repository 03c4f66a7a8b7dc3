//! `referrals`: how a customer came to a Page's conversation when Facebook says so: an ad
//! (`ADS`, with its id and title), an m.me link (`SHORTLINK`, with its `ref`) or the chat
//! plugin on a website (`CUSTOMER_CHAT_PLUGIN`, with the page's address). From the
//! `messaging_referrals` webhook event and the `referral` inside a postback or a message.
//! Each is stored once: `dedup_key` names the event it came from (a standalone referral by
//! its customer and Facebook's time, one inside a postback or message by that mid), and a
//! retried delivery meets the unique `(page_id, dedup_key)`.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Referrals::Id))
                    .col(string(Referrals::PageId))
                    .col(big_integer(Referrals::ConversationId))
                    .col(string(Referrals::DedupKey))
                    // ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN, or what Facebook sends next.
                    .col(string(Referrals::Source))
                    // OPEN_THREAD.
                    .col(string_null(Referrals::Kind))
                    .col(text_null(Referrals::RefParam))
                    .col(string_null(Referrals::AdId))
                    .col(text_null(Referrals::AdTitle))
                    .col(text_null(Referrals::RefererUri))
                    // Facebook's time of the event, ms.
                    .col(big_integer(Referrals::Timestamp))
                    .col(big_integer(Referrals::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referrals::Table, Referrals::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("referrals_page_dedup_key")
                    .table(Referrals::Table)
                    .col(Referrals::PageId)
                    .col(Referrals::DedupKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The customer's story: a conversation's referrals, newest first.
        manager
            .create_index(
                Index::create()
                    .name("referrals_conversation_time")
                    .table(Referrals::Table)
                    .col(Referrals::ConversationId)
                    .col((Referrals::Timestamp, IndexOrder::Desc))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Referrals::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    PageId,
    ConversationId,
    DedupKey,
    Source,
    Kind,
    RefParam,
    AdId,
    AdTitle,
    RefererUri,
    Timestamp,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}
