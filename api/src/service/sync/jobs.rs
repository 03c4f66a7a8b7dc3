//! The `sync_jobs` rows: a history sync's state, progress and heartbeat. Each write takes
//! any connection (`&impl ConnectionTrait`), so it can join a caller's transaction, and
//! returns the rows it changed for the caller to publish (`BusEvent::SyncProgress`).
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use entity::sync_job::{self, Status};

use super::Imported;
use crate::error::ApiError;
use crate::time::now_ms;

/// A RUNNING job whose heartbeat is older than this was abandoned by an instance that
/// stopped (it is marked FAILED when the next sync of its Page starts).
const ABANDONED_AFTER_MS: i64 = 120_000;

/// Any job, visible or not: `access::sync_job` is what callers use.
pub(crate) async fn job(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<sync_job::Model>, ApiError> {
    Ok(sync_job::Entity::find_by_id(id).one(db).await?)
}

/// Stores a new RUNNING job for the Page. Fails with a unique violation while another
/// one runs (a partial unique index allows one RUNNING job per Page).
pub(super) async fn insert_running(
    db: &impl ConnectionTrait,
    page_id: &str,
    now: i64,
) -> Result<sync_job::Model, DbErr> {
    sync_job::ActiveModel {
        id: NotSet,
        page_id: Set(page_id.to_owned()),
        status: Set(Status::Running),
        conversations: Set(0),
        messages: Set(0),
        error: Set(None),
        started_at: Set(now),
        finished_at: Set(None),
        heartbeat_at: Set(Some(now)),
        total: Set(None),
    }
    .insert(db)
    .await
}

/// The Page's RUNNING job, if one is alive; one whose heartbeat stopped is marked FAILED.
pub(super) async fn running_job(
    db: &impl ConnectionTrait,
    page_id: &str,
) -> Result<Option<sync_job::Model>, ApiError> {
    let Some(job) = sync_job::Entity::find()
        .filter(sync_job::Column::PageId.eq(page_id))
        .filter(sync_job::Column::Status.eq(Status::Running))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = now_ms();
    if now - job.heartbeat_at.unwrap_or(job.started_at) <= ABANDONED_AFTER_MS {
        return Ok(Some(job));
    }
    sync_job::Entity::update_many()
        .col_expr(sync_job::Column::Status, Expr::val(Status::Failed))
        .col_expr(
            sync_job::Column::Error,
            Expr::val("abandoned: the instance running it stopped"),
        )
        .col_expr(sync_job::Column::FinishedAt, Expr::val(now))
        .filter(sync_job::Column::Id.eq(job.id))
        .filter(sync_job::Column::Status.eq(Status::Running))
        .exec(db)
        .await?;
    Ok(None)
}

/// Renews the job's `heartbeat_at`: it is still running.
pub(super) async fn renew_heartbeat(db: &impl ConnectionTrait, job_id: i64) -> Result<(), DbErr> {
    sync_job::Entity::update_many()
        .col_expr(sync_job::Column::HeartbeatAt, Expr::val(now_ms()))
        .filter(sync_job::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records how the job ended: DONE, or FAILED with `Err`'s message.
pub(super) async fn finish(
    db: &impl ConnectionTrait,
    job_id: i64,
    outcome: Result<(), String>,
) -> Result<Vec<sync_job::Model>, DbErr> {
    let (status, error) = match outcome {
        Ok(()) => (Status::Done, None),
        Err(message) => (Status::Failed, Some(message)),
    };
    let mut finished = sync_job::Entity::update_many();
    if status == Status::Done {
        // What was imported is what there was to import (see `full::run`).
        finished = finished.col_expr(
            sync_job::Column::Total,
            Expr::col(sync_job::Column::Conversations),
        );
    }
    finished
        .col_expr(sync_job::Column::Status, Expr::val(status))
        .col_expr(sync_job::Column::Error, Expr::val(error))
        .col_expr(sync_job::Column::FinishedAt, Expr::val(now_ms()))
        .filter(sync_job::Column::Id.eq(job_id))
        .exec_with_returning(db)
        .await
}

/// Sets the number of conversations the job expects to import.
pub(super) async fn set_total(
    db: &impl ConnectionTrait,
    job_id: i64,
    total: i32,
) -> Result<Vec<sync_job::Model>, DbErr> {
    sync_job::Entity::update_many()
        .col_expr(sync_job::Column::Total, Expr::val(total))
        .filter(sync_job::Column::Id.eq(job_id))
        .exec_with_returning(db)
        .await
}

/// Adds what a Graph page imported to the job: `fresh` conversations imported for the
/// first time by this job (a thread imported again in a catch-up pass counts its new
/// messages, not itself a second time), raising the total when they outgrow it (threads
/// created since it was counted).
pub(super) async fn record_progress(
    db: &impl ConnectionTrait,
    job_id: i64,
    fresh: usize,
    imported: Imported,
    catching_up: bool,
) -> Result<Vec<sync_job::Model>, DbErr> {
    use sync_job::Column as J;
    let fresh = i32::try_from(fresh).unwrap_or(i32::MAX);
    let messages = if catching_up {
        imported.stored as i32
    } else {
        imported.messages as i32
    };
    let conversations = Expr::col(J::Conversations).add(fresh);
    let total = Expr::case(
        Expr::col(J::Total).lt(conversations.clone()),
        conversations.clone(),
    )
    .finally(Expr::col(J::Total));
    sync_job::Entity::update_many()
        .col_expr(J::Total, total.into())
        .col_expr(J::Conversations, conversations)
        .col_expr(J::Messages, Expr::col(J::Messages).add(messages))
        .filter(J::Id.eq(job_id))
        .exec_with_returning(db)
        .await
}
