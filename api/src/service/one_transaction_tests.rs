//! Domain writes join their caller's transaction (issue 13): two of them in one
//! transaction land together when it commits through `Outbox::commit`, and leave nothing
//! behind when it is rolled back. On SQLite in a temp dir, or on PostgreSQL when
//! `MF_TEST_POSTGRES_URL` is set (as the suite's second pass runs).
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
};

use entity::conversation::{self, Status};
use entity::{agent, conversation_activity, message, page};

use crate::bus::memory::MemoryBus;
use crate::bus::{BusEvent, Change, EventBus};
use crate::facebook::graph::Outgoing;
use crate::service::access::{self, VisibleConversation};
use crate::service::auth::{Credential, Principal, Role, Scope};
use crate::service::event_log;
use crate::service::outbox::Outbox;
use crate::service::send::store::{self, Reply, Stored};
use crate::service::{audit, conversations};
use crate::tasks::Tasks;

const PAGE: &str = "p1";
const NOW: i64 = 1_800_000_000_000;

/// A migrated database of its own; the directory lives as long as it (SQLite).
async fn database() -> (DatabaseConnection, Option<tempfile::TempDir>) {
    if let Ok(base) = std::env::var("MF_TEST_POSTGRES_URL")
        && !base.is_empty()
    {
        let server = base.trim_end_matches('/');
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!("mf_unit_{}", hex::encode(bytes));
        let admin = Database::connect(format!("{server}/postgres"))
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let db = crate::db::connect(&format!("{server}/{name}"))
            .await
            .unwrap();
        crate::db::migrate(&db).await.unwrap();
        return (db, None);
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/writes.db?mode=rwc", dir.path().display());
    let db = crate::db::connect(&url).await.unwrap();
    crate::db::migrate(&db).await.unwrap();
    (db, Some(dir))
}

/// A Page, an administrator, and an OPEN conversation with nothing in it yet.
async fn arrange(db: &DatabaseConnection) -> (Principal, VisibleConversation) {
    page::ActiveModel {
        id: Set(PAGE.to_owned()),
        name: Set(Some("Page".to_owned())),
        created_at: Set(NOW),
        access_token: Set(None),
        needs_reconnect: Set(false),
        connected_at: Set(None),
        reconnect_reason: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    let agent = agent::ActiveModel {
        id: NotSet,
        email: Set("ada@example.com".to_owned()),
        name: Set("Ada".to_owned()),
        role: Set("ADMIN".to_owned()),
        password_hash: Set(None),
        created_at: Set(NOW),
        deactivated_at: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    let conversation = conversation::ActiveModel {
        id: NotSet,
        page_id: Set(PAGE.to_owned()),
        psid: Set("customer".to_owned()),
        last_timestamp: Set(NOW - 60_000),
        last_inbound_timestamp: Set(Some(NOW - 60_000)),
        unread_count: Set(1),
        status: Set(Status::Open),
        created_at: Set(NOW - 60_000),
        updated_at: Set(NOW - 60_000),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let me = Principal {
        agent,
        role: Role::Admin,
        credential: Credential::Session {
            id: 1,
            expires_at: i64::MAX,
        },
        scope: Scope::All,
    };
    let visible = access::require_conversation(db, &me, conversation.id)
        .await
        .unwrap();
    (me, visible)
}

/// Resolves the conversation and stores a reply in it, both in `txn`; their changes in order.
async fn resolve_and_reply(
    txn: &impl ConnectionTrait,
    me: &Principal,
    conversation: &VisibleConversation,
) -> Vec<Change> {
    let resolve = conversations::Change {
        status: Some(Status::Resolved),
        ..Default::default()
    };
    let actor = audit::Actor::of(me, audit::Origin::default());
    let resolved = conversations::apply(txn, conversation, &resolve, Some(&actor), NOW)
        .await
        .unwrap();
    let content = Outgoing::Text("On its way".to_owned());
    let reply = Reply {
        conversation,
        agent_id: me.agent.id,
        content: &content,
        client_mutation_id: Some("reply-1".to_owned()),
        human_agent: false,
        now: NOW,
    };
    let Stored::New(replied) = store::pending(txn, reply).await.unwrap() else {
        panic!("the reply's key was free");
    };
    [resolved.changes, replied.changes].concat()
}

/// What the database holds of the conversation: its row, its messages, its activity
/// lines, and the Page's last event-log position.
async fn stored(
    db: &DatabaseConnection,
    id: i64,
) -> (conversation::Model, Vec<message::Model>, u64, i64) {
    let row = conversation::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let messages = message::Entity::find()
        .filter(message::Column::ConversationId.eq(id))
        .all(db)
        .await
        .unwrap();
    let activity = conversation_activity::Entity::find()
        .filter(conversation_activity::Column::ConversationId.eq(id))
        .count(db)
        .await
        .unwrap();
    let head = event_log::head(db, PAGE).await.unwrap();
    (row, messages, activity, head)
}

#[tokio::test]
async fn two_writes_in_a_transaction_that_is_rolled_back_leave_nothing_behind() {
    let (db, _dir) = database().await;
    let (me, conversation) = arrange(&db).await;
    let before = stored(&db, conversation.id()).await;

    let txn = db.begin().await.unwrap();
    let changes = resolve_and_reply(&txn, &me, &conversation).await;
    txn.rollback().await.unwrap();

    assert_eq!(changes.len(), 4, "{changes:#?}");
    let (row, messages, activity, head) = stored(&db, conversation.id()).await;
    assert_eq!(row, before.0);
    assert_eq!(row.status, Status::Open);
    assert!(messages.is_empty(), "{messages:#?}");
    assert_eq!(activity, 0);
    assert_eq!(head, 0);
    assert_eq!(
        audit_entries(&db).await,
        0,
        "the audit entry rolls back with its change"
    );
}

/// The audit log's entries.
async fn audit_entries(db: &DatabaseConnection) -> u64 {
    entity::audit_entry::Entity::find().count(db).await.unwrap()
}

#[tokio::test]
async fn two_writes_in_a_committed_transaction_land_together_and_are_published_in_order() {
    let (db, _dir) = database().await;
    let (me, conversation) = arrange(&db).await;
    let bus = Arc::new(MemoryBus::new());
    let mut published = bus.subscribe();
    let tasks = Tasks::new();
    let outbox = Outbox::start(db.clone(), bus, &tasks);

    let txn = db.begin().await.unwrap();
    let changes = resolve_and_reply(&txn, &me, &conversation).await;
    outbox.commit(txn, changes).await.unwrap();

    let (row, messages, activity, head) = stored(&db, conversation.id()).await;
    assert_eq!(row.status, Status::Resolved);
    assert_eq!(row.last_message_text.as_deref(), Some("On its way"));
    assert_eq!(row.last_timestamp, NOW);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0].status, message::Status::Pending);
    assert_eq!(messages[0].agent_id, Some(me.agent.id));
    assert_eq!(activity, 1);
    assert_eq!(head, 4);
    assert_eq!(
        audit_entries(&db).await,
        1,
        "the audit entry commits with its change"
    );
    let mut kinds = Vec::new();
    while kinds.len() < 4 {
        let event = tokio::time::timeout(Duration::from_secs(10), published.next())
            .await
            .expect("the outbox publishes what was committed")
            .expect("the bus is open");
        if let BusEvent::Page(event) = &*event {
            kinds.push((event.position, kind(&event.change)));
        }
    }
    assert_eq!(
        kinds,
        [
            (1, "conversation"),
            (2, "activity"),
            (3, "message"),
            (4, "conversation")
        ]
    );
    tasks.stop(Duration::from_secs(5)).await;
}

fn kind(change: &Change) -> &'static str {
    match change {
        Change::ConversationUpdated(_) => "conversation",
        Change::ActivityAdded(_) => "activity",
        Change::MessageAdded(_) | Change::MessageUpdated(_) => "message",
        Change::MessageRemoved { .. } => "removed",
        Change::LabelChanged(_) | Change::LabelDeleted { .. } => "label",
        Change::NoteAdded(_) => "note",
        Change::SavedReplyChanged(_) | Change::SavedReplyDeleted { .. } => "saved reply",
        Change::ReferralAdded(_) => "referral",
    }
}
