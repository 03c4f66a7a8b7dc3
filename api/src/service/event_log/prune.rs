//! Pruning: the log keeps `MF_EVENT_RETENTION_SECS` of history; older entries go, and a
//! subscriber resuming before them is told to reload (`can_resume`).
use std::time::Duration;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio_util::sync::CancellationToken;

use entity::{page_event, page_event_head};

/// Removes entries older than `cutoff` (ms since the epoch); returns how many. Positions
/// grow with time within a Page, so each Page loses everything before its first entry
/// young enough: found through the primary key, without an index on the time.
pub async fn prune(db: &impl ConnectionTrait, cutoff: i64) -> Result<u64, DbErr> {
    let pages: Vec<String> = page_event_head::Entity::find()
        .select_only()
        .column(page_event_head::Column::PageId)
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    for page_id in pages {
        let keep_from: Option<i64> = page_event::Entity::find()
            .select_only()
            .column(page_event::Column::Position)
            .filter(page_event::Column::PageId.eq(page_id.as_str()))
            .filter(page_event::Column::CreatedAt.gte(cutoff))
            .order_by_asc(page_event::Column::Position)
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        let mut delete = page_event::Entity::delete_many()
            .filter(page_event::Column::PageId.eq(page_id.as_str()));
        if let Some(position) = keep_from {
            delete = delete.filter(page_event::Column::Position.lt(position));
        }
        deleted += delete.exec(db).await?.rows_affected;
    }
    Ok(deleted)
}

/// Prunes entries older than the retention, now and then, until `stop`.
pub async fn prune_forever(db: DatabaseConnection, retention_secs: u64, stop: CancellationToken) {
    let retention_ms = i64::try_from(retention_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    // Often enough that the log holds at most a tenth more than the retention.
    let every = Duration::from_secs((retention_secs / 10).clamp(1, 600));
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => return,
        }
        let cutoff = crate::time::now_ms().saturating_sub(retention_ms);
        match prune(&db, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(entries = n, "event log: pruned"),
            Err(err) => tracing::warn!(error = %err, "event log: pruning failed"),
        }
    }
}
