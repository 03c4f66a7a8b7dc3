//! `loadgen search`: what `search` costs on a big Page. Seeds `messages` messages over
//! `conversations` conversations with varied texts (words drawn from a vocabulary of 5,000
//! with Zipf-like frequencies: a few words in most messages, most words rare), through
//! the same triggers as ingest keeps the index with, then asks a mix of queries (a very
//! common word, a rare one, two words, a short prefix, a customer's name, a miss) from
//! `concurrency` clients for `seconds` each.
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use entity::conversation::Status as ConversationStatus;
use entity::message::{Direction, Status as MessageStatus};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::queries::{drive, mix};
use crate::server::Target;
use crate::stats::Summary;

/// The seeded Page (apart from the other benchmarks' ones).
const PAGE: &str = "400000000000004";

/// The first words of the vocabulary, most frequent first; words past these are `w<rank>`.
const COMMON: &[&str] = &[
    "the",
    "my",
    "order",
    "is",
    "please",
    "password",
    "delivery",
    "refund",
    "when",
    "help",
    "thanks",
    "hello",
    "size",
    "return",
    "account",
    "payment",
    "shipping",
    "tracking",
    "item",
    "price",
    "store",
    "open",
    "today",
    "tomorrow",
    "jacket",
    "shoes",
    "card",
    "address",
    "change",
    "cancel",
    "received",
    "wrong",
    "color",
    "available",
    "stock",
    "discount",
    "code",
    "invoice",
    "reset",
    "email",
    "phone",
    "message",
    "still",
    "waiting",
    "week",
    "late",
    "damaged",
    "exchange",
    "voucher",
    "café",
    "résumé",
    "naïve",
    "garçon",
    "über",
];
const VOCABULARY: usize = 5_000;

const SEARCH: &str = "query Search($q: String!, $pageId: ID) {
  search(query: $q, pageId: $pageId, first: 20) {
    edges { cursor node { conversation { id customer { psid name } } message { id timestamp }
      snippet highlights { start length } } }
    pageInfo { hasNextPage endCursor }
  }
}";

pub struct Shape {
    pub conversations: usize,
    pub messages: usize,
    pub concurrency: usize,
    pub seconds: u64,
}

/// Word `rank` (0: the most frequent).
fn word(rank: usize) -> String {
    COMMON
        .get(rank)
        .map_or_else(|| format!("w{rank}"), |w| (*w).to_owned())
}

/// A rank with probability about 1/(rank+1) (Zipf, s = 1), from a well-spread number.
fn zipf(n: usize) -> usize {
    // Inverse of the harmonic CDF, approximated by exp(u * ln(V)).
    let u = (n % 1_000_003) as f64 / 1_000_003.0;
    ((u * (VOCABULARY as f64).ln()).exp() as usize).saturating_sub(1) % VOCABULARY
}

/// Message `i`'s text: 6 to 12 words.
pub(crate) fn text(i: usize) -> String {
    let words = 6 + mix(i) % 7;
    (0..words)
        .map(|k| word(zipf(mix(i * 31 + k))))
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn search(target: &Target, database_url: &str, shape: &Shape) -> anyhow::Result<()> {
    let db = api::db::connect(database_url).await?;
    seed(&db, shape.conversations, shape.messages).await?;
    let token = target.login().await?;
    let queries: &[(&str, &str)] = &[
        ("a very common word", "order"),
        ("a common word with an accent folded", "cafe"),
        ("a rare word", "w4321"),
        ("two common words", "password reset"),
        ("a common and a rare word", "delivery w2999"),
        ("a two-letter prefix", "pa"),
        ("a customer's name", "Customer 4242"),
        ("nothing matches", "zzzzzz"),
    ];
    let mut all = Vec::new();
    for (name, q) in queries {
        let q = (*q).to_owned();
        let variables: Arc<dyn Fn(usize) -> Value + Send + Sync> =
            Arc::new(move |_| json!({ "q": q, "pageId": PAGE }));
        drive(target, &token, SEARCH, &variables, shape.concurrency, 1).await?;
        let (mut latencies, secs) = drive(
            target,
            &token,
            SEARCH,
            &variables,
            shape.concurrency,
            shape.seconds,
        )
        .await?;
        all.extend_from_slice(&latencies);
        let count = latencies.len();
        let summary = Summary::of(&mut latencies);
        println!(
            "search {name}: {count} requests in {secs:.2} s, {} concurrent: {:.0}/s; {summary}",
            shape.concurrency,
            count as f64 / secs,
        );
    }
    let count = all.len();
    let summary = Summary::of(&mut all);
    println!("search, every query above: {count} requests; {summary}");
    Ok(())
}

/// Seeds the Page unless it holds its conversations already.
async fn seed(
    db: &DatabaseConnection,
    conversations: usize,
    messages: usize,
) -> anyhow::Result<()> {
    let conversations = conversations.max(1);
    let base: i64 = 1_700_000_000_000;
    let have = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM conversations WHERE page_id = '{PAGE}'"),
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if have >= conversations as i64 {
        return Ok(());
    }
    if have > 0 {
        bail!("the database holds {have} of the Page's conversations: start from an empty one");
    }
    let started = Instant::now();
    let tx = db.begin().await?;
    exec(
        &tx,
        format!(
            "INSERT INTO pages (id, name, created_at) VALUES ('{PAGE}', 'Search Page', {base})"
        ),
    )
    .await?;
    for chunk in (0..conversations).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let t = base + i as i64 * 1000;
                format!(
                    "('{PAGE}', '{psid}', 'Customer {i}', 'message {i}', {t}, 0, '{open}', {t}, \
                     0, 0, {base}, {t})",
                    open = ConversationStatus::Open.to_value(),
                    psid = 9_000_000_000u64 + i as u64,
                )
            })
            .collect();
        exec(
            &tx,
            format!(
                "INSERT INTO conversations (page_id, psid, customer_name, last_message_text, \
                 last_timestamp, unread_count, status, last_inbound_timestamp, \
                 delivered_watermark, read_watermark, created_at, updated_at) VALUES {}",
                rows.join(", ")
            ),
        )
        .await?;
    }
    let first_id: i64 = tx
        .query_one_raw(Statement::from_string(
            tx.get_database_backend(),
            format!("SELECT MIN(id) AS n FROM conversations WHERE page_id = '{PAGE}'"),
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let mut batch = Vec::with_capacity(1000);
    for i in 0..messages {
        let c = i % conversations;
        let t = base + i as i64 * 10;
        batch.push(format!(
            "('{PAGE}', {conversation}, 's-{i}', '{direction}', '{text}', {t}, '{sent}', {t})",
            conversation = first_id + c as i64,
            direction = if i % 3 == 2 {
                Direction::Outbound
            } else {
                Direction::Inbound
            }
            .to_value(),
            text = text(i),
            sent = MessageStatus::Sent.to_value(),
        ));
        if batch.len() == 1000 || i + 1 == messages {
            exec(
                &tx,
                format!(
                    "INSERT INTO messages (page_id, conversation_id, mid, direction, text, \
                     timestamp, status, created_at) VALUES {}",
                    batch.join(", ")
                ),
            )
            .await?;
            batch.clear();
        }
    }
    tx.commit().await?;
    println!(
        "seeded {conversations} conversations and {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn exec(db: &impl ConnectionTrait, sql: String) -> anyhow::Result<()> {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(())
}
