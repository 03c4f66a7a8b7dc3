//! Batched lookups for fields that each node of a list would otherwise read on its own
//! (a Conversation's `page { name connected ... eventPosition }`, its `assignee`): the
//! keys asked for while a response is being resolved are collected for a moment and read
//! with one `WHERE id IN (...)`. A page of 100 conversations reads its Pages and its
//! assignees with one statement each, not one per conversation.
//!
//! Nothing is cached: each load reads the database, so a renamed agent or a reconnected
//! Page shows at once, also on long-lived subscriptions.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use entity::{agent, conversation, label, page, page_event_head};

/// A Page by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageId(pub String);

/// An agent by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AgentId(pub i64);

/// The Pages an agent is a member of, by agent id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Memberships(pub i64);

/// A Page's latest event-log position, by Page id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventHead(pub String);

/// The sum of the unread counts of a Page's conversations, by Page id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnreadTotal(pub String);

/// A conversation's labels, by conversation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConversationLabels(pub i64);

/// How long keys are collected before one statement reads them. The nodes of a list are
/// resolved together (32 at a time between yields), so a short wait gathers a whole page
/// in the common case; a slow pass is read in a few statements rather than one, never
/// one per node.
const COLLECT: Duration = Duration::from_micros(500);

/// The loader every resolver uses (`ctx.data::<Loaders>()`).
pub type Loaders = DataLoader<Store>;

pub fn loader(db: DatabaseConnection) -> Loaders {
    loader_collecting(db, COLLECT)
}

/// A loader that collects keys for `collect` before reading them.
pub fn loader_collecting(db: DatabaseConnection, collect: Duration) -> Loaders {
    DataLoader::new(Store { db }, tokio::spawn).delay(collect)
}

/// Reads what the loader collected.
pub struct Store {
    db: DatabaseConnection,
}

/// Loader errors are shared by every waiting field; the cause is logged where it surfaces.
pub type LoadError = Arc<DbErr>;

impl Loader<PageId> for Store {
    type Value = page::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[PageId]) -> Result<HashMap<PageId, page::Model>, LoadError> {
        let ids = keys.iter().map(|k| k.0.clone());
        let pages = page::Entity::find()
            .filter(page::Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(pages
            .into_iter()
            .map(|p| (PageId(p.id.clone()), p))
            .collect())
    }
}

impl Loader<AgentId> for Store {
    type Value = agent::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[AgentId]) -> Result<HashMap<AgentId, agent::Model>, LoadError> {
        let agents = agent::Entity::find()
            .filter(agent::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(agents.into_iter().map(|a| (AgentId(a.id), a)).collect())
    }
}

impl Loader<Memberships> for Store {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[Memberships],
    ) -> Result<HashMap<Memberships, Vec<String>>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = crate::service::auth::memberships(&self.db, &ids).await?;
        // An agent on no Page is on none: an empty list, not a missing one.
        Ok(ids
            .into_iter()
            .map(|id| (Memberships(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

impl Loader<EventHead> for Store {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[EventHead]) -> Result<HashMap<EventHead, i64>, LoadError> {
        let heads = page_event_head::Entity::find()
            .filter(page_event_head::Column::PageId.is_in(keys.iter().map(|k| k.0.clone())))
            .all(&self.db)
            .await?;
        let found: HashMap<String, i64> =
            heads.into_iter().map(|h| (h.page_id, h.position)).collect();
        // A Page without events yet is at position 0.
        Ok(keys
            .iter()
            .map(|k| (k.clone(), found.get(&k.0).copied().unwrap_or(0)))
            .collect())
    }
}

impl Loader<UnreadTotal> for Store {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[UnreadTotal]) -> Result<HashMap<UnreadTotal, i64>, LoadError> {
        use sea_orm::QuerySelect;
        use sea_orm::sea_query::{Alias, Expr, Func};
        // Only the rows with something unread (a partial index holds just those).
        let sums: Vec<(String, i64)> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::PageId)
            .expr_as(
                // SUM of an INTEGER is a BIGINT on PostgreSQL, an INTEGER on SQLite.
                Func::cast_as(
                    Func::sum(Expr::col(conversation::Column::UnreadCount)),
                    Alias::new("BIGINT"),
                ),
                "total",
            )
            .filter(conversation::Column::PageId.is_in(keys.iter().map(|k| k.0.clone())))
            .filter(conversation::Column::UnreadCount.gt(0))
            .group_by(conversation::Column::PageId)
            .into_tuple()
            .all(&self.db)
            .await?;
        let found: HashMap<String, i64> = sums.into_iter().collect();
        Ok(keys
            .iter()
            .map(|k| (k.clone(), found.get(&k.0).copied().unwrap_or(0)))
            .collect())
    }
}

impl Loader<ConversationLabels> for Store {
    type Value = Vec<label::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ConversationLabels],
    ) -> Result<HashMap<ConversationLabels, Vec<label::Model>>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = crate::service::labels::of_conversations(&self.db, &ids).await?;
        // A conversation without labels has none: an empty list, not a missing one.
        Ok(ids
            .into_iter()
            .map(|id| {
                (
                    ConversationLabels(id),
                    found.remove(&id).unwrap_or_default(),
                )
            })
            .collect())
    }
}

