//! Search over message texts and customer names (issue 15, point 4), kept by triggers in
//! the transaction of every write that changes a text or a name, whichever code path
//! writes it (ingest's batched SQL, sends, edits, syncs, merges).
//!
//! - SQLite: two contentless FTS5 tables (`content=''`, `contentless_delete=1`: the texts
//!   stay in `messages` and `conversations` only), rowid = the row's id, tokenised by
//!   `unicode61` with `remove_diacritics 2` (case and Latin accents folded) and prefix
//!   indexes of 2 and 3 characters. Column `page` holds one token, `p<page id>`, so that a
//!   Page filter is a term of the same match, not a join.
//! - PostgreSQL: GIN expression indexes over `mf_search_vector(text)`: the `simple`
//!   configuration (no stemming, so words of any language are kept as written, lowercased)
//!   over `unaccent`. The function is declared IMMUTABLE so it can be indexed; `unaccent`
//!   is a trusted extension (PostgreSQL 13+), created by a database owner.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE message_search USING fts5(page, body, content='', \
     contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "INSERT INTO message_search(rowid, page, body) \
     SELECT id, 'p' || page_id, text FROM messages WHERE text IS NOT NULL",
    "CREATE TRIGGER message_search_insert AFTER INSERT ON messages \
     WHEN new.text IS NOT NULL BEGIN \
       INSERT INTO message_search(rowid, page, body) VALUES (new.id, 'p' || new.page_id, new.text); \
     END",
    "CREATE TRIGGER message_search_update AFTER UPDATE OF text ON messages \
     WHEN old.text IS NOT new.text BEGIN \
       DELETE FROM message_search WHERE rowid = old.id; \
       INSERT INTO message_search(rowid, page, body) \
         SELECT new.id, 'p' || new.page_id, new.text WHERE new.text IS NOT NULL; \
     END",
    "CREATE TRIGGER message_search_delete AFTER DELETE ON messages \
     WHEN old.text IS NOT NULL BEGIN \
       DELETE FROM message_search WHERE rowid = old.id; \
     END",
    "CREATE VIRTUAL TABLE conversation_search USING fts5(page, name, content='', \
     contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "INSERT INTO conversation_search(rowid, page, name) \
     SELECT id, 'p' || page_id, customer_name FROM conversations WHERE customer_name IS NOT NULL",
    "CREATE TRIGGER conversation_search_insert AFTER INSERT ON conversations \
     WHEN new.customer_name IS NOT NULL BEGIN \
       INSERT INTO conversation_search(rowid, page, name) \
         VALUES (new.id, 'p' || new.page_id, new.customer_name); \
     END",
    "CREATE TRIGGER conversation_search_update AFTER UPDATE OF customer_name ON conversations \
     WHEN old.customer_name IS NOT new.customer_name BEGIN \
       DELETE FROM conversation_search WHERE rowid = old.id; \
       INSERT INTO conversation_search(rowid, page, name) \
         SELECT new.id, 'p' || new.page_id, new.customer_name WHERE new.customer_name IS NOT NULL; \
     END",
    "CREATE TRIGGER conversation_search_delete AFTER DELETE ON conversations \
     WHEN old.customer_name IS NOT NULL BEGIN \
       DELETE FROM conversation_search WHERE rowid = old.id; \
     END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS conversation_search_delete",
    "DROP TRIGGER IF EXISTS conversation_search_update",
    "DROP TRIGGER IF EXISTS conversation_search_insert",
    "DROP TABLE IF EXISTS conversation_search",
    "DROP TRIGGER IF EXISTS message_search_delete",
    "DROP TRIGGER IF EXISTS message_search_update",
    "DROP TRIGGER IF EXISTS message_search_insert",
    "DROP TABLE IF EXISTS message_search",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    // The dictionary is named with its schema and the function pins its search_path, so
    // the index does not depend on the session's search_path (the reason unaccent() itself
    // is only STABLE).
    "CREATE OR REPLACE FUNCTION mf_search_vector(input text) RETURNS tsvector \
     LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT \
     SET search_path = public, pg_catalog \
     AS $$ SELECT to_tsvector('simple'::regconfig, unaccent('unaccent'::regdictionary, input)) $$",
    "CREATE OR REPLACE FUNCTION mf_search_query(input text) RETURNS tsquery \
     LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT \
     SET search_path = public, pg_catalog \
     AS $$ SELECT to_tsquery('simple'::regconfig, unaccent('unaccent'::regdictionary, input)) $$",
    "CREATE INDEX messages_search ON messages USING gin (mf_search_vector(text))",
    "CREATE INDEX conversations_search ON conversations USING gin (mf_search_vector(customer_name))",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS conversations_search",
    "DROP INDEX IF EXISTS messages_search",
    "DROP FUNCTION IF EXISTS mf_search_query(text)",
    "DROP FUNCTION IF EXISTS mf_search_vector(text)",
];

async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DatabaseBackend::Sqlite => sqlite,
        DatabaseBackend::Postgres => postgres,
        other => {
            return Err(DbErr::Migration(format!(
                "search is built for SQLite and PostgreSQL, not {other:?}"
            )));
        }
    };
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
