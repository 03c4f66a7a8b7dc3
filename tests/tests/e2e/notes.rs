//! Private notes (issue 15, point 2): `addNote`, `Conversation.notes`, NOTE_ADDED on
//! `pageEvents` (live and replayed with `after`), `@name` mentions of the Page's agents
//! only, and each agent's `mentions`. A note never reaches Facebook.
use std::time::Duration;

use mf_tests::sim::connected_page;
use mf_tests::webhook::{batch, message};
use mf_tests::{
    Agent, CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TIMEOUT, TestApp, error_code,
    error_message, eventually, id_of, nodes, spawn_app,
};
use serde_json::{Value, json};

const ADD_NOTE: &str =
    "mutation($id: ID!, $text: String!) { addNote(conversationId: $id, text: $text) {
  id conversationId author { id name } text createdAt mentions { id name } } }";

const NOTES: &str = "query($id: ID!, $last: Int, $before: String) { conversation(id: $id) {
  notes(last: $last, before: $before) {
    edges { cursor node { id text author { id } mentions { id } } }
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } } }";

const MENTIONS: &str =
    "query($first: Int, $after: String) { mentions(first: $first, after: $after) {
  edges { cursor node { id conversationId text author { id } } }
  pageInfo { hasNextPage hasPreviousPage endCursor } } }";

const PAGE_EVENTS: &str =
    "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) {
  position kind note { id conversationId text author { id } mentions { id } position } } }";

/// A Page with a conversation whose window closed long ago (`T0`), and its agents: alice,
/// Sam Lee, and Sam's namesake Sam Ray; bob works on another Page.
struct Team {
    app: TestApp,
    alice: Agent,
    sam: Agent,
    sam_ray: Agent,
    bob: Agent,
    conversation: String,
    other_conversation: String,
}

async fn team() -> Team {
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-1", "hi", T0)]))
        .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(OTHER_PAGE, OTHER_CUSTOMER, "m-2", "hello", T0)],
    ))
    .await;
    let conversation = id_of(&app.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let other_conversation =
        id_of(&app.conversation_with(OTHER_PAGE, OTHER_CUSTOMER).await).to_owned();
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let sam = app
        .agent_on("sam@example.com", "Sam Lee", &[PAGE, OTHER_PAGE])
        .await;
    let sam_ray = app.agent_on("ray@example.com", "Sam Ray", &[PAGE]).await;
    let bob = app.agent_on("bob@example.com", "Bob", &[OTHER_PAGE]).await;
    Team {
        app,
        alice,
        sam,
        sam_ray,
        bob,
        conversation,
        other_conversation,
    }
}

impl Team {
    async fn add_note(&self, token: &str, conversation: &str, text: &str) -> Value {
        let data = self
            .app
            .gql_data_as(token, ADD_NOTE, json!({ "id": conversation, "text": text }))
            .await;
        data["addNote"].clone()
    }

    async fn notes(&self, token: &str, last: Option<i32>, before: Option<&str>) -> Value {
        let data = self
            .app
            .gql_data_as(
                token,
                NOTES,
                json!({ "id": self.conversation, "last": last, "before": before }),
            )
            .await;
        data["conversation"]["notes"].clone()
    }

    async fn mentions(&self, token: &str, first: Option<i32>, after: Option<&str>) -> Value {
        let data = self
            .app
            .gql_data_as(token, MENTIONS, json!({ "first": first, "after": after }))
            .await;
        data["mentions"].clone()
    }
}

