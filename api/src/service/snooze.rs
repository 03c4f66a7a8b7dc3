//! Snoozed conversations wake by themselves: a conversation snoozed until a time becomes
//! OPEN again then, published live like any status change, so nobody forgets it.
//!
//! The time is stored (`conversations.snoozed_until`), not held in memory: every instance
//! runs a waker that reads the soonest snooze from the database at start (so snoozes that
//! came due while no server ran wake at once) and then sleeps until it, waking early when
//! this instance snoozes a conversation. Waking is one conditional UPDATE (`status =
//! 'SNOOZED' AND snoozed_until <= now`), so with several instances each conversation wakes
//! once, by whichever instance gets there first; only that instance publishes it. A snooze
//! set on another instance is seen at the next look, at most [`LOOK_EVERY`] later.
use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use entity::conversation::{self, Status};

use crate::bus::Change;
use crate::error::ApiError;
use crate::service::activity;
use crate::service::outbox::Written;
use crate::state::AppState;
use crate::time::now_ms;

/// The longest a waker sleeps before looking at the database again (for snoozes set on
/// other instances, and after an error).
pub const LOOK_EVERY: Duration = Duration::from_secs(15);
/// After a failed look (the database unavailable), the next one: often enough that a
/// snooze is at most this late, rarely enough not to fill the log during an outage.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// The furthest ahead a conversation may be snoozed.
pub const MAX_SNOOZE_MS: i64 = 366 * 24 * 60 * 60 * 1000;

/// Tells this instance's waker that a snooze was set (it may now be due sooner).
#[derive(Default)]
pub struct Snoozes {
    changed: Notify,
}

impl Snoozes {
    pub fn changed(&self) {
        self.changed.notify_one();
    }
}

/// `snoozedUntil` as given (RFC 3339) as ms: in the future, at most [`MAX_SNOOZE_MS`] ahead.
pub fn parse_until(text: &str, now: i64) -> Result<i64, ApiError> {
    let until = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| {
            ApiError::bad_input(
                "`snoozedUntil` must be an RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00Z",
            )
        })?
        .timestamp_millis();
    if until <= now {
        return Err(ApiError::bad_input("`snoozedUntil` must be in the future"));
    }
    if until - now > MAX_SNOOZE_MS {
        return Err(ApiError::bad_input(
            "`snoozedUntil` must be at most 366 days ahead",
        ));
    }
    Ok(until)
}

/// Wakes due conversations until `stop`.
pub async fn wake_forever(state: AppState, snoozes: Arc<Snoozes>, stop: CancellationToken) {
    loop {
        let sleep = match wake_due(&state).await {
            Ok(Some(next)) => {
                let ms = next.saturating_sub(now_ms()).max(0) as u64;
                Duration::from_millis(ms).min(LOOK_EVERY)
            }
            Ok(None) => LOOK_EVERY,
            Err(err) => {
                tracing::warn!(error = %err, "waking snoozed conversations failed; retrying");
                RETRY_AFTER
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(sleep) => {}
            () = snoozes.changed.notified() => {}
        }
    }
}

/// Reopens every conversation whose snooze is due and publishes them; returns when the
/// next snooze is due.
pub async fn wake_due(state: &AppState) -> Result<Option<i64>, DbErr> {
    let now = now_ms();
    if soonest(&state.db).await?.is_some_and(|due| due <= now) {
        let txn = crate::db::begin_write(&state.db).await?;
        let Written {
            value: count,
            changes,
        } = wake(&txn, now).await?;
        state.outbox.commit(txn, changes).await?;
        if count > 0 {
            tracing::info!(count, "snoozed conversations woke");
        }
    }
    soonest(&state.db).await
}

/// The write: reopens, in the caller's transaction, every conversation whose snooze is
/// due at `now`, with an activity line each. Each conversation's change comes before its
/// activity's, as `conversations::update` orders them. Run it as the transaction's first
/// statement on SQLite (its write lock is taken with the UPDATE).
pub async fn wake(db: &impl ConnectionTrait, now: i64) -> Result<Written<usize>, DbErr> {
    use conversation::Column as C;
    let woken = conversation::Entity::update_many()
        .col_expr(C::Status, Expr::val(Status::Open))
        .col_expr(C::SnoozedUntil, Expr::val(Option::<i64>::None))
        .col_expr(C::UpdatedAt, Expr::val(now))
        .filter(C::Status.eq(Status::Snoozed))
        .filter(C::SnoozedUntil.lte(now))
        .exec_with_returning(db)
        .await?;
    let count = woken.len();
    let mut activities = Vec::with_capacity(count);
    for conversation in &woken {
        activities.push(activity::record_reopened(db, conversation, Status::Snoozed, now).await?);
    }
    let mut changes: Vec<Change> = woken.into_iter().map(Change::ConversationUpdated).collect();
    changes.append(&mut activities);
    Ok(Written {
        value: count,
        changes,
    })
}

/// When the soonest snooze is due, if any.
async fn soonest(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    use conversation::Column as C;
    let next: Option<Option<i64>> = conversation::Entity::find()
        .select_only()
        .expr(Func::min(Expr::col(C::SnoozedUntil)))
        .filter(C::Status.eq(Status::Snoozed))
        .into_tuple()
        .one(db)
        .await?;
    Ok(next.flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_163_526_123;

    #[test]
    fn snooze_times_must_be_rfc3339_in_the_future_and_within_a_year() {
        assert_eq!(
            parse_until("2025-11-26T14:25:26.123Z", NOW).unwrap(),
            NOW + 3_600_000
        );
        assert_eq!(
            parse_until("2025-11-26T15:25:26.123+01:00", NOW).unwrap(),
            NOW + 3_600_000
        );
        for bad in [
            "",
            "tomorrow",
            "2025-11-26 14:25:26",
            "2025-11-26T14:25:26",
            "2025-11-26T13:25:26.123Z",
            "2020-01-01T00:00:00Z",
            "2030-01-01T00:00:00Z",
            "+275760-09-13T00:00:00Z",
        ] {
            assert!(parse_until(bad, NOW).is_err(), "{bad}");
        }
    }
}
