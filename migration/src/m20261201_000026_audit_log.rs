//! `audit_log`: who did what, when, on which object: sign-ins (and failed ones), tokens,
//! agents, memberships, Page connections, conversation status and assignment changes.
//! Append-only: a trigger refuses every UPDATE on both engines; rows leave only through
//! the retention pruner (`service::audit::prune`), oldest first.
use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGER: &str = "CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END";
const POSTGRES_FUNCTION: &str = "CREATE OR REPLACE FUNCTION audit_log_append_only() \
     RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     RAISE EXCEPTION 'audit_log is append-only'; END $$";
const POSTGRES_TRIGGER: &str = "CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log \
     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer(AuditLog::CreatedAt))
                    // SIGN_IN, SIGN_IN_FAILED, API_TOKEN_CREATED, ... (entity::audit_entry).
                    .col(string(AuditLog::Action))
                    // The agent who acted (an API token's creator), null when nobody signed
                    // in did it (a failed sign-in).
                    .col(big_integer_null(AuditLog::ActorId))
                    // The API token it acted through, null for a session.
                    .col(big_integer_null(AuditLog::ActorTokenId))
                    // The actor's email then; for a failed sign-in, the email tried.
                    .col(string_null(AuditLog::ActorEmail))
                    // AGENT, API_TOKEN, PAGE, CONVERSATION, LABEL, SAVED_REPLY.
                    .col(string_null(AuditLog::ObjectKind))
                    .col(string_null(AuditLog::ObjectId))
                    // The object's name then (an email, a token's or a Page's name).
                    .col(string_null(AuditLog::ObjectName))
                    .col(string_null(AuditLog::PageId))
                    .col(string_null(AuditLog::FromValue))
                    .col(string_null(AuditLog::ToValue))
                    .col(string_null(AuditLog::Ip))
                    .col(string_null(AuditLog::UserAgent))
                    .to_owned(),
            )
            .await?;
        // The pruner deletes by time.
        manager
            .create_index(
                Index::create()
                    .name("audit_log_created_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::CreatedAt)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                db.execute_unprepared(SQLITE_TRIGGER).await?;
            }
            DatabaseBackend::Postgres => {
                db.execute_unprepared(POSTGRES_FUNCTION).await?;
                db.execute_unprepared(POSTGRES_TRIGGER).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).if_exists().to_owned())
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_log_append_only()")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    CreatedAt,
    Action,
    ActorId,
    ActorTokenId,
    ActorEmail,
    ObjectKind,
    ObjectId,
    ObjectName,
    PageId,
    FromValue,
    ToValue,
    Ip,
    UserAgent,
}
