//! The page-wide stream's item: one change of a Page, with its position to resume from.
use async_graphql::{ComplexObject, Context, Enum, ID, SimpleObject};

use crate::bus::{Change, PageEvent};
use crate::graphql::labels::Label;
use crate::graphql::saved_replies::SavedReply;
use crate::graphql::story::Referral;
use crate::graphql::types::{Conversation, Message, Note};
use crate::graphql::voices::ConversationActivity;

/// A Page's change, as the page-wide stream delivers it.
#[derive(SimpleObject)]
#[graphql(name = "PageEvent", complex)]
pub struct PageEventItem {
    #[graphql(skip)]
    page_id: String,
    /// Its position in the Page's event log: pass the last one seen as `after` to resume.
    position: String,
    kind: PageEventKind,
    /// The message, as it is now (MESSAGE_ADDED, MESSAGE_UPDATED).
    message: Option<Message>,
    /// The conversation, as it is now (CONVERSATION_UPDATED).
    conversation: Option<Conversation>,
    /// MESSAGE_REMOVED: this message was the same Facebook message as another one (our
    /// reply, also imported by a history sync) and was merged into it; drop it.
    removed_message_id: Option<ID>,
    /// ACTIVITY_ADDED: a status change, assignment or snooze of one of the Page's
    /// conversations (the conversation itself comes as CONVERSATION_UPDATED too).
    activity: Option<ConversationActivity>,
    /// LABEL_CHANGED: a label of the Page, created or changed, as it is now.
    label: Option<Label>,
    /// LABEL_DELETED: this label was deleted and taken off every conversation; drop it.
    removed_label_id: Option<ID>,
    /// NOTE_ADDED: a private note added to one of the Page's conversations.
    note: Option<Note>,
    /// SAVED_REPLY_CHANGED: a saved reply of the Page, created or changed, as it is now.
    saved_reply: Option<SavedReply>,
    /// SAVED_REPLY_DELETED: this saved reply was deleted; drop it.
    removed_saved_reply_id: Option<ID>,
    /// REFERRAL_ADDED: Facebook said how a customer came to one of the Page's
    /// conversations (an ad, an m.me link, the chat plugin).
    referral: Option<Referral>,
}

#[ComplexObject]
impl PageEventItem {
    /// The Page's unread total (`Page.unreadTotal`) as it is when this event is delivered:
    /// the latest event delivered carries the current total, loaded conversations or not.
    async fn unread_total(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        crate::graphql::types::unread_total(ctx, &self.page_id).await
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PageEventKind {
    MessageAdded,
    MessageUpdated,
    ConversationUpdated,
    MessageRemoved,
    ActivityAdded,
    LabelChanged,
    LabelDeleted,
    NoteAdded,
    SavedReplyChanged,
    SavedReplyDeleted,
    ReferralAdded,
}

impl From<&PageEvent> for PageEventItem {
    fn from(event: &PageEvent) -> Self {
        let position = Some(event.position);
        let mut removed_message_id = None;
        let mut activity = None;
        let mut note = None;
        let mut referral = None;
        let (kind, message, conversation) = match &event.change {
            Change::MessageAdded(m) => (
                PageEventKind::MessageAdded,
                Some(Message {
                    model: m.clone(),
                    position,
                }),
                None,
            ),
            Change::MessageUpdated(m) => (
                PageEventKind::MessageUpdated,
                Some(Message {
                    model: m.clone(),
                    position,
                }),
                None,
            ),
            Change::ConversationUpdated(c) => (
                PageEventKind::ConversationUpdated,
                None,
                Some(Conversation {
                    model: c.clone(),
                    position,
                }),
            ),
            Change::MessageRemoved { id, .. } => {
                removed_message_id = Some(ID(id.to_string()));
                (PageEventKind::MessageRemoved, None, None)
            }
            Change::ActivityAdded(a) => {
                activity = Some(ConversationActivity {
                    model: a.clone(),
                    position,
                });
                (PageEventKind::ActivityAdded, None, None)
            }
            Change::LabelChanged(_) => (PageEventKind::LabelChanged, None, None),
            Change::LabelDeleted { .. } => (PageEventKind::LabelDeleted, None, None),
            Change::NoteAdded(n) => {
                note = Some(Note {
                    model: n.clone(),
                    position,
                });
                (PageEventKind::NoteAdded, None, None)
            }
            Change::SavedReplyChanged(_) => (PageEventKind::SavedReplyChanged, None, None),
            Change::SavedReplyDeleted { .. } => (PageEventKind::SavedReplyDeleted, None, None),
            Change::ReferralAdded(r) => {
                referral = Some(Referral {
                    model: r.clone(),
                    position,
                });
                (PageEventKind::ReferralAdded, None, None)
            }
        };
        let (label, removed_label_id, saved_reply, removed_saved_reply_id) =
            team_parts(&event.change);
        Self {
            page_id: event.page_id.clone(),
            position: event.position.to_string(),
            kind,
            message,
            conversation,
            removed_message_id,
            activity,
            label,
            removed_label_id,
            note,
            saved_reply,
            removed_saved_reply_id,
            referral,
        }
    }
}

/// What a change of the team's things carries: a label, a deleted label's id, a saved
/// reply, a deleted saved reply's id (none for other changes).
fn team_parts(change: &Change) -> (Option<Label>, Option<ID>, Option<SavedReply>, Option<ID>) {
    match change {
        Change::LabelChanged(l) => (Some(Label(l.clone())), None, None, None),
        Change::LabelDeleted { id, .. } => (None, Some(ID(id.to_string())), None, None),
        Change::SavedReplyChanged(r) => (None, None, Some(SavedReply(r.clone())), None),
        Change::SavedReplyDeleted { id, .. } => (None, None, None, Some(ID(id.to_string()))),
        _ => (None, None, None, None),
    }
}
