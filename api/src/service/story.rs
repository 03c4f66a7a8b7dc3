//! The customer's story, for the side panel beside a chat: who the customer is, when they
//! first and last wrote, how much was said each way, their other conversations on the same
//! Page, and how they came (the referrals Facebook sent). Read through a
//! `VisibleConversation`, so it never reaches past the caller's Pages, nor past its Page:
//! a PSID is scoped to its Page, and the same digits on another Page are someone else.
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use entity::message::Direction;
use entity::{conversation, message, referral};

use crate::error::ApiError;
use crate::service::access::VisibleConversation;

/// Most referrals a story lists, newest first.
pub const MAX_REFERRALS: u64 = 50;
/// Most other conversations a story lists, newest first.
pub const MAX_OTHERS: u64 = 20;

/// What the panel shows of one customer.
#[derive(Clone, Debug)]
pub struct Story {
    pub conversation: conversation::Model,
    pub inbound: i64,
    pub outbound: i64,
    /// The first and last message either way, ms (none before the first one).
    pub first_contact: Option<i64>,
    pub last_contact: Option<i64>,
    /// The same PSID's other conversations of this Page, any status, newest first.
    pub others: Vec<conversation::Model>,
    /// Newest first.
    pub referrals: Vec<referral::Model>,
}

/// The story of the customer of `visible`.
pub async fn of(
    db: &impl ConnectionTrait,
    visible: &VisibleConversation,
) -> Result<Story, ApiError> {
    use message::Column as M;
    let conversation = visible.model().clone();
    let counts: Vec<(Direction, i64, Option<i64>, Option<i64>)> = message::Entity::find()
        .select_only()
        .column(M::Direction)
        .column_as(Expr::col(M::Id).count(), "count")
        .column_as(Expr::col(M::Timestamp).min(), "first")
        .column_as(Expr::col(M::Timestamp).max(), "last")
        .filter(M::ConversationId.eq(conversation.id))
        .group_by(M::Direction)
        .into_tuple()
        .all(db)
        .await?;
    let mut story = Story {
        conversation,
        inbound: 0,
        outbound: 0,
        first_contact: None,
        last_contact: None,
        others: Vec::new(),
        referrals: Vec::new(),
    };
    for (direction, count, first, last) in counts {
        match direction {
            Direction::Inbound => story.inbound = count,
            Direction::Outbound => story.outbound = count,
        }
        story.first_contact = earliest(story.first_contact, first);
        story.last_contact = Ord::max(story.last_contact, last);
    }
    let c = &story.conversation;
    story.others = conversation::Entity::find()
        .filter(conversation::Column::PageId.eq(c.page_id.as_str()))
        .filter(conversation::Column::Psid.eq(c.psid.as_str()))
        .filter(conversation::Column::Id.ne(c.id))
        .order_by_desc(conversation::Column::LastTimestamp)
        .order_by_desc(conversation::Column::Id)
        .limit(MAX_OTHERS)
        .all(db)
        .await?;
    story.referrals = referrals(db, visible).await?;
    Ok(story)
}

/// The referrals of `visible`'s conversation, newest first.
pub async fn referrals(
    db: &impl ConnectionTrait,
    visible: &VisibleConversation,
) -> Result<Vec<referral::Model>, ApiError> {
    use referral::Column as R;
    Ok(referral::Entity::find()
        .filter(R::ConversationId.eq(visible.id()))
        .order_by_desc(R::Timestamp)
        .order_by_desc(R::Id)
        .limit(MAX_REFERRALS)
        .all(db)
        .await?)
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Ord::min(a, b)),
        (a, b) => a.or(b),
    }
}
