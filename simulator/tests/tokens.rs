//! Page tokens as Graph reports them: `debug_token`, `/me/permissions`, and the 190
//! subcodes of expiry, password change, app removal and replacement.

mod common;

use common::{assert_graph_error, fast_config, spawn_sim};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `GET /debug_token?input_token=` with `access_token` as the caller.
async fn debug(sim: &common::TestSim, input: &str, caller: &str) -> (StatusCode, Value) {
    let url = format!(
        "{}/debug_token?input_token={input}&access_token={caller}",
        sim.handle.base_url()
    );
    sim.get_url(&url).await
}

fn app_token() -> String {
    format!("{}|{}", simulator::config::DEFAULT_APP_ID, common::SECRET)
}

#[tokio::test]
async fn debug_token_describes_a_valid_page_token_with_its_scopes() {
    let sim = spawn_sim(fast_config()).await;

    let (status, body) = debug(&sim, &sim.token, &app_token()).await;
    let (self_status, self_body) = debug(&sim, &sim.token, &sim.token).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["is_valid"], true, "{body}");
    assert_eq!(data["type"], "PAGE");
    assert_eq!(data["profile_id"], sim.page_id.as_str());
    assert_eq!(data["expires_at"], 0, "a Page token does not expire");
    assert_eq!(
        data["scopes"],
        json!([
            "pages_show_list",
            "pages_messaging",
            "pages_manage_metadata",
            "pages_read_engagement"
        ])
    );
    assert!(data.get("error").is_none(), "{body}");
    assert_eq!(self_status, StatusCode::OK);
    assert_eq!(self_body["data"]["is_valid"], true);
}

#[tokio::test]
async fn each_invalidation_answers_190_with_its_subcode_and_debug_token_says_why() {
    let sim = spawn_sim(fast_config()).await;
    let page = sim.page_id.clone();
    let cases = [
        (json!({"reason": "password_changed"}), 460),
        (json!({"reason": "app_removed"}), 458),
    ];
    for (reason, subcode) in cases {
        let fresh = sim
            .control(Method::POST, &format!("/pages/{page}/token"), json!({}))
            .await;
        let token = fresh["access_token"].as_str().unwrap().to_owned();
        sim.control(Method::POST, &format!("/pages/{page}/revoke"), reason)
            .await;

        let (status, body) = sim
            .send_with(&token, json!({"recipient": {"id": "1"}}))
            .await;
        let (_, debugged) = debug(&sim, &token, &app_token()).await;

        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_graph_error(&body, 190, Some(subcode));
        assert_eq!(debugged["data"]["is_valid"], false, "{debugged}");
        assert_eq!(debugged["data"]["error"]["subcode"], subcode, "{debugged}");
    }
}

#[tokio::test]
async fn a_new_token_revokes_the_old_one_and_an_expired_token_answers_463() {
    let sim = spawn_sim(fast_config()).await;
    let page = sim.page_id.clone();
    let old = sim.token.clone();

    let fresh = sim
        .control(Method::POST, &format!("/pages/{page}/token"), json!({}))
        .await;
    let new = fresh["access_token"].as_str().unwrap().to_owned();
    let (old_status, old_body) = sim.send_with(&old, json!({"recipient": {"id": "1"}})).await;
    sim.control(
        Method::POST,
        &format!("/pages/{page}/token/expire"),
        json!({}),
    )
    .await;
    let (_, expired) = sim.send_with(&new, json!({"recipient": {"id": "1"}})).await;
    let (_, debugged) = debug(&sim, &new, &app_token()).await;
    let (self_status, self_debugged) = debug(&sim, &new, &new).await;

    assert_eq!(old_status, StatusCode::BAD_REQUEST);
    assert_graph_error(&old_body, 190, Some(466));
    assert_graph_error(&expired, 190, Some(463));
    assert_eq!(debugged["data"]["is_valid"], false);
    assert_eq!(debugged["data"]["error"]["subcode"], 463);
    assert!(debugged["data"]["expires_at"].as_i64().unwrap() > 0);
    assert_eq!(
        self_status,
        StatusCode::BAD_REQUEST,
        "an expired caller is refused"
    );
    assert_graph_error(&self_debugged, 190, Some(463));
}

#[tokio::test]
async fn an_unknown_input_token_is_invalid_and_the_caller_needs_a_token() {
    let sim = spawn_sim(fast_config()).await;

    let (status, body) = debug(&sim, "EAAGnot-a-token", &app_token()).await;
    let (bad_caller, bad_body) = debug(&sim, &sim.token, "1|wrong").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["is_valid"], false);
    assert_eq!(body["data"]["scopes"], json!([]));
    assert_eq!(body["data"]["error"]["code"], 190);
    assert_eq!(bad_caller, StatusCode::BAD_REQUEST);
    assert_graph_error(&bad_body, 190, None);
}

#[tokio::test]
async fn me_permissions_lists_granted_and_declined_as_the_admin_set_them() {
    let sim = spawn_sim(fast_config()).await;
    let page = sim.page_id.clone();

    let before = sim.graph_get("/me/permissions").await;
    sim.control(
        Method::PUT,
        &format!("/pages/{page}/permissions"),
        json!({"granted": ["pages_messaging"], "declined": ["pages_manage_metadata"]}),
    )
    .await;
    let (status, after) = sim.graph_get("/me/permissions").await;
    let (_, debugged) = debug(&sim, &sim.token, &app_token()).await;

    assert_eq!(
        before.1["data"].as_array().unwrap().len(),
        4,
        "{}",
        before.1
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        after["data"],
        json!([
            {"permission": "pages_messaging", "status": "granted"},
            {"permission": "pages_manage_metadata", "status": "declined"},
        ])
    );
    assert_eq!(debugged["data"]["scopes"], json!(["pages_messaging"]));
}

#[tokio::test]
async fn without_pages_messaging_the_send_api_answers_230_and_without_metadata_subscribing_200() {
    let sim = spawn_sim(fast_config()).await;
    let page = sim.page_id.clone();
    sim.control(
        Method::PUT,
        &format!("/pages/{page}/permissions"),
        json!({"granted": ["pages_read_engagement"]}),
    )
    .await;

    let (status, sent) = sim.send(common::text_message("1", "hello")).await;
    let url = format!(
        "{}/{page}/subscribed_apps?subscribed_fields=messages&access_token={}",
        sim.handle.base_url(),
        sim.token
    );
    let subscribing = sim.http.post(url).send().await.unwrap();
    let subscribe_status = subscribing.status().as_u16();
    let subscribed: Value = subscribing.json().await.unwrap();

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&sent, 230, None);
    assert_eq!(subscribe_status, 400);
    assert_graph_error(&subscribed, 200, None);
}
