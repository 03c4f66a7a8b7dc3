//! Labels (issue 15, point 1): a Page's labels, created, renamed, recoloured and deleted
//! by its agents, each change audited and pushed live to the Page's other agents
//! (resumable with `after`); put on conversations, shown on them and filtering the list.
use mf_tests::webhook::{batch, message};
use mf_tests::{
    Agent, CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TIMEOUT, TestApp, error_code,
    error_message, id_of, nodes, spawn_app,
};
use serde_json::{Value, json};

const LABELS: &str = "query($p: ID!) { labels(pageId: $p) { id name color } }";
const CREATE: &str = "mutation($p: ID!, $name: String!, $color: String) {
  createLabel(pageId: $p, name: $name, color: $color) { id name color }
}";
const UPDATE: &str = "mutation($id: ID!, $name: String, $color: String) {
  updateLabel(id: $id, name: $name, color: $color) { id name color }
}";
const DELETE: &str = "mutation($id: ID!) { deleteLabel(id: $id) }";
const SET: &str = "mutation($c: ID!, $labels: [ID!]!) {
  setConversationLabels(conversationId: $c, labelIds: $labels) { id labels { id name color } }
}";
const WITH_LABEL: &str = "query($p: ID!, $label: ID, $first: Int, $after: String) {
  conversations(pageId: $p, labelId: $label, first: $first, after: $after) {
    edges { node { id labels { name } } }
    pageInfo { hasNextPage endCursor }
  }
}";
const PAGE_EVENTS: &str = "subscription($p: ID!, $after: String) {
  pageEvents(pageId: $p, after: $after) {
    position kind removedLabelId
    label { id name color }
    conversation { id labels { id name color } }
  }
}";
const AUDIT: &str = "{ auditLog(first: 50) { edges { node {
  action actor { id } objectKind objectId objectName pageId fromValue toValue
} } } }";

/// A Page with two conversations, its agents alice and bob, and carol on the other Page
/// (which has a conversation of its own).
struct Desk {
    app: TestApp,
    alice: Agent,
    bob: Agent,
    carol: Agent,
    /// CUSTOMER's and OTHER_CUSTOMER's conversations with PAGE.
    first: String,
    second: String,
    /// The other Page's conversation.
    elsewhere: String,
}

async fn desk() -> Desk {
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m1", "hello", T0),
            message(PAGE, OTHER_CUSTOMER, "m2", "hi there", T0 + 1000),
        ],
    ))
    .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(OTHER_PAGE, CUSTOMER, "o1", "hej", T0)],
    ))
    .await;
    let first = id_of(&app.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let second = id_of(&app.conversation_with(PAGE, OTHER_CUSTOMER).await).to_owned();
    let elsewhere = id_of(&app.conversation_with(OTHER_PAGE, CUSTOMER).await).to_owned();
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
        first,
        second,
        elsewhere,
    }
}

impl Desk {
    async fn create(&self, agent: &Agent, page: &str, name: &str, color: Option<&str>) -> Value {
        self.app
            .gql_as(
                Some(&agent.token),
                CREATE,
                json!({ "p": page, "name": name, "color": color }),
            )
            .await
    }

    /// Creates a label on PAGE as alice; its id.
    async fn label(&self, name: &str, color: &str) -> String {
        let created = self.create(&self.alice, PAGE, name, Some(color)).await;
        assert!(created["errors"].is_null(), "{created:#}");
        id_of(&created["data"]["createLabel"]).to_owned()
    }

    async fn labels(&self, agent: &Agent, page: &str) -> Value {
        self.app
            .gql_data_as(&agent.token, LABELS, json!({ "p": page }))
            .await["labels"]
            .clone()
    }

    async fn set(&self, agent: &Agent, conversation: &str, labels: &[&str]) -> Value {
        self.app
            .gql_as(
                Some(&agent.token),
                SET,
                json!({ "c": conversation, "labels": labels }),
            )
            .await
    }

    /// The ids of PAGE's conversations carrying `label`, as alice lists them.
    async fn carrying(&self, label: &str) -> Vec<String> {
        let data = self
            .app
            .gql_data_as(
                &self.alice.token,
                WITH_LABEL,
                json!({ "p": PAGE, "label": label, "first": 100 }),
            )
            .await;
        nodes(&data["conversations"])
            .iter()
            .map(|n| id_of(n).to_owned())
            .collect()
    }

