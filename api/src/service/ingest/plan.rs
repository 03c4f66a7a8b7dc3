//! What a group of deliveries changes, decided without the database: which messages to
//! insert, which echoes complete one of our sends, what each conversation gains, and
//! what each delivery reports. The writer executes a plan (`sql`), tells it what was
//! stored (`Plan::account`), and announces the outcome in one order (`announcements`).
use std::collections::{HashMap, HashSet};

use entity::{conversation, message};

use super::IngestReport;
use super::echo::own_send;
use crate::bus::Change;
use crate::facebook::events::{
    Attachment, Direction, Edit, Event, IncomingMessage, Reaction, Referral,
};

/// A customer of a Page: `(page_id, psid)`, one conversation each.
pub type Customer = (String, String);

/// The group names a customer whose conversation was not provided (a bug: the writer
/// creates every conversation a group needs before planning it).
#[derive(Debug, thiserror::Error)]
#[error("no conversation for customer {0} of Page {1}")]
pub struct MissingConversation(pub String, pub String);

/// A message of delivery `job` to insert into conversation `conversation_id`.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    pub job: usize,
    pub conversation_id: i64,
    pub message: &'a IncomingMessage,
}

/// An echo of our own send `own_id` (`metadata: "mf:<id>"`): it completes that row
/// rather than adding one, unless the row is not there to complete (then it is a `Row`).
#[derive(Clone, Copy, Debug)]
pub struct Adoption<'a> {
    pub row: Row<'a>,
    pub own_id: i64,
}

/// The changes to one conversation within a group, applied in one UPDATE.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// New inbound messages, live ones only (a history import is not unread).
    pub new_inbound: i32,
    /// The newest message added: (time, preview text).
    pub newest: Option<(i64, String)>,
    pub newest_inbound: Option<i64>,
    /// The highest delivery watermark in the group (0: none).
    pub delivered: i64,
    /// The highest read watermark in the group (0: none).
    pub read: i64,
    /// An outbound message was added or completed: watermarks may now cover it.
    pub new_outbound: bool,
}

impl Touched {
    /// Whether the conversation's outbound messages may have changed status.
    pub fn marks(&self) -> bool {
        self.delivered > 0 || self.read > 0 || self.new_outbound
    }
}

/// What a group changes: see the module's documentation.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    /// Messages to insert; those whose `(page_id, mid)` is already stored are duplicates.
    pub rows: Vec<Row<'a>>,
    pub adoptions: Vec<Adoption<'a>>,
    /// Conversation id -> what it gains.
    pub touched: HashMap<i64, Touched>,
    /// One per delivery, in the group's order.
    pub reports: Vec<IngestReport>,
    /// Reactions to apply: the latest of the group per message and person.
    pub reactions: Vec<&'a Reaction>,
    /// Edits to apply: the highest `num_edit` of the group per message.
    pub edits: Vec<&'a Edit>,
    /// Referrals to store, once per `(page_id, key)` of the group, each with its
    /// conversation.
    pub referrals: Vec<(i64, &'a Referral)>,
    /// The `(page_id, key)` of each referral kept.
    referral_keys: HashSet<(&'a str, &'a str)>,
}

/// Every customer the events name, once each, in the order first named.
pub fn customers<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<Customer> {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for event in events {
        let Some((page_id, psid)) = event.customer() else {
            continue;
        };
        if !seen.contains(&(page_id, psid)) {
            seen.insert((page_id, psid));
            found.push((page_id.to_owned(), psid.to_owned()));
        }
    }
    found
}

/// Plans a group: `jobs` holds each delivery's events, `conversation_of` the conversation
/// of every customer they name. A message seen twice in the group is one row (and one
/// duplicate); watermarks keep the highest of the group.
pub fn plan<'a>(
    jobs: impl IntoIterator<Item = &'a [Event]>,
    conversation_of: &HashMap<Customer, i64>,
) -> Result<Plan<'a>, MissingConversation> {
    let conversation = |page_id: &str, psid: &str| {
        conversation_of
            .get(&(page_id.to_owned(), psid.to_owned()))
            .copied()
            .ok_or_else(|| MissingConversation(psid.to_owned(), page_id.to_owned()))
    };
    let mut plan = Plan::default();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut reactions: HashMap<(&str, &str, &str), &Reaction> = HashMap::new();
    let mut edits: HashMap<(&str, &str), &Edit> = HashMap::new();
    for (job, events) in jobs.into_iter().enumerate() {
        plan.reports.push(IngestReport::default());
        for event in events {
            match event {
                Event::Message(m) => {
                    if !seen.insert((&m.page_id, &m.mid)) {
                        plan.reports[job].duplicates += 1;
                        continue;
                    }
                    let row = Row {
                        job,
                        conversation_id: conversation(&m.page_id, &m.psid)?,
                        message: m,
                    };
                    match own_send(m) {
                        Some(own_id) => plan.adoptions.push(Adoption { row, own_id }),
                        None => plan.rows.push(row),
                    }
                }
                Event::Delivery {
                    page_id,
                    psid,
                    watermark,
                } => {
                    let entry = plan.touched.entry(conversation(page_id, psid)?);
                    let entry = entry.or_default();
                    entry.delivered = entry.delivered.max(*watermark);
                    plan.reports[job].watermarks += 1;
                }
                Event::Read {
                    page_id,
                    psid,
                    watermark,
                } => {
                    let entry = plan
                        .touched
                        .entry(conversation(page_id, psid)?)
                        .or_default();
                    entry.read = entry.read.max(*watermark);
                    plan.reports[job].watermarks += 1;
                }
                Event::Reaction(r) => {
                    plan.reports[job].changes += 1;
                    let key = (r.page_id.as_str(), r.mid.as_str(), r.psid.as_str());
                    let kept = reactions.entry(key).or_insert(r);
                    if r.timestamp > kept.timestamp {
                        *kept = r;
                    }
                }
                Event::Edit(e) => {
                    plan.reports[job].changes += 1;
                    let kept = edits
                        .entry((e.page_id.as_str(), e.mid.as_str()))
                        .or_insert(e);
                    if e.num_edit > kept.num_edit {
                        *kept = e;
                    }
                }
                Event::Referral(r) => plan.referral(job, conversation(&r.page_id, &r.psid)?, r),
            }
        }
    }
    plan.reactions = reactions.into_values().collect();
    plan.reactions
        .sort_by_key(|r| (&r.page_id, &r.mid, &r.psid));
    plan.edits = edits.into_values().collect();
    plan.edits.sort_by_key(|e| (&e.page_id, &e.mid));
    Ok(plan)
}

