//! Reading the inbox: Pages, a Page's conversations newest first, a conversation's
//! messages in time order, each paged by an opaque keyset cursor (time, id).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
};

use entity::{conversation, message, page};

use crate::error::ApiError;
use crate::service::access::{VisibleConversation, VisiblePage};

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

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_input("invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
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

/// A Page's conversations, newest message first, `first` of them after `after`.
pub async fn conversations(
    db: &impl ConnectionTrait,
    page: &VisiblePage,
    first: i32,
    after: Option<Cursor>,
    status: Option<&str>,
) -> Result<Slice<conversation::Model>, ApiError> {
    use conversation::Column as C;
    let limit = check_page_size(first, "first")?;
    let mut query = conversation::Entity::find().filter(C::PageId.eq(page.id()));
    if let Some(status) = status {
        query = query.filter(C::Status.eq(status));
    }
    if let Some(cursor) = after {
        query = query.filter(
            Condition::any()
                .add(Expr::col(C::LastTimestamp).lt(cursor.time))
                .add(
                    Condition::all()
                        .add(Expr::col(C::LastTimestamp).eq(cursor.time))
                        .add(Expr::col(C::Id).lt(cursor.id)),
                ),
        );
    }
    let mut items = query
        .order_by(C::LastTimestamp, Order::Desc)
        .order_by(C::Id, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    Ok(Slice { items, more })
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
    let mut query = message::Entity::find().filter(M::ConversationId.eq(conversation.id()));
    if let Some(cursor) = before {
        query = query.filter(
            Condition::any()
                .add(Expr::col(M::Timestamp).lt(cursor.time))
                .add(
                    Condition::all()
                        .add(Expr::col(M::Timestamp).eq(cursor.time))
                        .add(Expr::col(M::Id).lt(cursor.id)),
                ),
        );
    }
    let mut items = query
        .order_by(M::Timestamp, Order::Desc)
        .order_by(M::Id, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    items.reverse();
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
    }
}