    /// The audit log's label and conversation-label entries, oldest first.
    async fn label_audit(&self) -> Vec<Value> {
        let data = self.app.gql_data(AUDIT, json!({})).await;
        let mut entries: Vec<Value> = nodes(&data["auditLog"])
            .into_iter()
            .filter(|e| e["objectKind"] == "LABEL" || e["action"] == "CONVERSATION_LABELS_CHANGED")
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
async fn an_agent_creates_renames_recolours_and_deletes_a_label_each_step_audited() {
    // Arrange
    let desk = desk().await;
    let alice = desk.alice.id.as_str();

    // Act
    let created = desk
        .create(&desk.alice, PAGE, "  VIP  ", Some("#1F7A8C"))
        .await;
    let id = id_of(&created["data"]["createLabel"]).to_owned();
    let renamed = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            UPDATE,
            json!({ "id": id, "name": "Very important" }),
        )
        .await;
    let recoloured = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            UPDATE,
            json!({ "id": id, "color": "#aa0000" }),
        )
        .await;
    let listed = desk.labels(&desk.bob, PAGE).await;
    let deleted = desk
        .app
        .gql_data_as(&desk.alice.token, DELETE, json!({ "id": id }))
        .await;

    // Assert
    assert_eq!(
        created["data"]["createLabel"],
        json!({ "id": id, "name": "VIP", "color": "#1f7a8c" }),
        "{created:#}"
    );
    assert_eq!(
        renamed["updateLabel"],
        json!({ "id": id, "name": "Very important", "color": "#1f7a8c" })
    );
    assert_eq!(recoloured["updateLabel"]["color"], "#aa0000");
    assert_eq!(
        listed,
        json!([{ "id": id, "name": "Very important", "color": "#aa0000" }])
    );
    assert_eq!(deleted["deleteLabel"], true);
    assert_eq!(desk.labels(&desk.bob, PAGE).await, json!([]));
    assert_eq!(
        desk.label_audit().await,
        [
            json!(["LABEL_CREATED", alice, "VIP", PAGE, null, "#1f7a8c"]),
            json!([
                "LABEL_UPDATED",
                alice,
                "Very important",
                PAGE,
                "VIP #1f7a8c",
                "Very important #1f7a8c"
            ]),
            json!([
                "LABEL_UPDATED",
                alice,
                "Very important",
                PAGE,
                "Very important #1f7a8c",
                "Very important #aa0000"
            ]),
            json!([
                "LABEL_DELETED",
                alice,
                "Very important",
                PAGE,
                "#aa0000",
                null
            ]),
        ]
    );
}

#[tokio::test]
async fn a_label_made_without_a_colour_gets_the_default_one_and_labels_list_by_name() {
    // Arrange
    let desk = desk().await;

    // Act
    desk.label("zeta", "#000000").await;
    let plain = desk.create(&desk.alice, PAGE, "Alpha", None).await;
    desk.label("beta", "#ffffff").await;

    // Assert
    assert_eq!(
        plain["data"]["createLabel"]["color"], "#6b7280",
        "{plain:#}"
    );
    let names: Vec<Value> = desk
        .labels(&desk.alice, PAGE)
        .await
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    assert_eq!(names, [json!("Alpha"), json!("beta"), json!("zeta")]);
}

#[tokio::test]
async fn label_names_are_unique_per_page_whatever_their_case_also_outside_ascii() {
    // Arrange
    let desk = desk().await;
    desk.label("VIP", "#111111").await;
    let umlaut = desk.label("Ärger", "#222222").await;
    let other = desk.label("Other", "#333333").await;

    // Act
    let mut refused = Vec::new();
    for name in ["vip", " Vip ", "ärger", "ÄRGER"] {
        refused.push(desk.create(&desk.bob, PAGE, name, None).await);
    }
    let renamed_onto = desk
        .app
        .gql_as(
            Some(&desk.bob.token),
            UPDATE,
            json!({ "id": other, "name": "vIp" }),
        )
        .await;
    let recased = desk
        .app
        .gql_as(
            Some(&desk.bob.token),
            UPDATE,
            json!({ "id": umlaut, "name": "ÄRGER" }),
        )
        .await;
    let on_other_page = desk.create(&desk.carol, OTHER_PAGE, "vip", None).await;

    // Assert
    for answer in refused.iter().chain([&renamed_onto]) {
        assert_eq!(error_code(answer), Some("BAD_USER_INPUT"), "{answer:#}");
        assert!(
            error_message(answer).is_some_and(|m| m.contains("`name`")),
            "{answer:#}"
        );
    }
    assert_eq!(
        recased["data"]["updateLabel"]["name"], "ÄRGER",
        "{recased:#}"
    );
    assert!(on_other_page["errors"].is_null(), "{on_other_page:#}");
    let names: Vec<Value> = desk
        .labels(&desk.alice, PAGE)
        .await
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    // By the folded name, code point by code point.
    assert_eq!(names, [json!("Other"), json!("VIP"), json!("ÄRGER")]);
}