fn texts(connection: &Value) -> Vec<String> {
    nodes(connection)
        .iter()
        .map(|n| n["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn ids(agents: &Value) -> Vec<String> {
    agents
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| id_of(a).to_owned())
        .collect()
}

#[tokio::test]
async fn a_note_is_stored_trimmed_with_its_author_even_after_the_window_closed() {
    // Arrange: the customer wrote at T0: the messaging window closed long ago.
    let team = team().await;
    let window = team
        .app
        .gql_data(
            "query($id: ID!) { conversation(id: $id) { humanAgentWindowExpiresAt } }",
            json!({ "id": team.conversation }),
        )
        .await;
    let closed_at = window["conversation"]["humanAgentWindowExpiresAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .expect("a window");
    assert!(closed_at < chrono::Utc::now(), "{window:#}");

    // Act
    let note = team
        .add_note(
            &team.alice.token,
            &team.conversation,
            "  \n Customer called, wants a refund.\n\tCheck the order.  \n",
        )
        .await;

    // Assert
    assert_eq!(note["conversationId"], team.conversation.as_str());
    assert_eq!(
        note["author"],
        json!({ "id": team.alice.id, "name": "Alice" })
    );
    assert_eq!(
        note["text"],
        "Customer called, wants a refund.\n\tCheck the order."
    );
    assert_eq!(note["mentions"], json!([]));
    let created = chrono::DateTime::parse_from_rfc3339(note["createdAt"].as_str().unwrap_or(""))
        .expect("createdAt is RFC 3339");
    let age = chrono::Utc::now().signed_duration_since(created);
    assert!(age.num_seconds().abs() < 60, "createdAt {created}");
    // Every agent of the Page reads it; it is not a message.
    let notes = team.notes(&team.sam.token, None, None).await;
    assert_eq!(
        texts(&notes),
        ["Customer called, wants a refund.\n\tCheck the order."]
    );
    assert_eq!(team.app.messages(&team.conversation).await.len(), 1);
    let conversation = team
        .app
        .gql_data(
            "query($id: ID!) { conversation(id: $id) { lastMessageText unreadCount } }",
            json!({ "id": team.conversation }),
        )
        .await;
    assert_eq!(
        conversation["conversation"],
        json!({ "lastMessageText": "hi", "unreadCount": 1 })
    );
}

#[tokio::test]
async fn a_note_never_reaches_facebook() {
    // Arrange: a connected Page in the simulator; the customer wrote just now.
    let world = connected_page().await;
    let (sim, app) = (&world.sim, &world.app);
    // Before the customer writes: createAgent reads before it writes, which SQLite
    // refuses (SQLITE_BUSY_SNAPSHOT) when a webhook commits in between.
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    sim.create_customer(PAGE, CUSTOMER, "Ada", "Lovelace").await;
    sim.customer_says(PAGE, CUSTOMER, "where is my parcel?", None)
        .await;
    let conversation = eventually(TIMEOUT, async || {
        let conversations = app.conversations(PAGE).await;
        conversations
            .first()
            .map(|c| id_of(c).to_owned())
            .ok_or("no conversation yet")
    })
    .await;

    // Act
    let added = app
        .gql_data_as(
            &alice.token,
            ADD_NOTE,
            json!({ "id": conversation, "text": "Parcel is lost, @Alice refund it" }),
        )
        .await;
    assert_eq!(added["addNote"]["text"], "Parcel is lost, @Alice refund it");
    // A reply after it, which does reach Facebook: the simulator's log is read.
    let reply = app
        .gql_data_as(
            &alice.token,
            "mutation($id: ID!) { sendMessage(input: { conversationId: $id, text: \"Sorry, refunding now\" }) { id } }",
            json!({ "id": conversation }),
        )
        .await;
    assert!(reply["sendMessage"]["id"].is_string(), "{reply:#}");

    // Assert: the simulator received the reply and nothing of the note.
    let sent = eventually(TIMEOUT, async || {
        let sent = sim.sent(PAGE).await;
        if sent.is_empty() {
            Err(format!("nothing sent yet: {sent:?}"))
        } else {
            Ok(sent)
        }
    })
    .await;
    let texts: Vec<&str> = sent.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["Sorry, refunding now"], "{sent:#?}");
    let everything = format!("{sent:?} {:?}", sim.sender_actions(PAGE).await);
    assert!(!everything.contains("Parcel is lost"), "{everything}");
}

#[tokio::test]
async fn notes_come_oldest_first_and_page_back_with_before() {
    // Arrange
    let team = team().await;
    for text in ["one", "two", "three"] {
        team.add_note(&team.alice.token, &team.conversation, text)
            .await;
    }

    // Act
    let newest = team.notes(&team.alice.token, Some(2), None).await;
    let before = newest["pageInfo"]["startCursor"].as_str().unwrap_or("");
    let oldest = team.notes(&team.alice.token, Some(2), Some(before)).await;

    // Assert
    assert_eq!(texts(&newest), ["two", "three"]);
    assert_eq!(newest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(texts(&oldest), ["one"]);
    assert_eq!(oldest["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(oldest["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn note_added_arrives_live_and_replays_after_a_position() {
    // Arrange: sam follows the Page.
    let team = team().await;
    let mut live = team
        .app
        .subscribe_as(&team.sam.token, PAGE_EVENTS, json!({ "p": PAGE }))
        .await;

    // Act
    let note = team
        .add_note(
            &team.alice.token,
            &team.conversation,
            "@Sam Lee have a look",
        )
        .await;

    // Assert: live, with its position; nothing else comes with it.
    let event = live.next(TIMEOUT).await.expect("NOTE_ADDED")["pageEvents"].clone();
    assert_eq!(event["kind"], "NOTE_ADDED", "{event:#}");
    assert_eq!(event["note"]["id"], note["id"]);
    assert_eq!(event["note"]["text"], "@Sam Lee have a look");
    assert_eq!(event["note"]["author"]["id"], team.alice.id.as_str());
    assert_eq!(ids(&event["note"]["mentions"]), [team.sam.id.as_str()]);
    assert_eq!(event["note"]["position"], event["position"]);
    live.expect_nothing(Duration::from_millis(300)).await;

    // ... and replayed from the position before it.
    let position: i64 = event["position"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("a position");
    let mut resumed = team
        .app
        .subscribe_as(
            &team.sam_ray.token,
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": (position - 1).to_string() }),
        )
        .await;
    let again = resumed.next(TIMEOUT).await.expect("the replayed note")["pageEvents"].clone();
    assert_eq!(again["kind"], "NOTE_ADDED");
    assert_eq!(again["position"], event["position"]);
    assert_eq!(again["note"]["text"], "@Sam Lee have a look");
}

#[tokio::test]
async fn only_agents_who_may_see_the_page_are_mentioned() {
    // Arrange: carol was on the Page and is deactivated.
    let team = team().await;
    let carol = team
        .app
        .agent_on("carol@example.com", "Carol", &[PAGE])
        .await;
    let deactivated = team
        .app
        .gql_data(
            "mutation($id: ID!) { deactivateAgent(id: $id) { active } }",
            json!({ "id": carol.id }),
        )
        .await;
    assert_eq!(deactivated["deactivateAgent"]["active"], false);

    // Act: the whole names, a shared first name, bob (another Page's), carol, an email
    // address, the author herself.
    let note = team
        .add_note(
            &team.alice.token,
            &team.conversation,
            "@sam ray and @Sam Lee, not @Sam; @Bob @Carol bob@example.com @Alice",
        )
        .await;

    // Assert
    assert_eq!(
        ids(&note["mentions"]),
        [team.sam_ray.id.as_str(), team.sam.id.as_str()]
    );
    let first_name = team
        .add_note(&team.bob.token, &team.other_conversation, "@Sam, yours")
        .await;
    // On B, Sam Lee is the only Sam.
    assert_eq!(ids(&first_name["mentions"]), [team.sam.id.as_str()]);
    let bobs = team.mentions(&team.bob.token, None, None).await;
    assert_eq!(nodes(&bobs), Vec::<Value>::new());
    let alices = team.mentions(&team.alice.token, None, None).await;
    assert_eq!(nodes(&alices), Vec::<Value>::new());
    let rays = team.mentions(&team.sam_ray.token, None, None).await;
    assert_eq!(
        texts(&rays),
        ["@sam ray and @Sam Lee, not @Sam; @Bob @Carol bob@example.com @Alice"]
    );
}

#[tokio::test]
async fn mentions_list_newest_first_with_cursors_on_the_pages_the_caller_may_see() {
    // Arrange: three notes mention sam on A, one on B; sam's integration sees only A.
    let team = team().await;
    for text in ["@Sam Lee 1", "@Sam Lee 2", "@Sam Lee 3"] {
        team.add_note(&team.alice.token, &team.conversation, text)
            .await;
    }
    team.add_note(&team.bob.token, &team.other_conversation, "@Sam on B")
        .await;
    team.add_note(&team.alice.token, &team.conversation, "no mention")
        .await;
    let token = team
        .app
        .create_api_token(&team.sam.token, "sam's integration", &[PAGE])
        .await;

    // Act
    let first = team.mentions(&team.sam.token, Some(2), None).await;
    let after = first["pageInfo"]["endCursor"].as_str().unwrap_or("");
    let rest = team.mentions(&team.sam.token, Some(2), Some(after)).await;
    let through_token = team.mentions(&token.token, Some(10), None).await;

    // Assert
    assert_eq!(texts(&first), ["@Sam on B", "@Sam Lee 3"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(texts(&rest), ["@Sam Lee 2", "@Sam Lee 1"]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    assert_eq!(rest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(
        nodes(&first)[0]["conversationId"],
        team.other_conversation.as_str()
    );
    assert_eq!(
        texts(&through_token),
        ["@Sam Lee 3", "@Sam Lee 2", "@Sam Lee 1"]
    );
    // Once sam leaves B, its mention there is gone from his list too.
    team.app.remove_page_member(OTHER_PAGE, &team.sam.id).await;
    let now = team.mentions(&team.sam.token, Some(10), None).await;
    assert_eq!(texts(&now), ["@Sam Lee 3", "@Sam Lee 2", "@Sam Lee 1"]);
}

#[tokio::test]
async fn a_note_through_an_api_token_is_its_creators_and_stays_on_its_pages() {
    // Arrange: sam's integration is limited to B.
    let team = team().await;
    let token = team
        .app
        .create_api_token(&team.sam.token, "sam's B integration", &[OTHER_PAGE])
        .await;

    // Act
    let on_b = team
        .add_note(&token.token, &team.other_conversation, "from the CRM")
        .await;
    let on_a = team
        .app
        .gql_as(
            Some(&token.token),
            ADD_NOTE,
            json!({ "id": team.conversation, "text": "from the CRM" }),
        )
        .await;

    // Assert
    assert_eq!(on_b["author"]["id"], team.sam.id.as_str());
    assert_eq!(error_code(&on_a), Some("NOT_FOUND"), "{on_a:#}");
    assert_eq!(
        error_message(&on_a),
        Some("conversation not found"),
        "{on_a:#}"
    );
    assert_eq!(
        nodes(&team.notes(&team.alice.token, None, None).await),
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn notes_added_while_customers_write_are_all_stored() {
    // Arrange: customers keep writing (each webhook a write transaction) while alice
    // adds notes that mention Sam.
    let team = team().await;
    let writing = async {
        for i in 0..40 {
            let psid = format!("29000000{i:02}");
            team.app
                .ingest(&batch(
                    PAGE,
                    [message(PAGE, &psid, &format!("w-{i}"), "hello", T0 + i)],
                ))
                .await;
        }
    };

    // Act
    let noting = async {
        let mut answers = Vec::new();
        for i in 0..40 {
            answers.push(
                team.app
                    .gql_as(
                        Some(&team.alice.token),
                        ADD_NOTE,
                        json!({ "id": team.conversation, "text": format!("@Sam Lee {i}") }),
                    )
                    .await,
            );
        }
        answers
    };
    let ((), answers) = tokio::join!(writing, noting);

    // Assert
    for answer in &answers {
        assert!(answer["errors"].is_null(), "{answer:#}");
    }
    let mentions = team.mentions(&team.sam.token, Some(100), None).await;
    assert_eq!(nodes(&mentions).len(), 40);
}
