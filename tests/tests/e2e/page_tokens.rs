//! Token checks (issue 14, point 7): `connectPage` asks Facebook (`debug_token`, `/me`,
//! `/me/permissions`) and tells an expired token from an invalid one and from one short of a
//! permission, naming which, and stores nothing it refused. The api runs against the
//! simulator, which invalidates tokens as the documentation says (see simulator/README.md).
use mf_tests::sim::{SIM_SECRET, Simulator, spawn_app_on, spawn_app_on_with};
use mf_tests::{PAGE, TestApp, error_code};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

/// The simulator's app id (`graph-simulator --app-id`, default).
const SIM_APP_ID: &str = "1517776481860111";

const CONNECT: &str = "mutation($page: ID!, $token: String!) { \
     connectPage(pageId: $page, accessToken: $token) { id connected needsReconnect } }";

/// `connectPage` as the administrator; the whole response.
async fn connect(app: &TestApp, token: &str) -> Value {
    app.gql(CONNECT, json!({ "page": PAGE, "token": token }))
        .await
}

fn extensions(response: &Value) -> &Value {
    &response["errors"][0]["extensions"]
}

/// The Pages the api knows: none after a refusal.
async fn assert_nothing_stored(app: &TestApp) {
    let pages = app.page_ids().await;
    assert!(pages.is_empty(), "a refused token stored a Page: {pages:?}");
}

async fn world() -> (Simulator, TestApp, String) {
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    (sim, app, token)
}

#[tokio::test]
async fn a_valid_token_with_every_permission_connects() {
    // Arrange
    let (_sim, app, token) = world().await;

    // Act
    let response = connect(&app, &token).await;

    // Assert
    assert!(response.get("errors").is_none(), "{response:#}");
    assert_eq!(response["data"]["connectPage"]["connected"], true);
}

#[tokio::test]
async fn an_expired_token_is_token_expired() {
    // Arrange
    let (sim, app, token) = world().await;
    sim.expire_token(PAGE).await;

    // Act
    let response = connect(&app, &token).await;

    // Assert
    assert_eq!(error_code(&response), Some("TOKEN_EXPIRED"), "{response:#}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn an_expired_token_is_token_expired_also_with_fb_app_id_set() {
    // Arrange: with FB_APP_ID set, debug_token is asked with the app token.
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on_with(&sim, |config| {
        config.fb_app_id = Some(SIM_APP_ID.to_owned());
    })
    .await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    sim.expire_token(PAGE).await;

    // Act
    let response = connect(&app, &token).await;

    // Assert
    assert_eq!(error_code(&response), Some("TOKEN_EXPIRED"), "{response:#}");
    assert_nothing_stored(&app).await;
}

/// Each way a token stops working before its time, as its `extensions.reason`.
async fn assert_invalid(reason_in_sim: &str, reason: &str) {
    // Arrange
    let (sim, app, token) = world().await;
    sim.revoke_for(PAGE, reason_in_sim).await;

    // Act
    let response = connect(&app, &token).await;

    // Assert
    assert_eq!(error_code(&response), Some("TOKEN_INVALID"), "{response:#}");
    assert_eq!(extensions(&response)["reason"], reason, "{response:#}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_token_of_an_admin_who_changed_their_password_is_invalid() {
    assert_invalid("password_changed", "PASSWORD_CHANGED").await;
}

#[tokio::test]
async fn a_token_of_an_app_the_admin_removed_is_invalid() {
    assert_invalid("app_removed", "APP_REMOVED").await;
}

#[tokio::test]
async fn the_old_token_of_a_page_issued_a_new_one_is_invalid_and_the_new_one_connects() {
    // Arrange
    let (sim, app, old) = world().await;
    let new = sim.new_token(PAGE).await;

    // Act
    let refused = connect(&app, &old).await;
    let connected = connect(&app, &new).await;

    // Assert
    assert_eq!(error_code(&refused), Some("TOKEN_INVALID"), "{refused:#}");
    assert_eq!(extensions(&refused)["reason"], "INVALIDATED", "{refused:#}");
    assert!(connected.get("errors").is_none(), "{connected:#}");
}

#[tokio::test]
async fn a_token_facebook_never_issued_is_unrecognised() {
    // Arrange
    let (_sim, app, _token) = world().await;

    // Act
    let response = connect(&app, "EAAGnever-issued").await;

    // Assert
    assert_eq!(error_code(&response), Some("TOKEN_INVALID"), "{response:#}");
    assert_eq!(extensions(&response)["reason"], "UNRECOGNISED");
    assert_nothing_stored(&app).await;
}

/// A token whose grant lacks `missing` (declined when `declined`) is refused, naming it.
async fn assert_missing(missing: &str, declined: bool) {
    // Arrange
    let (sim, app, token) = world().await;
    let granted: Vec<&str> = [
        "pages_show_list",
        "pages_messaging",
        "pages_manage_metadata",
        "pages_read_engagement",
    ]
    .into_iter()
    .filter(|p| *p != missing)
    .collect();
    let refused: &[&str] = if declined { &[missing] } else { &[] };
    sim.set_permissions(PAGE, &granted, refused).await;

    // Act
    let response = connect(&app, &token).await;

    // Assert
    assert_eq!(
        error_code(&response),
        Some("MISSING_PERMISSIONS"),
        "{response:#}"
    );
    assert_eq!(
        extensions(&response)["missingPermissions"],
        json!([missing]),
        "{response:#}"
    );
    let message = response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains(missing), "{message}");
    assert_eq!(message.contains("(declined)"), declined, "{message}");
    assert_nothing_stored(&app).await;
    assert!(
        sim.subscribed_fields(PAGE).await.is_empty(),
        "subscribed anyway"
    );
}

#[tokio::test]
async fn a_token_without_pages_messaging_names_it() {
    assert_missing("pages_messaging", false).await;
}

#[tokio::test]
async fn a_token_whose_admin_declined_pages_manage_metadata_names_it_as_declined() {
    assert_missing("pages_manage_metadata", true).await;
}

#[tokio::test]
async fn a_token_without_pages_read_engagement_names_it() {
    assert_missing("pages_read_engagement", false).await;
}

#[tokio::test]
async fn reconnecting_with_a_refused_token_changes_nothing() {
    // Arrange: connected; then a second token, which the admin's password change kills.
    let (sim, app, token) = world().await;
    let first = connect(&app, &token).await;
    assert!(first.get("errors").is_none(), "{first:#}");
    let fresh = sim.new_token(PAGE).await;
    sim.revoke_for(PAGE, "password_changed").await;

    // Act
    let response = connect(&app, &fresh).await;

    // Assert: refused, and the Page keeps the token it was connected with.
    assert_eq!(error_code(&response), Some("TOKEN_INVALID"), "{response:#}");
    let stored = entity::page::Entity::find_by_id(PAGE.to_owned())
        .one(app.db())
        .await
        .expect("reading the page")
        .expect("the page is still there");
    assert_eq!(stored.access_token.as_deref(), Some(token.as_str()));
    assert!(!stored.needs_reconnect);
}