/// A loader error as the API's error: logged, answered `INTERNAL`.
pub fn internal(err: LoadError) -> crate::error::ApiError {
    crate::error::ApiError::Internal(anyhow::anyhow!("batched lookup failed: {err}"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};

    use crate::bus::memory::MemoryBus;
    use crate::config::Config;
    use crate::facebook::graph::GraphClient;
    use crate::graphql::AppSchema;
    use crate::graphql::cost::CostLimits;
    use crate::metrics::Metrics;
    use crate::service::auth::{Credential, Principal, Role, Scope};
    use crate::state::AppState;
    use crate::tasks::Background;

    const QUERY: &str = r#"{
      conversations(pageId: "p1", first: 100) {
        edges { node { id page { id name connected needsReconnect eventPosition }
                       assignee { id name } } }
      }
    }"#;

    /// Statements on `table` among those recorded.
    fn on(statements: &[String], table: &str) -> usize {
        let quoted = format!("FROM \"{table}\"");
        statements.iter().filter(|s| s.contains(&quoted)).count()
    }

    /// A migrated database at `url` with Page `p1`, administrator Ada (id 1), agent Bo
    /// (id 2) and 100 conversations, every other one assigned (to Ada and Bo in turn).
    async fn seeded(url: &str) -> DatabaseConnection {
        let db = crate::db::connect(url).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        let mut seed = vec![
            "INSERT INTO pages (id, name, created_at) VALUES ('p1', 'Page one', 0)".to_owned(),
            "INSERT INTO agents (email, name, role, created_at) VALUES \
             ('a@x', 'Ada', 'ADMIN', 0), ('b@x', 'Bo', 'AGENT', 0)"
                .to_owned(),
        ];
        for i in 0..100 {
            // Every other conversation is assigned, to one of the two agents.
            let assignee = match i % 4 {
                0 => "1",
                2 => "2",
                _ => "NULL",
            };
            seed.push(format!(
                "INSERT INTO conversations (page_id, psid, last_timestamp, created_at, \
                 updated_at, assignee_id) VALUES ('p1', 'c{i}', {i}, 0, 0, {assignee})"
            ));
        }
        for sql in seed {
            db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap();
        }
        db
    }

    /// Every statement `db` runs from now on.
    fn record(db: &mut DatabaseConnection) -> Arc<Mutex<Vec<String>>> {
        let statements: Arc<Mutex<Vec<String>>> = Arc::default();
        let recorded = statements.clone();
        db.set_metric_callback(move |info| {
            recorded.lock().unwrap().push(info.statement.sql.clone());
        });
        statements
    }

    /// The schema over `db` with its tasks running (they stop with the returned group),
    /// and a loader that collects keys long enough to batch all 100 nodes.
    async fn schema_over(url: &str, db: DatabaseConnection) -> (AppSchema, Background) {
        let writer = crate::db::connect_writer(url, 1).await.unwrap();
        let background = Background::default();
        let parts = crate::state::Parts {
            config: Config::with_database(url.to_owned()),
            db,
            writer,
            bus: Arc::new(MemoryBus::new()),
            graph: GraphClient::new("http://127.0.0.1:9/v25.0").unwrap(),
            metrics: Metrics::new().unwrap(),
        };
        let (state, customers) = AppState::new(parts, &background);
        state.start_tasks(customers, &background.work);
        // A debug build resolves 100 nodes slowly: collect long enough to see them all, so
        // the count below is the loader's batching, not the machine's speed.
        let loader = super::loader_collecting(state.db.clone(), Duration::from_millis(200));
        let schema = crate::graphql::builder(CostLimits::default())
            .data(loader)
            .data(state)
            .finish();
        (schema, background)
    }

    /// Ada, signed in with a session that does not expire.
    async fn admin(db: &DatabaseConnection) -> Principal {
        let agent = entity::agent::Entity::find_by_id(1_i64)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        Principal {
            agent,
            role: Role::Admin,
            credential: Credential::Session {
                id: 1,
                expires_at: i64::MAX,
            },
            scope: Scope::All,
        }
    }

    /// How many of `edges` are assigned to the agent called `name`.
    fn assigned_to(edges: &[serde_json::Value], name: &str) -> usize {
        edges
            .iter()
            .filter(|e| e["node"]["assignee"]["name"] == name)
            .count()
    }

    #[tokio::test]
    async fn a_page_of_100_conversations_reads_pages_heads_and_assignees_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let mut db = seeded(&url).await;
        let principal = admin(&db).await;
        let statements = record(&mut db);
        let (schema, _background) = schema_over(&url, db).await;

        let response = schema
            .execute(async_graphql::Request::new(QUERY).data(principal))
            .await;

        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        let edges = data["conversations"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 100);
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["page"]["name"] == "Page one")
        );
        assert_eq!(assigned_to(edges, "Ada"), 25);
        assert_eq!(assigned_to(edges, "Bo"), 25);
        let mut statements = statements.lock().unwrap().clone();
        // The snooze waker looks at the database on its own (service::snooze), not for the query.
        statements.retain(|sql| !sql.starts_with("SELECT MIN(\"snoozed_until\")"));
        // One read each, not one per conversation (100 before the loaders).
        assert_eq!(on(&statements, "pages"), 1, "{statements:#?}");
        assert_eq!(on(&statements, "agents"), 1, "{statements:#?}");
        assert!(on(&statements, "page_event_heads") <= 2, "{statements:#?}");
        assert_eq!(on(&statements, "conversations"), 1, "{statements:#?}");
    }
}
