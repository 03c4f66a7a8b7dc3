//! Connecting to the database with durable settings, and running the migrations.
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Opens the pool. SQLite runs in WAL mode with `synchronous=FULL`, so a committed
/// transaction survives a power cut: an acknowledged webhook is never sent again by
/// Facebook, so it must not be lost. PostgreSQL keeps its default `synchronous_commit=on`.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_pool(url, 16, Duration::from_secs(10)).await
}

/// A connection for each ingest writer alone (`writers`): its page cache stays warm from
/// one transaction to the next, and it never waits for a reader's connection. Nothing
/// else holds these connections, so a slow acquire means the database is down (refusing
/// connections): give up after 3 s and answer 503, rather than keep Facebook waiting.
pub async fn connect_writer(url: &str, writers: usize) -> anyhow::Result<DatabaseConnection> {
    let size = u32::try_from(writers.max(1)).unwrap_or(u32::MAX);
    connect_pool(url, size, Duration::from_secs(3)).await
}

async fn connect_pool(
    url: &str,
    size: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(size)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(acquire_timeout)
        .sqlx_logging(false);
    options.map_sqlx_sqlite_opts(|opts| {
        opts.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // A group commit can dirty many pages: keep them in memory (64 MiB) rather
            // than spill to the WAL mid-transaction, and keep statement journals in RAM.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", "10000")
    });
    options.map_sqlx_postgres_opts(|opts| opts.options([("synchronous_commit", "on")]));
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database ({})", redact_url(url)))
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first holds a snapshot, and once
/// another connection commits after that read it can no longer write (SQLITE_BUSY_SNAPSHOT,
/// "database is locked", which `busy_timeout` does not wait out); an immediate one waits
/// for the lock instead, up to `busy_timeout`. On PostgreSQL, an ordinary transaction.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("running migrations")
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://[redacted]@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{begin_write, connect, connect_writer, redact_url};
    use sea_orm::{ConnectionTrait, Statement};

    async fn pragma(db: &sea_orm::DatabaseConnection, name: &str) -> String {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("PRAGMA {name}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0)
            .map(|n| n.to_string())
            .or_else(|_| row.try_get_by_index::<String>(0))
            .unwrap()
    }

    #[tokio::test]
    async fn sqlite_connections_are_durable_wal_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/d.db?mode=rwc", dir.path().display());
        for db in [
            connect(&url).await.unwrap(),
            connect_writer(&url, 1).await.unwrap(),
        ] {
            assert_eq!(pragma(&db, "journal_mode").await, "wal");
            // 2 = FULL: the WAL is fsync'd at every commit.
            assert_eq!(pragma(&db, "synchronous").await, "2");
        }
    }

    /// Two sends finishing at once (read their row, then write) failed with "database is
    /// locked" when each began deferred and the other committed in between.
    #[tokio::test]
    async fn a_write_transaction_that_reads_first_waits_for_another_writer_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/d.db?mode=rwc", dir.path().display());
        let db = connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();

        let txn = begin_write(&db).await.unwrap();
        txn.execute_unprepared("SELECT count(*) FROM t")
            .await
            .unwrap();
        let other = {
            let db = db.clone();
            tokio::spawn(async move { db.execute_unprepared("INSERT INTO t VALUES (2)").await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        txn.execute_unprepared("INSERT INTO t VALUES (3)")
            .await
            .expect("writing after a read, while another connection wants to write");
        txn.commit().await.unwrap();
        other
            .await
            .unwrap()
            .expect("the other writer waited for the lock");
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) FROM t".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 3);
    }

    #[test]
    fn credentials_are_hidden_in_database_urls() {
        assert_eq!(
            redact_url("postgres://mf:hunter2@localhost:5432/mf"),
            "postgres://[redacted]@localhost:5432/mf"
        );
        assert_eq!(
            redact_url("sqlite://messengerflow.db?mode=rwc"),
            "sqlite://messengerflow.db?mode=rwc"
        );
    }
}