#[tokio::test]
async fn two_agents_creating_the_same_name_at_once_get_one_label() {
    // Arrange
    let desk = desk().await;

    // Act
    let (a, b) = tokio::join!(
        desk.create(&desk.alice, PAGE, "Refund", None),
        desk.create(&desk.bob, PAGE, "REFUND", None),
    );

    // Assert
    let ok = [&a, &b].iter().filter(|x| x["errors"].is_null()).count();
    assert_eq!(ok, 1, "{a:#} {b:#}");
    for answer in [&a, &b] {
        if !answer["errors"].is_null() {
            assert_eq!(error_code(answer), Some("BAD_USER_INPUT"), "{answer:#}");
        }
    }
    assert_eq!(
        desk.labels(&desk.alice, PAGE)
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn bad_names_and_colours_are_refused_naming_the_field_and_change_nothing() {
    // Arrange
    let desk = desk().await;
    let id = desk.label("Keep", "#123456").await;
    let before = desk.labels(&desk.alice, PAGE).await;

    // Act
    let mut answers = Vec::new();
    for (name, color, field) in [
        ("", None, "`name`"),
        ("   ", None, "`name`"),
        (&*"x".repeat(41), None, "`name`"),
        ("tab\there", None, "`name`"),
        ("ok", Some("red"), "`color`"),
        ("ok", Some("#12345"), "`color`"),
        ("ok", Some("#1234567"), "`color`"),
        ("ok", Some("#12345g"), "`color`"),
    ] {
        answers.push((desk.create(&desk.alice, PAGE, name, color).await, field));
    }
    for (vars, field) in [
        (json!({ "id": id, "name": "" }), "`name`"),
        (json!({ "id": id, "name": "y".repeat(41) }), "`name`"),
        (json!({ "id": id, "color": "#zzzzzz" }), "`color`"),
        (
            json!({ "id": id, "name": "Fine", "color": "blue" }),
            "`color`",
        ),
    ] {
        let answer = desk.app.gql_as(Some(&desk.alice.token), UPDATE, vars).await;
        answers.push((answer, field));
    }

    // Assert
    for (answer, field) in &answers {
        assert_eq!(error_code(answer), Some("BAD_USER_INPUT"), "{answer:#}");
        assert!(
            error_message(answer).is_some_and(|m| m.contains(field)),
            "{field}: {answer:#}"
        );
    }
    assert_eq!(desk.labels(&desk.alice, PAGE).await, before);
    assert_eq!(desk.label_audit().await.len(), 1, "only the creation");
    // Forty characters (not bytes) are allowed.
    let forty = desk.create(&desk.alice, PAGE, &"é".repeat(40), None).await;
    assert!(forty["errors"].is_null(), "{forty:#}");
}

#[tokio::test]
async fn labels_put_on_a_conversation_show_on_it_and_filter_the_list() {
    // Arrange
    let desk = desk().await;
    let vip = desk.label("VIP", "#1f7a8c").await;
    let refund = desk.label("Refund", "#aa0000").await;

    // Act
    let set = desk
        .set(&desk.alice, &desk.first, &[&vip, &refund, &vip])
        .await;
    desk.set(&desk.alice, &desk.second, &[&refund]).await;

    // Assert: by name, each once.
    assert_eq!(
        set["data"]["setConversationLabels"]["labels"],
        json!([
            { "id": refund, "name": "Refund", "color": "#aa0000" },
            { "id": vip, "name": "VIP", "color": "#1f7a8c" },
        ]),
        "{set:#}"
    );
    assert_eq!(desk.carrying(&vip).await, [desk.first.as_str()]);
    // Newest first, as without the filter.
    assert_eq!(
        desk.carrying(&refund).await,
        [desk.second.clone(), desk.first.clone()]
    );
    // Paged like any list.
    let page1 = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            WITH_LABEL,
            json!({ "p": PAGE, "label": refund, "first": 1 }),
        )
        .await;
    assert_eq!(page1["conversations"]["pageInfo"]["hasNextPage"], true);
    let page2 = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            WITH_LABEL,
            json!({ "p": PAGE, "label": refund, "first": 1,
                    "after": page1["conversations"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        nodes(&page2["conversations"])
            .iter()
            .map(|n| id_of(n).to_owned())
            .collect::<Vec<_>>(),
        [desk.first.as_str()]
    );

    // Replacing the set, then taking every label off.
    let replaced = desk.set(&desk.bob, &desk.first, &[&vip]).await;
    assert_eq!(
        replaced["data"]["setConversationLabels"]["labels"],
        json!([{ "id": vip, "name": "VIP", "color": "#1f7a8c" }])
    );
    assert_eq!(desk.carrying(&refund).await, [desk.second.as_str()]);
    let cleared = desk.set(&desk.bob, &desk.first, &[]).await;
    assert_eq!(
        cleared["data"]["setConversationLabels"]["labels"],
        json!([])
    );
    assert!(desk.carrying(&vip).await.is_empty());

    // Audited, with the names before and after.
    let bob = desk.bob.id.as_str();
    let alice = desk.alice.id.as_str();
    let changes: Vec<Value> = desk
        .label_audit()
        .await
        .into_iter()
        .filter(|e| e[0] == "CONVERSATION_LABELS_CHANGED")
        .collect();
    assert_eq!(
        changes,
        [
            json!([
                "CONVERSATION_LABELS_CHANGED",
                alice,
                null,
                PAGE,
                "",
                "Refund, VIP"
            ]),
            json!([
                "CONVERSATION_LABELS_CHANGED",
                alice,
                null,
                PAGE,
                "",
                "Refund"
            ]),
            json!([
                "CONVERSATION_LABELS_CHANGED",
                bob,
                null,
                PAGE,
                "Refund, VIP",
                "VIP"
            ]),
            json!(["CONVERSATION_LABELS_CHANGED", bob, null, PAGE, "VIP", ""]),
        ]
    );
}

#[tokio::test]
async fn a_label_of_another_page_answers_as_a_missing_one_and_changes_nothing() {
    // Arrange
    let desk = desk().await;
    let mine = desk.label("Mine", "#111111").await;
    let theirs = desk.create(&desk.carol, OTHER_PAGE, "Theirs", None).await;
    let theirs = id_of(&theirs["data"]["createLabel"]).to_owned();

    // Act
    let foreign = desk.set(&desk.alice, &desk.first, &[&mine, &theirs]).await;
    let missing = desk.set(&desk.alice, &desk.first, &[&mine, "999999"]).await;
    let onto_theirs = desk.set(&desk.alice, &desk.elsewhere, &[&mine]).await;
    let rename = desk
        .app
        .gql_as(
            Some(&desk.alice.token),
            UPDATE,
            json!({ "id": theirs, "name": "Taken" }),
        )
        .await;
    let delete = desk
        .app
        .gql_as(Some(&desk.alice.token), DELETE, json!({ "id": theirs }))
        .await;
    let filter = desk.carrying(&theirs).await;

    // Assert
    for answer in [&foreign, &missing, &onto_theirs, &rename, &delete] {
        assert_eq!(error_code(answer), Some("NOT_FOUND"), "{answer:#}");
    }
    assert_eq!(error_message(&foreign), error_message(&missing));
    assert!(filter.is_empty());
    assert_eq!(desk.labels(&desk.alice, OTHER_PAGE).await, json!([]));
    assert_eq!(
        desk.labels(&desk.carol, OTHER_PAGE).await,
        json!([{ "id": theirs, "name": "Theirs", "color": "#6b7280" }])
    );
    let first = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            "query($id: ID!) { conversation(id: $id) { labels { id } } }",
            json!({ "id": desk.first }),
        )
        .await;
    assert_eq!(first["conversation"]["labels"], json!([]));
}

#[tokio::test]
async fn deleting_a_label_takes_it_off_its_conversations() {
    // Arrange
    let desk = desk().await;
    let vip = desk.label("VIP", "#1f7a8c").await;
    let keep = desk.label("Keep", "#222222").await;
    desk.set(&desk.alice, &desk.first, &[&vip, &keep]).await;

    // Act
    desk.app
        .gql_data_as(&desk.bob.token, DELETE, json!({ "id": vip }))
        .await;

    // Assert
    let first = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            "query($id: ID!) { conversation(id: $id) { labels { name } } }",
            json!({ "id": desk.first }),
        )
        .await;
    assert_eq!(first["conversation"]["labels"], json!([{ "name": "Keep" }]));
    assert!(desk.carrying(&vip).await.is_empty());
    let again = desk
        .app
        .gql_as(Some(&desk.bob.token), DELETE, json!({ "id": vip }))
        .await;
    assert_eq!(error_code(&again), Some("NOT_FOUND"), "{again:#}");
}

#[tokio::test]
async fn label_changes_reach_the_pages_other_agents_live_and_replay_after_a_position() {
    // Arrange: bob watches the Page; carol watches hers.
    let desk = desk().await;
    let mut bobs = desk
        .app
        .subscribe_as(&desk.bob.token, PAGE_EVENTS, json!({ "p": PAGE }))
        .await;
    let mut carols = desk
        .app
        .subscribe_as(&desk.carol.token, PAGE_EVENTS, json!({ "p": OTHER_PAGE }))
        .await;

    // Act: each change, then what bob receives (read before the next change, since an
    // event shows its conversation as it is when delivered).
    let mut seen = Vec::new();
    let vip = desk.label("VIP", "#1f7a8c").await;
    seen.push(bobs.next(TIMEOUT).await.expect("a page event")["pageEvents"].clone());
    desk.set(&desk.alice, &desk.first, &[&vip]).await;
    seen.push(bobs.next(TIMEOUT).await.expect("a page event")["pageEvents"].clone());
    desk.app
        .gql_data_as(
            &desk.alice.token,
            UPDATE,
            json!({ "id": vip, "name": "V.I.P." }),
        )
        .await;
    seen.push(bobs.next(TIMEOUT).await.expect("a page event")["pageEvents"].clone());
    desk.app
        .gql_data_as(&desk.alice.token, DELETE, json!({ "id": vip }))
        .await;
    seen.push(bobs.next(TIMEOUT).await.expect("a page event")["pageEvents"].clone());

    // Assert
    let kinds: Vec<&Value> = seen.iter().map(|e| &e["kind"]).collect();
    assert_eq!(
        kinds,
        [
            "LABEL_CHANGED",
            "CONVERSATION_UPDATED",
            "LABEL_CHANGED",
            "LABEL_DELETED"
        ]
    );
    assert_eq!(
        seen[0]["label"],
        json!({ "id": vip, "name": "VIP", "color": "#1f7a8c" })
    );
    assert_eq!(seen[1]["conversation"]["id"], desk.first.as_str());
    assert_eq!(
        seen[1]["conversation"]["labels"],
        json!([{ "id": vip, "name": "VIP", "color": "#1f7a8c" }])
    );
    assert_eq!(seen[2]["label"]["name"], "V.I.P.");
    assert_eq!(seen[3]["removedLabelId"], vip.as_str());
    carols
        .expect_nothing(std::time::Duration::from_millis(300))
        .await;

    // A subscriber that was away replays them: the deleted label's earlier change is
    // gone with it, its deletion stays.
    let before: i64 = seen[0]["position"]
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
    let first = replay.next(TIMEOUT).await.expect("a replayed event")["pageEvents"].clone();
    let second = replay.next(TIMEOUT).await.expect("a replayed event")["pageEvents"].clone();
    assert_eq!(first["kind"], "CONVERSATION_UPDATED");
    assert_eq!(first["conversation"]["labels"], json!([]));
    assert_eq!(second["kind"], "LABEL_DELETED");
    assert_eq!(second["removedLabelId"], vip.as_str());
    assert_eq!(second["position"], seen[3]["position"]);
}