impl<'a> Plan<'a> {
    /// Counts referral `r` of delivery `job`, and keeps it unless the group already has one
    /// of its key (Facebook repeated it).
    fn referral(&mut self, job: usize, conversation_id: i64, r: &'a Referral) {
        self.reports[job].referrals += 1;
        if self.referral_keys.insert((&r.page_id, &r.key)) {
            self.referrals.push((conversation_id, r));
        }
    }

    /// The echo `row` completed our stored send: a duplicate of what we store, and an
    /// outbound message the conversation's watermarks may cover.
    pub fn adopted(&mut self, row: &Row<'_>) {
        self.reports[row.job].duplicates += 1;
        self.touched
            .entry(row.conversation_id)
            .or_default()
            .new_outbound = true;
    }

    /// Counts each row once, as stored (it is among `added`, the messages the insert
    /// returned) or as a duplicate (already stored before this group), and gives each
    /// conversation what its added messages bring.
    pub fn account(&mut self, added: &[message::Model]) {
        let stored: HashSet<(&str, &str)> = added
            .iter()
            .map(|m| (m.page_id.as_str(), m.mid.as_str()))
            .collect();
        let mut historical: HashSet<(&str, &str)> = HashSet::new();
        for row in &self.rows {
            let key = (row.message.page_id.as_str(), row.message.mid.as_str());
            let report = &mut self.reports[row.job];
            if stored.contains(&key) {
                report.stored += 1;
            } else {
                report.duplicates += 1;
            }
            if row.message.historical {
                historical.insert(key);
            }
        }
        for message in added {
            let entry = self.touched.entry(message.conversation_id).or_default();
            if entry
                .newest
                .as_ref()
                .is_none_or(|(ts, _)| message.timestamp >= *ts)
            {
                entry.newest = Some((message.timestamp, preview(message)));
            }
            if message.direction == Direction::Inbound {
                if !historical.contains(&(message.page_id.as_str(), message.mid.as_str())) {
                    entry.new_inbound += 1;
                }
                entry.newest_inbound = entry.newest_inbound.max(Some(message.timestamp));
            } else {
                entry.new_outbound = true;
            }
        }
    }

    /// The touched conversations in id order: concurrent writers lock them in one order.
    pub fn touched_in_order(&mut self) -> Vec<(i64, Touched)> {
        let mut touched: Vec<(i64, Touched)> =
            std::mem::take(&mut self.touched).into_iter().collect();
        touched.sort_unstable_by_key(|(id, _)| *id);
        touched
    }
}

/// What a group's transaction changed, to announce in the event log.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Messages inserted.
    pub added: Vec<message::Model>,
    /// Stored messages whose row changed (an echo completed one, a watermark marked it).
    pub updated: Vec<message::Model>,
    /// Copies merged into the row they duplicate (MESSAGE_REMOVED).
    pub removed: Vec<Change>,
    pub conversations: Vec<conversation::Model>,
    /// Activity of conversations the customer reopened.
    pub reopened: Vec<Change>,
    /// Referrals stored for the first time.
    pub referrals: Vec<entity::referral::Model>,
}

/// The changes to announce, in order: messages first, so a client that sees a
/// conversation move can already fetch them; a message added and changed in the same
/// group once, as added, with its final state; a merged copy's removal after its
/// survivor's update, so a client never shows neither.
pub fn announcements(outcome: Outcome) -> Vec<Change> {
    let mut changes = Vec::with_capacity(
        outcome.added.len() + outcome.updated.len() + outcome.conversations.len(),
    );
    let mut changed: HashMap<i64, message::Model> =
        outcome.updated.into_iter().map(|m| (m.id, m)).collect();
    for message in outcome.added {
        let latest = changed.remove(&message.id).unwrap_or(message);
        changes.push(Change::MessageAdded(latest));
    }
    let mut changed: Vec<message::Model> = changed.into_values().collect();
    changed.sort_unstable_by_key(|m| m.id);
    changes.extend(changed.into_iter().map(Change::MessageUpdated));
    changes.extend(outcome.removed);
    changes.extend(
        outcome
            .conversations
            .into_iter()
            .map(Change::ConversationUpdated),
    );
    changes.extend(outcome.reopened);
    changes.extend(outcome.referrals.into_iter().map(Change::ReferralAdded));
    changes
}

/// What the inbox shows as a conversation's last message.
pub fn preview(message: &message::Model) -> String {
    if let Some(text) = &message.text {
        return text.clone();
    }
    let first_kind = message
        .attachments
        .as_deref()
        .and_then(|json| serde_json::from_str::<Vec<Attachment>>(json).ok())
        .and_then(|list| list.into_iter().next())
        .map(|a| a.kind);
    first_kind
        .map(|kind| format!("[{kind}]"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
