//! The Pages and conversations a group needs and nobody has created yet.
use std::collections::HashSet;

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use entity::{conversation, page};

use super::plan::Customer;

/// Rows per multi-row INSERT.
const INSERT_CHUNK: usize = 500;

/// What `create` found or created, once committed: the writer remembers it.
#[derive(Debug, Default)]
pub struct Created {
    /// Pages that may be new.
    pub pages: Vec<String>,
    /// The conversation of each customer asked for.
    pub conversations: Vec<(Customer, i64)>,
}

/// Creates the Pages (those not in `known_pages`) and the conversations of `missing`
/// customers that do not exist yet, and returns every one's conversation id.
pub async fn create(
    db: &impl ConnectionTrait,
    mut missing: Vec<Customer>,
    known_pages: &HashSet<String>,
    now: i64,
) -> Result<Created, DbErr> {
    let mut created = Created::default();
    // In key order, so concurrent writers creating the same conversations take their
    // locks in the same order (one waits for the other; neither deadlocks).
    missing.sort_unstable();
    let mut new_pages: Vec<String> = missing
        .iter()
        .map(|(page, _)| page.clone())
        .filter(|page| !known_pages.contains(page))
        .collect();
    new_pages.dedup();
    if !new_pages.is_empty() {
        page::Entity::insert_many(new_pages.iter().map(|id| page::ActiveModel {
            id: Set(id.clone()),
            name: Set(None),
            created_at: Set(now),
            ..Default::default()
        }))
        .on_conflict_do_nothing_on([page::Column::Id])
        .exec_without_returning(db)
        .await?;
        created.pages = new_pages;
    }
    for chunk in missing.chunks(INSERT_CHUNK) {
        conversation::Entity::insert_many(chunk.iter().map(|(page_id, psid)| {
            conversation::ActiveModel {
                id: NotSet,
                page_id: Set(page_id.clone()),
                psid: Set(psid.clone()),
                customer_name: Set(None),
                last_message_text: Set(None),
                last_timestamp: Set(0),
                unread_count: Set(0),
                status: Set(conversation::Status::Open),
                last_inbound_timestamp: Set(None),
                delivered_watermark: Set(0),
                read_watermark: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        }))
        .on_conflict_do_nothing_on([conversation::Column::PageId, conversation::Column::Psid])
        .exec_without_returning(db)
        .await?;
        created.conversations.extend(ids_of(db, chunk).await?);
    }
    Ok(created)
}

/// The conversation ids of `customers`.
async fn ids_of(
    db: &impl ConnectionTrait,
    customers: &[Customer],
) -> Result<Vec<(Customer, i64)>, DbErr> {
    use conversation::Column as C;
    let mut matches = Condition::any();
    for (page_id, psid) in customers {
        matches = matches.add(
            Condition::all()
                .add(C::PageId.eq(page_id.as_str()))
                .add(C::Psid.eq(psid.as_str())),
        );
    }
    let rows: Vec<(i64, String, String)> = conversation::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::PageId)
        .column(C::Psid)
        .filter(matches)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, page_id, psid)| ((page_id, psid), id))
        .collect())
}
