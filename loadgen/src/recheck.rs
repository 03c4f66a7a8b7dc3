//! `loadgen recheck`: what one re-check of every live credential costs (`auth::recheck`,
//! which each instance runs every second over the credentials of its open subscriptions
//! and connections). A fresh, migrated database gets `agents` AGENTs (each a member of 3
//! of 50 Pages), `sessions` sessions spread over them and `tokens` API tokens (2 Pages
//! each); then every credential is re-checked `runs` times, as one sweep does.
use std::time::Instant;

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use api::service::auth::{self, CredentialKey};

use crate::stats::Summary;

/// Rows per INSERT while arranging.
const ROWS_PER_INSERT: usize = 500;

pub async fn recheck(
    database_url: Option<&str>,
    agents: usize,
    sessions: usize,
    tokens: usize,
    runs: usize,
) -> anyhow::Result<()> {
    if agents == 0 {
        bail!("--agents must be at least 1");
    }
    // Under ./target, not /tmp: /tmp may be a RAM disk.
    let dir = match database_url {
        Some(_) => None,
        None => {
            std::fs::create_dir_all("target").context("creating ./target")?;
            Some(
                tempfile::Builder::new()
                    .prefix("recheck-")
                    .tempdir_in("target")?,
            )
        }
    };
    let url = match (&dir, database_url) {
        (_, Some(url)) => url.to_owned(),
        (Some(dir), None) => format!("sqlite://{}/recheck.db?mode=rwc", dir.path().display()),
        (None, None) => bail!("no database"),
    };
    let db = api::db::connect(&url).await?;
    api::db::migrate(&db).await?;
    arrange(&db, agents, sessions, tokens).await?;

    let keys: Vec<CredentialKey> = (1..=sessions as i64)
        .map(CredentialKey::Session)
        .chain((1..=tokens as i64).map(CredentialKey::ApiToken))
        .collect();
    let mut samples = Vec::with_capacity(runs);
    let mut valid = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let principals = auth::recheck(&db, &keys)
            .await
            .map_err(|err| anyhow::anyhow!("re-checking: {}", err.message()))?;
        samples.push(started.elapsed().as_nanos() as u64);
        valid = principals.len();
    }
    println!(
        "recheck: {} credentials ({sessions} sessions of {agents} agents, {tokens} API tokens), \
         {valid} valid; one sweep: {}",
        keys.len(),
        Summary::of(&mut samples)
    );
    Ok(())
}

async fn arrange(
    db: &DatabaseConnection,
    agents: usize,
    sessions: usize,
    tokens: usize,
) -> anyhow::Result<()> {
    let far = api::time::now_ms() + 3_600_000;
    insert(
        db,
        "pages (id, name, created_at, needs_reconnect)",
        (0..50).map(|p| format!("('p{p}', NULL, 0, false)")),
    )
    .await?;
    insert(
        db,
        "agents (id, email, name, role, password_hash, created_at)",
        (1..=agents).map(|a| format!("({a}, 'a{a}@example.com', 'A{a}', 'AGENT', NULL, 0)")),
    )
    .await?;
    insert(
        db,
        "page_members (page_id, agent_id, created_at)",
        (1..=agents).flat_map(|a| (0..3).map(move |k| format!("('p{}', {a}, 0)", (a + k) % 50))),
    )
    .await?;
    insert(
        db,
        "sessions (id, agent_id, token_hash, expires_at, revoked_at, created_at)",
        (1..=sessions).map(|s| format!("({s}, {}, 's{s}', {far}, NULL, 0)", 1 + s % agents)),
    )
    .await?;
    insert(
        db,
        "api_tokens (id, agent_id, name, token_hash, revoked_at, created_at)",
        (1..=tokens).map(|t| format!("({t}, {}, 't{t}', 't{t}', NULL, 0)", 1 + t % agents)),
    )
    .await?;
    insert(
        db,
        "api_token_pages (token_id, page_id)",
        (1..=tokens).flat_map(|t| {
            let a = 1 + t % agents;
            (0..2).map(move |k| format!("({t}, 'p{}')", (a + k) % 50))
        }),
    )
    .await?;
    Ok(())
}

/// INSERTs `rows` (SQL value tuples) into `table_and_columns`, some hundred at a time.
async fn insert(
    db: &DatabaseConnection,
    table_and_columns: &str,
    rows: impl Iterator<Item = String>,
) -> anyhow::Result<()> {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO {table_and_columns} VALUES {}",
            chunk.join(", ")
        );
        db.execute_unprepared(&sql)
            .await
            .with_context(|| format!("arranging {table_and_columns}"))?;
    }
    Ok(())
}
