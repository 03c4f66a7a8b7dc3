//! Saved replies (issue 15, point 3): a Page's canned answers under shortcuts, created,
//! changed and deleted by its agents, each change audited and pushed live to the Page's
//! other agents (resumable with `after`).
use mf_tests::webhook::{batch, message};
use mf_tests::{
    Agent, CUSTOMER, OTHER_PAGE, PAGE, T0, TIMEOUT, TestApp, error_code, error_message, id_of,
    nodes, spawn_app,
};
use serde_json::{Value, json};

const LIST: &str = "query($p: ID!) { savedReplies(pageId: $p) { id shortcut text } }";
const CREATE: &str = "mutation($p: ID!, $s: String!, $t: String!) {
  createSavedReply(pageId: $p, shortcut: $s, text: $t) { id shortcut text }
}";
const UPDATE: &str = "mutation($id: ID!, $s: String, $t: String) {
  updateSavedReply(id: $id, shortcut: $s, text: $t) { id shortcut text }
}";
const DELETE: &str = "mutation($id: ID!) { deleteSavedReply(id: $id) }";
const PAGE_EVENTS: &str = "subscription($p: ID!, $after: String) {
  pageEvents(pageId: $p, after: $after) {
    position kind removedSavedReplyId savedReply { id shortcut text }
  }
}";
const AUDIT: &str = "{ auditLog(first: 50) { edges { node {
  action actor { id } objectKind objectName pageId fromValue toValue
} } } }";

struct Desk {
    app: TestApp,
    alice: Agent,
    bob: Agent,
    carol: Agent,
}

async fn desk() -> Desk {
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hello", T0)]))
        .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(OTHER_PAGE, CUSTOMER, "o1", "hej", T0)],
    ))
    .await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let bob = app.agent_on("bob@example.com", "Bob", &[PAGE]).await;
    let carol = app
        .agent_on("carol@example.com", "Carol", &[OTHER_PAGE])
        .await;
    Desk {
        app,
        alice,
        bob,
        carol,
    }
}

impl Desk {
    async fn create(&self, agent: &Agent, page: &str, shortcut: &str, text: &str) -> Value {
        self.app
            .gql_as(
                Some(&agent.token),
                CREATE,
                json!({ "p": page, "s": shortcut, "t": text }),
            )
            .await
    }

    async fn list(&self, agent: &Agent, page: &str) -> Value {
        self.app
            .gql_data_as(&agent.token, LIST, json!({ "p": page }))
            .await["savedReplies"]
            .clone()
    }

    async fn audit(&self) -> Vec<Value> {
        let data = self.app.gql_data(AUDIT, json!({})).await;
        let mut entries: Vec<Value> = nodes(&data["auditLog"])
            .into_iter()
            .filter(|e| e["objectKind"] == "SAVED_REPLY")
            .map(|e| {
                json!([
                    e["action"],
                    e["actor"]["id"],
                    e["objectName"],
                    e["pageId"],
                    e["fromValue"],
                    e["toValue"]
                ])
            })
            .collect();
        entries.reverse();
        entries
    }
}

#[tokio::test]
async fn an_agent_creates_changes_and_deletes_a_saved_reply_each_step_audited() {
    // Arrange
    let desk = desk().await;
    let alice = desk.alice.id.as_str();
    let text = "Hi {{customer.first_name}}, thanks for writing!\n{{agent.name}}";

    // Act
    let created = desk.create(&desk.alice, PAGE, " /Thanks ", text).await;
    let id = id_of(&created["data"]["createSavedReply"]).to_owned();
    let changed = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            UPDATE,
            json!({ "id": id, "s": "thx", "t": "Thank you!" }),
        )
        .await;
    let listed = desk.list(&desk.bob, PAGE).await;
    let deleted = desk
        .app
        .gql_data_as(&desk.alice.token, DELETE, json!({ "id": id }))
        .await;

    // Assert: the text kept as written, variables and lines too.
    assert_eq!(
        created["data"]["createSavedReply"],
        json!({ "id": id, "shortcut": "Thanks", "text": text }),
        "{created:#}"
    );
    assert_eq!(
        changed["updateSavedReply"],
        json!({ "id": id, "shortcut": "thx", "text": "Thank you!" })
    );
    assert_eq!(
        listed,
        json!([{ "id": id, "shortcut": "thx", "text": "Thank you!" }])
    );
    assert_eq!(deleted["deleteSavedReply"], true);
    assert_eq!(desk.list(&desk.bob, PAGE).await, json!([]));
    assert_eq!(
        desk.audit().await,
        [
            json!(["SAVED_REPLY_CREATED", alice, "/Thanks", PAGE, null, null]),
            json!([
                "SAVED_REPLY_UPDATED",
                alice,
                "/thx",
                PAGE,
                "/Thanks",
                "/thx"
            ]),
            json!(["SAVED_REPLY_DELETED", alice, "/thx", PAGE, null, null]),
        ]
    );
}

