//! What a caller may see: the one place that decides it. Each function answers a proof
//! (`VisiblePage`, `VisibleConversation`) that only this module can make, and the services
//! that read or change a Page's things take one, so no resolver can forget the check.
//!
//! What is not the caller's answers exactly as if it did not exist: `None` here, which the
//! resolvers turn into `null`, an empty list or NOT_FOUND, the same as for a missing id.
use sea_orm::ConnectionTrait;

use entity::{conversation, label, page, saved_reply, sync_job};

use crate::error::ApiError;
use crate::service::auth::{Principal, validate_page_id};
use crate::service::{inbox, labels, saved_replies, sync};

/// A Page the caller may see (whether or not it is stored: an administrator sees every
/// Page id, as today).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisiblePage {
    id: String,
}

impl VisiblePage {
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A stored conversation of a Page the caller may see.
#[derive(Clone, Debug)]
pub struct VisibleConversation {
    model: conversation::Model,
}

impl VisibleConversation {
    pub fn id(&self) -> i64 {
        self.model.id
    }

    pub fn model(&self) -> &conversation::Model {
        &self.model
    }

    pub fn into_model(self) -> conversation::Model {
        self.model
    }

    /// Its Page, which the caller may see too.
    pub fn page(&self) -> VisiblePage {
        VisiblePage {
            id: self.model.page_id.clone(),
        }
    }
}

/// The Page, if `me` may see it. A malformed id is BAD_USER_INPUT, for any caller.
pub fn page(me: &Principal, page_id: &str) -> Result<Option<VisiblePage>, ApiError> {
    validate_page_id(page_id)?;
    Ok(me.can_see(page_id).then(|| VisiblePage {
        id: page_id.to_owned(),
    }))
}

/// The Page, if `me` may see it; NOT_FOUND otherwise, as for a Page that does not exist.
pub fn require_page(me: &Principal, page_id: &str) -> Result<VisiblePage, ApiError> {
    page(me, page_id)?.ok_or(ApiError::NotFound("page"))
}

/// The conversation, if it exists and `me` may see its Page.
pub async fn conversation(
    db: &impl ConnectionTrait,
    me: &Principal,
    id: i64,
) -> Result<Option<VisibleConversation>, ApiError> {
    Ok(inbox::conversation(db, id)
        .await?
        .filter(|c| me.can_see(&c.page_id))
        .map(|model| VisibleConversation { model }))
}

/// The conversation, if `me` may see it; NOT_FOUND otherwise, as for none at all.
pub async fn require_conversation(
    db: &impl ConnectionTrait,
    me: &Principal,
    id: i64,
) -> Result<VisibleConversation, ApiError> {
    conversation(db, me, id)
        .await?
        .ok_or(ApiError::NotFound("conversation"))
}

/// A history sync job, if it is one of a Page `me` may see.
pub async fn sync_job(
    db: &impl ConnectionTrait,
    me: &Principal,
    id: i64,
) -> Result<Option<sync_job::Model>, ApiError> {
    Ok(sync::job(db, id)
        .await?
        .filter(|job| me.can_see(&job.page_id)))
}

/// A label, if it exists and `me` may see its Page.
pub async fn label(
    db: &impl ConnectionTrait,
    me: &Principal,
    id: i64,
) -> Result<Option<label::Model>, ApiError> {
    Ok(labels::find(db, id)
        .await?
        .filter(|l| me.can_see(&l.page_id)))
}

/// The label, if `me` may see it; NOT_FOUND otherwise, as for none at all.
pub async fn require_label(
    db: &impl ConnectionTrait,
    me: &Principal,
    id: i64,
) -> Result<label::Model, ApiError> {
    label(db, me, id).await?.ok_or(ApiError::NotFound("label"))
}

/// A saved reply, if it exists and `me` may see its Page; NOT_FOUND otherwise, as for
/// none at all.
pub async fn require_saved_reply(
    db: &impl ConnectionTrait,
    me: &Principal,
    id: i64,
) -> Result<saved_reply::Model, ApiError> {
    saved_replies::find(db, id)
        .await?
        .filter(|r| me.can_see(&r.page_id))
        .ok_or(ApiError::NotFound("saved reply"))
}

/// Whether `page_id` is (still) in `me`'s scope: for a live stream, which ends once its
/// Page leaves it.
pub fn in_scope(me: &Principal, page_id: &str) -> bool {
    me.can_see(page_id)
}

/// Of these Pages, the ones `me` may see.
pub fn pages(me: &Principal, pages: Vec<page::Model>) -> Vec<page::Model> {
    pages.into_iter().filter(|p| me.can_see(&p.id)).collect()
}
