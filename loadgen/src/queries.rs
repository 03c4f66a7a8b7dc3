//! `loadgen queries`: what the inbox's two reads cost on a big Page. The database is seeded
//! directly with multi-row INSERTs (a million messages through webhooks would take an
//! hour), then `concurrency` clients send the web client's own `Conversations` and
//! `Messages` operations (its fragments, as it sends them) for `seconds` each.
//!
//! A database that already holds the Page's conversations is not seeded again, so one
//! seeded file can serve several runs (and several builds of `api`, alternately).
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use entity::conversation::Status as ConversationStatus;
use entity::message::{Direction, Status as MessageStatus};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::server::{ADMIN_EMAIL, Target};
use crate::stats::Summary;

/// The seeded Page (apart from the one the other benchmarks use).
const PAGE: &str = "300000000000003";

/// `ConversationFields` and `MessageFields` of `client/graphql/operations.graphql`.
const CONVERSATIONS: &str = "query Conversations($pageId: ID!, $first: Int) {
  conversations(pageId: $pageId, first: $first) {
    edges { cursor node { ...ConversationFields } }
    pageInfo { hasNextPage endCursor }
  }
}
fragment ConversationFields on Conversation {
  id page { id } customer { psid name pictureUrl } lastMessageText lastTimestamp unreadCount
  status assignee { id name } windowExpiresAt humanAgentWindowExpiresAt
}";
const MESSAGES: &str = "query Messages($conversationId: ID!, $last: Int) {
  messages(conversationId: $conversationId, last: $last) {
    edges { node { ...MessageFields } }
    pageInfo { hasPreviousPage startCursor }
  }
}
fragment MessageFields on Message {
  id mid conversationId direction text attachments { type url title } timestamp status
  errorCode clientMutationId appId
}";

pub struct Shape {
    pub conversations: usize,
    pub messages: usize,
    pub concurrency: usize,
    pub seconds: u64,
}

pub async fn queries(target: &Target, database_url: &str, shape: &Shape) -> anyhow::Result<()> {
    let db = api::db::connect(database_url).await?;
    let heavy = seed(&db, shape.conversations, shape.messages).await?;
    let token = target.login().await?;

    let conversations = |_: usize| json!({ "pageId": PAGE, "first": 5 });
    let heavy = Arc::new(heavy);
    let pick = {
        let heavy = heavy.clone();
        move |n: usize| {
            let id = heavy[mix(n) % heavy.len()];
            json!({ "conversationId": id.to_string(), "last": 50 })
        }
    };
    for (name, query, variables) in [
        (
            "conversations(first: 5)",
            CONVERSATIONS,
            Arc::new(conversations) as Arc<dyn Fn(usize) -> Value + Send + Sync>,
        ),
        ("messages(last: 50)", MESSAGES, Arc::new(pick)),
    ] {
        // A second of warm-up (page cache, prepared statements), not counted.
        drive(target, &token, query, &variables, shape.concurrency, 1).await?;
        let (mut latencies, secs) = drive(
            target,
            &token,
            query,
            &variables,
            shape.concurrency,
            shape.seconds,
        )
        .await?;
        let count = latencies.len();
        let summary = Summary::of(&mut latencies);
        println!(
            "{name}: {count} requests in {secs:.2} s, {} concurrent: {:.0} requests/s; {summary}",
            shape.concurrency,
            count as f64 / secs,
        );
    }
    Ok(())
}

/// Sends `query` from `concurrency` clients for `seconds`; every answer must be free of
/// errors. The latencies (ns) and the time taken.
pub(crate) async fn drive(
    target: &Target,
    token: &str,
    query: &'static str,
    variables: &Arc<dyn Fn(usize) -> Value + Send + Sync>,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<(Vec<u64>, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (target, token) = (target.clone(), token.to_owned());
            let (next, stop, variables) = (next.clone(), stop.clone(), variables.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let body = json!({ "query": query, "variables": variables(n) });
                    let sent = Instant::now();
                    let response: Value = target
                        .http()
                        .post(format!("{}/graphql", target.base()))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await?
                        .json()
                        .await?;
                    latencies.push(sent.elapsed().as_nanos() as u64);
                    if response.get("errors").is_some() || response["data"].is_null() {
                        bail!("the query failed: {response}");
                    }
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.context("worker panicked")??);
    }
    Ok((latencies, started.elapsed().as_secs_f64()))
}