#[tokio::test]
async fn shortcuts_are_unique_per_page_whatever_their_case_and_bad_input_changes_nothing() {
    // Arrange
    let desk = desk().await;
    let first = desk
        .create(&desk.alice, PAGE, "Größe", "Our sizes: S, M, L")
        .await;
    assert!(first["errors"].is_null(), "{first:#}");
    let other = desk.create(&desk.alice, PAGE, "other", "Other").await;
    let other = id_of(&other["data"]["createSavedReply"]).to_owned();
    let before = desk.list(&desk.alice, PAGE).await;

    // Act
    let mut answers = Vec::new();
    for (shortcut, text, field) in [
        ("GRÖßE", "x", "`shortcut`"),
        ("größe", "x", "`shortcut`"),
        ("", "x", "`shortcut`"),
        ("two words", "x", "`shortcut`"),
        (&*"s".repeat(31), "x", "`shortcut`"),
        ("fine", "   ", "`text`"),
        ("fine", &*"t".repeat(2001), "`text`"),
        ("fine", "bell\u{7}", "`text`"),
    ] {
        answers.push((desk.create(&desk.bob, PAGE, shortcut, text).await, field));
    }
    let renamed_onto = desk
        .app
        .gql_as(
            Some(&desk.bob.token),
            UPDATE,
            json!({ "id": other, "s": "größe" }),
        )
        .await;
    answers.push((renamed_onto, "`shortcut`"));
    let on_other_page = desk.create(&desk.carol, OTHER_PAGE, "größe", "Sizes").await;

    // Assert
    for (answer, field) in &answers {
        assert_eq!(error_code(answer), Some("BAD_USER_INPUT"), "{answer:#}");
        assert!(
            error_message(answer).is_some_and(|m| m.contains(field)),
            "{field}: {answer:#}"
        );
    }
    assert_eq!(desk.list(&desk.alice, PAGE).await, before);
    assert!(on_other_page["errors"].is_null(), "{on_other_page:#}");
}

#[tokio::test]
async fn two_agents_creating_the_same_shortcut_at_once_get_one_saved_reply() {
    let desk = desk().await;
    let (a, b) = tokio::join!(
        desk.create(&desk.alice, PAGE, "hours", "We are open 9 to 5."),
        desk.create(&desk.bob, PAGE, "HOURS", "9 to 5!"),
    );
    let ok = [&a, &b].iter().filter(|x| x["errors"].is_null()).count();
    assert_eq!(ok, 1, "{a:#} {b:#}");
    for answer in [&a, &b] {
        if !answer["errors"].is_null() {
            assert_eq!(error_code(answer), Some("BAD_USER_INPUT"), "{answer:#}");
        }
    }
    assert_eq!(
        desk.list(&desk.alice, PAGE).await.as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn another_pages_saved_reply_answers_as_a_missing_one() {
    let desk = desk().await;
    let theirs = desk.create(&desk.carol, OTHER_PAGE, "hej", "Hej!").await;
    let theirs = id_of(&theirs["data"]["createSavedReply"]).to_owned();
    let update = desk
        .app
        .gql_as(
            Some(&desk.alice.token),
            UPDATE,
            json!({ "id": theirs, "t": "mine" }),
        )
        .await;
    let missing = desk
        .app
        .gql_as(
            Some(&desk.alice.token),
            UPDATE,
            json!({ "id": "999999", "t": "mine" }),
        )
        .await;
    let delete = desk
        .app
        .gql_as(Some(&desk.alice.token), DELETE, json!({ "id": theirs }))
        .await;
    let create = desk.create(&desk.alice, OTHER_PAGE, "mine", "mine").await;
    for answer in [&update, &missing, &delete, &create] {
        assert_eq!(error_code(answer), Some("NOT_FOUND"), "{answer:#}");
    }
    assert_eq!(error_message(&update), error_message(&missing));
    assert_eq!(desk.list(&desk.alice, OTHER_PAGE).await, json!([]));
    assert_eq!(
        desk.list(&desk.carol, OTHER_PAGE).await,
        json!([{ "id": theirs, "shortcut": "hej", "text": "Hej!" }])
    );
}

#[tokio::test]
async fn saved_reply_changes_reach_the_pages_other_agents_live_and_replay_after_a_position() {
    // Arrange
    let desk = desk().await;
    let mut bobs = desk
        .app
        .subscribe_as(&desk.bob.token, PAGE_EVENTS, json!({ "p": PAGE }))
        .await;
    let mut carols = desk
        .app
        .subscribe_as(&desk.carol.token, PAGE_EVENTS, json!({ "p": OTHER_PAGE }))
        .await;

    // Act, and what bob receives after each change.
    let created = desk.create(&desk.alice, PAGE, "hours", "9 to 5").await;
    let id = id_of(&created["data"]["createSavedReply"]).to_owned();
    let first = bobs.next(TIMEOUT).await.expect("an event")["pageEvents"].clone();
    desk.app
        .gql_data_as(
            &desk.alice.token,
            UPDATE,
            json!({ "id": id, "t": "9 to 6" }),
        )
        .await;
    let second = bobs.next(TIMEOUT).await.expect("an event")["pageEvents"].clone();
    desk.app
        .gql_data_as(&desk.alice.token, DELETE, json!({ "id": id }))
        .await;
    let third = bobs.next(TIMEOUT).await.expect("an event")["pageEvents"].clone();

    // Assert
    assert_eq!(first["kind"], "SAVED_REPLY_CHANGED");
    assert_eq!(
        first["savedReply"],
        json!({ "id": id, "shortcut": "hours", "text": "9 to 5" })
    );
    assert_eq!(second["savedReply"]["text"], "9 to 6");
    assert_eq!(third["kind"], "SAVED_REPLY_DELETED");
    assert_eq!(third["removedSavedReplyId"], id.as_str());
    carols
        .expect_nothing(std::time::Duration::from_millis(300))
        .await;
    // Replayed: the deleted reply's changes are gone with it, its deletion stays.
    let before: i64 = first["position"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("a position");
    let mut replay = desk
        .app
        .subscribe_as(
            &desk.bob.token,
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": (before - 1).to_string() }),
        )
        .await;
    let replayed = replay.next(TIMEOUT).await.expect("a replayed event")["pageEvents"].clone();
    assert_eq!(replayed["kind"], "SAVED_REPLY_DELETED");
    assert_eq!(replayed["position"], third["position"]);
}
