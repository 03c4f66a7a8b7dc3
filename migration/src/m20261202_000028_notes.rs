//! `notes`: what agents write in a conversation for each other, never sent to Facebook;
//! `note_mentions`: who a note mentions, so each agent's mentions page newest first.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notes::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Notes::Id))
                    .col(string(Notes::PageId))
                    .col(big_integer(Notes::ConversationId))
                    // The agent who wrote it (an API token's creator).
                    .col(big_integer(Notes::AuthorId))
                    .col(text(Notes::Text))
                    // The mentioned agents' ids, comma-separated ("" for none): the note
                    // carries them through the bus and replays without another read.
                    .col(text(Notes::MentionIds))
                    .col(big_integer(Notes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notes::Table, Notes::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A conversation's notes, paged by id.
        manager
            .create_index(
                Index::create()
                    .name("notes_conversation_id")
                    .table(Notes::Table)
                    .col(Notes::ConversationId)
                    .col(Notes::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NoteMentions::Table)
                    .if_not_exists()
                    .col(big_integer(NoteMentions::NoteId))
                    .col(big_integer(NoteMentions::AgentId))
                    // The note's Page: an agent's mentions are filtered to the Pages it
                    // may see now.
                    .col(string(NoteMentions::PageId))
                    .primary_key(
                        Index::create()
                            .col(NoteMentions::NoteId)
                            .col(NoteMentions::AgentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(NoteMentions::Table, NoteMentions::NoteId)
                            .to(Notes::Table, Notes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One agent's mentions, newest first.
        manager
            .create_index(
                Index::create()
                    .name("note_mentions_agent_id")
                    .table(NoteMentions::Table)
                    .col(NoteMentions::AgentId)
                    .col(NoteMentions::NoteId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(NoteMentions::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Notes::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Notes {
    Table,
    Id,
    PageId,
    ConversationId,
    AuthorId,
    Text,
    MentionIds,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NoteMentions {
    Table,
    NoteId,
    AgentId,
    PageId,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}
