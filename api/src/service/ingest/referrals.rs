//! Referrals: how a customer came (an ad, an m.me link, the chat plugin). Stored once per
//! `(page_id, dedup_key)`, the event they came from: Facebook's retries and a referral seen
//! twice in a group meet the unique key and add nothing. Each one stored is announced as
//! REFERRAL_ADDED, so an open customer panel shows it at once.
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, TryInsertResult};

use entity::referral;

use crate::facebook::events::Referral;

/// Rows per multi-row INSERT (12 parameters each).
const INSERT_CHUNK: usize = 500;

/// Inserts the referrals not stored yet, each in its conversation, and returns those it
/// stored.
pub async fn insert(
    db: &impl ConnectionTrait,
    referrals: &[(i64, &Referral)],
    now: i64,
) -> Result<Vec<referral::Model>, DbErr> {
    let mut stored = Vec::new();
    for chunk in referrals.chunks(INSERT_CHUNK) {
        let rows = chunk
            .iter()
            .map(|(conversation_id, r)| referral::ActiveModel {
                id: NotSet,
                page_id: Set(r.page_id.clone()),
                conversation_id: Set(*conversation_id),
                dedup_key: Set(r.key.clone()),
                source: Set(r.source.clone()),
                kind: Set(r.kind.clone()),
                ref_param: Set(r.ref_param.clone()),
                ad_id: Set(r.ad_id.clone()),
                ad_title: Set(r.ad_title.clone()),
                referer_uri: Set(r.referer_uri.clone()),
                timestamp: Set(r.timestamp),
                created_at: Set(now),
            });
        let inserted = referral::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([referral::Column::PageId, referral::Column::DedupKey])
            .exec_with_returning_many(db)
            .await?;
        // Conflicted: every one was stored before (RETURNING gave no row).
        if let TryInsertResult::Inserted(rows) = inserted {
            stored.extend(rows);
        }
    }
    stored.sort_unstable_by_key(|r| r.id);
    Ok(stored)
}
