//! Echoes of our own sends: Facebook echoes every message a Page sends, and ours carry
//! `metadata: "mf:<id>"`, so the echo completes the row `sendMessage` stored (its mid,
//! SENT) instead of adding a second copy, whether it or the Send API's answer comes first.
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use entity::message::{self, Status};

use crate::facebook::events::{Direction, IncomingMessage};

/// The id of our own stored message that an echo reports on (`metadata: "mf:<id>"`).
pub fn own_send(message: &IncomingMessage) -> Option<i64> {
    if message.direction != Direction::Outbound {
        return None;
    }
    message
        .metadata
        .as_deref()?
        .strip_prefix(OWN_METADATA_PREFIX)?
        .parse()
        .ok()
}

/// Tags our sends so their echoes can be matched (`metadata` is echoed back).
pub const OWN_METADATA_PREFIX: &str = "mf:";
/// The `mid` of a message not yet accepted by Facebook.
pub const PENDING_MID_PREFIX: &str = "pending:";

/// Who else holds a mid that our unsent row is about to take.
pub enum MidHolder {
    /// Nobody: our row may take it.
    Nobody,
    /// An imported copy of our reply, now deleted (its id): our row may take the mid.
    MergedCopy(i64),
    /// A row that cannot be the same message (another conversation, inbound, one of our
    /// own sends), or our row is not unsent: left alone, and our row must not take it.
    Other,
}

/// Makes way for our unsent row `own_id` (PENDING or FAILED, no mid yet) to take `mid`.
/// A history sync may have imported our reply as a row of its own before the echo or
/// the Send API's answer gave us the mid. Ours survives, since it is the row
/// `sendMessage` answered with and carries the agent and `clientMutationId`: the copy
/// (outbound, in our row's conversation, no agent, no key) is deleted, so the unique
/// `(page_id, mid)` is never hit. Call in the transaction that then gives ours the mid.
///
/// The DELETE comes first: on SQLite a transaction that read before writing could not
/// take the write lock while another connection writes.
pub async fn make_way_for_mid(
    db: &impl ConnectionTrait,
    own_id: i64,
    page_id: &str,
    mid: &str,
) -> Result<MidHolder, DbErr> {
    use message::Column as M;
    let ours_conversation = sea_orm::sea_query::Query::select()
        .column(M::ConversationId)
        .from(message::Entity)
        .and_where(M::Id.eq(own_id))
        .and_where(M::PageId.eq(page_id))
        .and_where(M::Direction.eq(Direction::Outbound))
        .and_where(M::Mid.starts_with(PENDING_MID_PREFIX))
        .to_owned();
    let deleted = message::Entity::delete_many()
        .filter(M::PageId.eq(page_id))
        .filter(M::Mid.eq(mid))
        .filter(M::Id.ne(own_id))
        .filter(M::Direction.eq(Direction::Outbound))
        .filter(M::AgentId.is_null())
        .filter(M::ClientMutationId.is_null())
        .filter(M::ConversationId.in_subquery(ours_conversation))
        .exec_with_returning(db)
        .await?;
    if let Some(copy) = deleted.first() {
        return Ok(MidHolder::MergedCopy(copy.id));
    }
    let held = message::Entity::find()
        .filter(M::PageId.eq(page_id))
        .filter(M::Mid.eq(mid))
        .filter(M::Id.ne(own_id))
        .one(db)
        .await?;
    Ok(if held.is_some() {
        MidHolder::Other
    } else {
        MidHolder::Nobody
    })
}

/// An echo of our own send: gives the stored message Facebook's mid and SENT, whether the
/// Send API's answer or the echo arrived first. `None` when no such message is ours (the
/// echo is then stored, or counted as a duplicate, like any other).
///
/// When a history sync already imported the reply (`make_way_for_mid`), the copy is
/// merged into ours and its id comes back with ours, for a MESSAGE_REMOVED entry: the
/// delivery is stored rather than failing on the unique `(page_id, mid)` for ever.
pub async fn adopt_echo(
    db: &impl ConnectionTrait,
    own_id: i64,
    echo: &IncomingMessage,
) -> Result<Option<(message::Model, Option<i64>)>, DbErr> {
    use message::Column as M;
    let merged = match make_way_for_mid(db, own_id, &echo.page_id, &echo.mid).await? {
        MidHolder::Nobody => None,
        MidHolder::MergedCopy(copy) => Some(copy),
        MidHolder::Other => return Ok(None),
    };
    let was_unsent = ExprTrait::is_in(Expr::col(M::Status), [Status::Pending, Status::Failed]);
    let status = Expr::case(was_unsent, Expr::val(Status::Sent)).finally(Expr::col(M::Status));
    let updated = message::Entity::update_many()
        .col_expr(M::Mid, Expr::val(echo.mid.clone()))
        .col_expr(M::Status, status.into())
        .col_expr(M::ErrorCode, Expr::val(Option::<String>::None))
        .filter(M::Id.eq(own_id))
        .filter(M::PageId.eq(echo.page_id.as_str()))
        .filter(M::Direction.eq(Direction::Outbound))
        .filter(
            Condition::any()
                .add(M::Mid.eq(echo.mid.as_str()))
                .add(M::Mid.starts_with(PENDING_MID_PREFIX)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(updated.into_iter().next().map(|model| (model, merged)))
}