/// A well-spread index from a counter (splitmix64), so clients read many conversations.
pub(crate) fn mix(n: usize) -> usize {
    let mut z = (n as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as usize
}

/// Seeds the Page with `conversations` conversations and `messages` messages, unless it
/// has them already. A tenth of the conversations (the newest) hold most messages (at
/// least 50 each when the totals allow, so `messages(last: 50)` reads a full page); a third
/// are assigned to the administrator, so `assignee` is looked up. Returns the ids of the
/// conversations with many messages.
async fn seed(
    db: &DatabaseConnection,
    conversations: usize,
    messages: usize,
) -> anyhow::Result<Vec<i64>> {
    let conversations = conversations.max(10);
    let heavy = conversations / 10;
    let light = (messages / (2 * conversations)).max(1);
    let per_heavy = messages.saturating_sub((conversations - heavy) * light) / heavy;
    let base: i64 = 1_700_000_000_000;

    let have = count(
        db,
        &format!("SELECT COUNT(*) AS n FROM conversations WHERE page_id = '{PAGE}'"),
    )
    .await?;
    if have < conversations as i64 {
        if have > 0 {
            bail!("the database holds {have} of the Page's conversations: start from an empty one");
        }
        let started = Instant::now();
        let admin = count(
            db,
            &format!("SELECT id AS n FROM agents WHERE email = '{ADMIN_EMAIL}'"),
        )
        .await?;
        let tx = db.begin().await?;
        exec(
            &tx,
            format!(
                "INSERT INTO pages (id, name, created_at) VALUES ('{PAGE}', 'Big Page', {base})"
            ),
        )
        .await?;
        // Conversation i was last written at base + i s: the newest have the highest i.
        for chunk in (0..conversations).collect::<Vec<_>>().chunks(1000) {
            let rows: Vec<String> = chunk
                .iter()
                .map(|&i| {
                    let t = base + i as i64 * 1000;
                    let assignee = if i % 3 == 0 {
                        admin.to_string()
                    } else {
                        "NULL".to_owned()
                    };
                    format!(
                        "('{PAGE}', '{psid}', 'Customer {i}', 'message {i}', {t}, {unread}, \
                         '{open}', {t}, 0, 0, {base}, {t}, {assignee})",
                        open = ConversationStatus::Open.to_value(),
                        psid = 8_000_000_000u64 + i as u64,
                        unread = i % 4,
                    )
                })
                .collect();
            exec(
                &tx,
                format!(
                    "INSERT INTO conversations (page_id, psid, customer_name, last_message_text, \
                     last_timestamp, unread_count, status, last_inbound_timestamp, \
                     delivered_watermark, read_watermark, created_at, updated_at, assignee_id) \
                     VALUES {}",
                    rows.join(", ")
                ),
            )
            .await?;
        }
        let ids = conversation_ids(&tx).await?;
        let mut batch: Vec<String> = Vec::with_capacity(1000);
        let mut written = 0usize;
        for (i, (id, last)) in ids.iter().enumerate() {
            let n = if i >= conversations - heavy {
                per_heavy
            } else {
                light
            };
            for j in 0..n {
                let t = last - (n - 1 - j) as i64 * 10;
                let direction = if j % 3 == 2 {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                };
                batch.push(format!(
                    "('{PAGE}', {id}, 'm-{i}-{j}', '{direction}', \
                     'How do I reset my password? ({j})', {t}, '{sent}', {t})",
                    direction = direction.to_value(),
                    sent = MessageStatus::Sent.to_value(),
                ));
                if batch.len() == 1000 {
                    written += insert_messages(&tx, &mut batch).await?;
                }
            }
        }
        written += insert_messages(&tx, &mut batch).await?;
        tx.commit().await?;
        println!(
            "seeded {conversations} conversations and {written} messages in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let ids = conversation_ids(db).await?;
    Ok(ids[ids.len() - heavy..].iter().map(|(id, _)| *id).collect())
}

async fn insert_messages(
    db: &impl ConnectionTrait,
    batch: &mut Vec<String>,
) -> anyhow::Result<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    let n = batch.len();
    exec(
        db,
        format!(
            "INSERT INTO messages (page_id, conversation_id, mid, direction, text, timestamp, \
             status, created_at) VALUES {}",
            batch.join(", ")
        ),
    )
    .await?;
    batch.clear();
    Ok(n)
}

/// The Page's conversations (id, last time), oldest first.
async fn conversation_ids(db: &impl ConnectionTrait) -> anyhow::Result<Vec<(i64, i64)>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT id, last_timestamp FROM conversations WHERE page_id = '{PAGE}' \
                 ORDER BY last_timestamp, id"
            ),
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "last_timestamp")?)))
        .collect()
}

async fn exec(db: &impl ConnectionTrait, sql: String) -> anyhow::Result<()> {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(())
}

/// The first row's `n`.
async fn count(db: &impl ConnectionTrait, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .with_context(|| format!("no row for {sql}"))?;
    Ok(row.try_get("", "n")?)
}
