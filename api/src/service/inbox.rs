//! Reading the inbox: Pages, a Page's conversations newest first, a conversation's
//! messages in time order, each paged by an opaque keyset cursor (time, id).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    Select,
};

use entity::{conversation, message, page};

use crate::error::ApiError;
use crate::service::access::{VisibleConversation, VisiblePage};
use crate::service::send;

/// Largest page size a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// A position in a list ordered by (time, id): opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub time: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.time, self.id))
    }

    /// A cursor of another order than newest first, marked with its `kind`, so that one
    /// order's cursor is refused by the other instead of silently misread.
    pub fn encode_kind(&self, kind: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{kind}:{}:{}", self.time, self.id))
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        Self::decode_kind(text, None)
    }

    /// Reads a cursor made by `encode_kind(kind)` (`None`: by `encode`).
    pub fn decode_kind(text: &str, kind: Option<&str>) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_input("invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let text = match kind {
            Some(kind) => text
                .strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix(':'))
                .ok_or_else(invalid)?,
            None => text.as_str(),
        };
        let (time, id) = text.split_once(':').ok_or_else(invalid)?;
        Ok(Self {
            time: time.parse().map_err(|_| invalid())?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

/// One page of a list, with whether more lies beyond it.
#[derive(Debug)]
pub struct Slice<T> {
    pub items: Vec<T>,
    /// Older items exist beyond this page (in the direction of paging).
    pub more: bool,
}

/// Refuses a page size outside 1..=100.
pub fn check_page_size(requested: i32, name: &str) -> Result<u64, ApiError> {
    if (1..=MAX_PAGE_SIZE).contains(&requested) {
        Ok(requested as u64)
    } else {
        Err(ApiError::bad_input(format!(
            "`{name}` must be between 1 and {MAX_PAGE_SIZE}"
        )))
    }
}

/// Refuses a `windowClosesWithinHours` outside 1..=24.
pub fn check_window_hours(hours: i32) -> Result<(), ApiError> {
    if (1..=MAX_WINDOW_HOURS).contains(&hours) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!(
            "`windowClosesWithinHours` must be between 1 and {MAX_WINDOW_HOURS}"
        )))
    }
}

/// Every Page, by id.
pub async fn pages(db: &impl ConnectionTrait) -> Result<Vec<page::Model>, ApiError> {
    Ok(page::Entity::find()
        .order_by_asc(page::Column::Id)
        .all(db)
        .await?)
}

pub async fn page(db: &impl ConnectionTrait, id: &str) -> Result<Option<page::Model>, ApiError> {
    Ok(page::Entity::find_by_id(id.to_owned()).one(db).await?)
}

/// Whose conversations a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignee {
    /// Assigned to this agent (an agent not on the Page simply has none there).
    Agent(i64),
    Unassigned,
    /// Assigned to anyone.
    Anyone,
}

/// Which of a Page's conversations a list holds, and in which order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter {
    pub status: Option<conversation::Status>,
    pub assignee: Option<Assignee>,
    /// "Ending soon": only conversations whose 24-hour window is open and closes within
    /// this many hours, the soonest first (instead of the newest message first).
    pub window_closes_within_hours: Option<i32>,
    /// Only conversations carrying this label.
    pub label: Option<i64>,
}

/// The most hours `windowClosesWithinHours` takes: a window is 24 hours long.
pub const MAX_WINDOW_HOURS: i32 = 24;
/// The kind of cursor of the "ending soon" order (a newest-first cursor has none).
pub const WINDOW_CURSOR: &str = "w";

/// A Page's conversations that pass `filter`, `first` of them after `after`: newest
/// message first, or for "ending soon" by when their window closes, soonest first.
pub async fn conversations(
    db: &impl ConnectionTrait,
    page: &VisiblePage,
    first: i32,
    after: Option<Cursor>,
    filter: Filter,
) -> Result<Slice<conversation::Model>, ApiError> {
    use conversation::Column as C;
    let limit = check_page_size(first, "first")?;
    let mut query = conversation::Entity::find().filter(C::PageId.eq(page.id()));
    let mut status = filter.status;
    match filter.assignee {
        Some(Assignee::Agent(id)) => query = query.filter(C::AssigneeId.eq(id)),
        Some(Assignee::Unassigned) => query = query.filter(C::AssigneeId.is_null()),
        Some(Assignee::Anyone) => query = query.filter(C::AssigneeId.is_not_null()),
        None => {}
    }
    if let Some(label) = filter.label {
        query = query.filter(C::Id.in_subquery(crate::service::labels::conversations_with(label)));
    }
    let (column, order) = if let Some(hours) = filter.window_closes_within_hours {
        check_window_hours(hours)?;
        // Open windows only: the customer wrote within 24 hours, and the window closes
        // (24 hours after that) within `hours` from now.
        let opened_after = crate::time::now_ms().saturating_sub(send::STANDARD_WINDOW_MS);
        let closes_by = opened_after.saturating_add(i64::from(hours) * 3_600_000);
        query = query
            .filter(C::LastInboundTimestamp.gte(opened_after))
            .filter(C::LastInboundTimestamp.lte(closes_by));
        status = status.or(Some(conversation::Status::Open));
        (C::LastInboundTimestamp, Order::Asc)
    } else {
        (C::LastTimestamp, Order::Desc)
    };
    if let Some(status) = status {
        query = query.filter(C::Status.eq(status));
    }
    Ok(keyset_page(db, query, (column, C::Id), order, after, limit).await?)
}

/// Any conversation, visible or not: `access::conversation` is what callers use.
pub(crate) async fn conversation(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<conversation::Model>, ApiError> {
    Ok(conversation::Entity::find_by_id(id).one(db).await?)
}

/// The `last` messages before `before`, returned oldest first.
pub async fn messages(
    db: &impl ConnectionTrait,
    conversation: &VisibleConversation,
    last: i32,
    before: Option<Cursor>,
) -> Result<Slice<message::Model>, ApiError> {
    use message::Column as M;
    let limit = check_page_size(last, "last")?;
    let query = message::Entity::find().filter(M::ConversationId.eq(conversation.id()));
    let order = (M::Timestamp, M::Id);
    let mut slice = keyset_page(db, query, order, Order::Desc, before, limit).await?;
    slice.items.reverse();
    Ok(slice)
}

/// One page of `query` in keyset order: `limit` rows ordered by `(time, id)` in `order`,
/// from just beyond `after` (in that order), and whether more rows lie beyond them.
async fn keyset_page<E, C>(
    db: &impl ConnectionTrait,
    mut query: Select<E>,
    (time, id): (C, C),
    order: Order,
    after: Option<Cursor>,
    limit: u64,
) -> Result<Slice<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    if let Some(cursor) = after {
        let beyond = |column: C, value: i64| match order {
            Order::Asc => column.gt(value),
            _ => column.lt(value),
        };
        query = query.filter(
            Condition::any().add(beyond(time, cursor.time)).add(
                Condition::all()
                    .add(time.eq(cursor.time))
                    .add(beyond(id, cursor.id)),
            ),
        );
    }
    let mut items = query
        .order_by(time, order.clone())
        .order_by(id, order)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    Ok(Slice { items, more })
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            time: 1_764_163_526_123,
            id: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "!!", "bm9wZQ", "MTox:"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
        let window = cursor.encode_kind("w");
        assert_eq!(Cursor::decode_kind(&window, Some("w")).unwrap(), cursor);
        assert!(Cursor::decode(&window).is_err());
        assert!(Cursor::decode_kind(&cursor.encode(), Some("w")).is_err());
    }
}
