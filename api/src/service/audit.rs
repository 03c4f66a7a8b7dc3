//! The audit log: who did what, when, on which object, for the administrators
//! (`auditLog`). A domain write records its entry with [`record`] on the connection (or
//! transaction) it writes through, so the entry commits or rolls back with the change.
//!
//! Append-only. This module writes entries ([`record`]) and reads them ([`list`]); the one
//! way one leaves is [`prune`], past the retention (`MF_AUDIT_RETENTION_DAYS`). There is no
//! update path, and the table itself refuses UPDATE (a trigger, migration 000026).
use std::time::Duration;

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};
use tokio_util::sync::CancellationToken;

pub use entity::audit_entry::{Action, Model as AuditEntry, ObjectKind};
use entity::{agent, api_token, audit_entry};

use crate::error::ApiError;
use crate::service::auth::{Credential, Principal};
use crate::service::inbox::{Cursor, Slice, check_page_size};
use crate::time::now_ms;

/// The kind of the log's cursors: one of another list is refused here.
pub const CURSOR_KIND: &str = "audit";
/// Longest text kept of what a client sent (an email tried, a user agent).
const MAX_TEXT: usize = 256;

/// Where a request came from, as far as the log keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    /// HTTP requests only (a WebSocket operation has none).
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn new(ip: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip: ip.map(|ip| ip.to_string()),
            user_agent: user_agent.map(clean).filter(|ua| !ua.is_empty()),
        }
    }
}

/// Who acted: an agent (through a session or one of its API tokens), or, for a failed
/// sign-in, nobody but the email tried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actor {
    pub agent_id: Option<i64>,
    pub token_id: Option<i64>,
    pub email: Option<String>,
    pub origin: Origin,
}

impl Actor {
    /// The caller of a request.
    pub fn of(principal: &Principal, origin: Origin) -> Self {
        Self {
            agent_id: Some(principal.agent.id),
            token_id: match principal.credential {
                Credential::ApiToken { id } => Some(id),
                Credential::Session { .. } => None,
            },
            email: Some(principal.agent.email.clone()),
            origin,
        }
    }

    /// An agent that just signed in.
    pub fn agent(agent: &agent::Model, origin: Origin) -> Self {
        Self {
            agent_id: Some(agent.id),
            token_id: None,
            email: Some(agent.email.clone()),
            origin,
        }
    }

    /// Someone who tried to sign in as `email` (kept as typed, trimmed and cut to 256
    /// characters, control characters removed).
    pub fn anonymous(email: &str, origin: Origin) -> Self {
        Self {
            agent_id: None,
            token_id: None,
            email: Some(clean(email)),
            origin,
        }
    }
}

/// Printable, trimmed, at most `MAX_TEXT` characters.
fn clean(text: &str) -> String {
    let printable: String = text.chars().filter(|c| !c.is_control()).collect();
    printable.trim().chars().take(MAX_TEXT).collect()
}

/// What an entry is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub kind: ObjectKind,
    pub id: String,
    /// Its name at the time (an agent's email, a token's, Page's or label's name).
    pub name: Option<String>,
}

impl Object {
    pub fn new(kind: ObjectKind, id: impl ToString, name: Option<String>) -> Self {
        Self {
            kind,
            id: id.to_string(),
            name,
        }
    }

    pub fn agent(agent: &agent::Model) -> Self {
        Self::new(ObjectKind::Agent, agent.id, Some(agent.email.clone()))
    }

    pub fn api_token(token: &api_token::Model) -> Self {
        Self::new(ObjectKind::ApiToken, token.id, Some(token.name.clone()))
    }
}

/// One entry to record: the action, and what it was about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub action: Action,
    pub object: Option<Object>,
    pub page_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Entry {
    pub fn new(action: Action) -> Self {
        Self {
            action,
            object: None,
            page_id: None,
            from: None,
            to: None,
        }
    }

    /// About `object`.
    pub fn on(mut self, object: Object) -> Self {
        self.object = Some(object);
        self
    }

    /// In (or about) the Page `page_id`.
    pub fn page(mut self, page_id: impl Into<String>) -> Self {
        self.page_id = Some(page_id.into());
        self
    }

    /// A value that changed: before and after, as text.
    pub fn change(mut self, from: Option<String>, to: Option<String>) -> Self {
        self.from = from;
        self.to = to;
        self
    }
}

/// Writes `entry`, done by `actor`, now, through `db`: in the caller's transaction when
/// it is one, so the entry commits (or rolls back) with the change it records.
pub async fn record(db: &impl ConnectionTrait, actor: &Actor, entry: Entry) -> Result<(), DbErr> {
    let (object_kind, object_id, object_name) = match entry.object {
        Some(o) => (Some(o.kind), Some(o.id), o.name),
        None => (None, None, None),
    };
    audit_entry::ActiveModel {
        id: NotSet,
        created_at: Set(now_ms()),
        action: Set(entry.action),
        actor_id: Set(actor.agent_id),
        actor_token_id: Set(actor.token_id),
        actor_email: Set(actor.email.clone()),
        object_kind: Set(object_kind),
        object_id: Set(object_id),
        object_name: Set(object_name),
        page_id: Set(entry.page_id),
        from_value: Set(entry.from),
        to_value: Set(entry.to),
        ip: Set(actor.origin.ip.clone()),
        user_agent: Set(actor.origin.user_agent.clone()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The log, newest first: `first` entries (1 to 100) after `after`. Administrators only
/// (the resolver checks it).
pub async fn list(
    db: &impl ConnectionTrait,
    first: i32,
    after: Option<Cursor>,
) -> Result<Slice<AuditEntry>, ApiError> {
    use audit_entry::Column as A;
    let limit = check_page_size(first, "first")?;
    let mut query = audit_entry::Entity::find();
    if let Some(cursor) = after {
        // Ids grow with time: the id alone orders the entries.
        query = query.filter(A::Id.lt(cursor.id));
    }
    let mut items = query
        .order_by(A::Id, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    Ok(Slice { items, more })
}

/// Deletes the entries older than `cutoff` (ms since the epoch); returns how many.
pub async fn prune(db: &impl ConnectionTrait, cutoff: i64) -> Result<u64, DbErr> {
    Ok(audit_entry::Entity::delete_many()
        .filter(audit_entry::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

/// Prunes entries older than `retention_days`, at start and then every hour, until `stop`.
pub async fn prune_forever(db: DatabaseConnection, retention_days: u64, stop: CancellationToken) {
    let retention_ms =
        i64::try_from(retention_days.saturating_mul(24 * 3600 * 1000)).unwrap_or(i64::MAX);
    loop {
        let cutoff = now_ms().saturating_sub(retention_ms);
        match prune(&db, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, retention_days, "audit log: pruned"),
            Err(err) => tracing::warn!(error = %err, "audit log: pruning failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            () = stop.cancelled() => return,
        }
    }
}
