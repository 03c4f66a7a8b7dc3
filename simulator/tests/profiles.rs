//! The User Profile API, `/me`, and Page subscriptions.

mod common;

use common::{assert_graph_error, fast_config, spawn_sim};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_profile_answers_names_and_picture() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim
        .customer(json!({"first_name": "Åsa", "last_name": "Lindqvist", "profile_pic": "https://pics.example/a.jpg"}))
        .await;

    let (status, body) = sim
        .graph_get(&format!("/{psid}?fields=first_name,last_name,profile_pic"))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"first_name": "Åsa", "last_name": "Lindqvist", "profile_pic": "https://pics.example/a.jpg", "id": psid})
    );
}

#[tokio::test]
async fn a_customer_without_profile_gives_subcode_2018218() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({"has_profile": false})).await;

    let (status, body) = sim
        .graph_get(&format!("/{psid}?fields=first_name,last_name,profile_pic"))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, Some(2_018_218));
}

#[tokio::test]
async fn me_is_the_page_of_the_token_until_it_is_revoked() {
    let sim = spawn_sim(fast_config()).await;

    let (status, body) = sim.graph_get("/me?fields=id,name").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": sim.page_id, "name": "Nordlicht Outdoor"})
    );

    sim.control(
        Method::POST,
        &format!("/pages/{}/revoke", sim.page_id),
        json!({}),
    )
    .await;
    let (status, body) = sim.graph_get("/me?fields=id,name").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 190, Some(460));

    let reissued = sim
        .control(
            Method::POST,
            &format!("/pages/{}/token", sim.page_id),
            json!({}),
        )
        .await;
    let url = format!(
        "{}/me?fields=id&access_token={}",
        sim.handle.base_url(),
        reissued["access_token"].as_str().unwrap()
    );
    assert_eq!(
        sim.get_url(&url).await.0,
        StatusCode::OK,
        "a new token works again"
    );
}

#[tokio::test]
async fn subscribed_apps_records_and_lists_the_fields() {
    let sim = spawn_sim(fast_config()).await;

    sim.subscribe_all().await;
    let (status, body) = sim
        .graph_get(&format!("/{}/subscribed_apps", sim.page_id))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"][0]["subscribed_fields"],
        json!([
            "messages",
            "message_echoes",
            "message_deliveries",
            "message_reads"
        ])
    );
    let bad = format!(
        "{}/{}/subscribed_apps?subscribed_fields=messages,gossip&access_token={}",
        sim.handle.base_url(),
        sim.page_id,
        sim.token
    );
    let body: serde_json::Value = sim
        .http
        .post(bad)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_graph_error(&body, 100, None);
}

#[tokio::test]
async fn any_version_prefix_and_the_bearer_header_are_accepted() {
    let sim = spawn_sim(fast_config()).await;
    let url = format!("http://{}/v23.0/me?fields=id", sim.handle.addr());

    let response = sim
        .http
        .get(url)
        .bearer_auth(&sim.token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["facebook-api-version"], "v23.0");
    let missing = sim
        .http
        .get(format!("http://{}/v25.0/me", sim.handle.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_graph_error(&missing.json().await.unwrap(), 104, None);
}

#[tokio::test]
async fn a_default_profile_picture_is_served_by_the_simulator_itself() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim
        .customer(json!({"first_name": "Åsa", "last_name": "Lindqvist"}))
        .await;
    let (_, profile) = sim.graph_get(&format!("/{psid}?fields=profile_pic")).await;
    let url = profile["profile_pic"].as_str().unwrap().to_owned();

    let response = sim.http.get(&url).send().await.unwrap();

    assert_eq!(
        url,
        format!("http://{}/_sim/pictures/{psid}.svg", sim.handle.addr())
    );
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "image/svg+xml"
    );
    let svg = response.text().await.unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains(">ÅL</text>"),
        "{svg}"
    );
}

#[tokio::test]
async fn a_picture_of_nobody_is_not_found() {
    let sim = spawn_sim(fast_config()).await;

    let response = sim
        .http
        .get(format!(
            "http://{}/_sim/pictures/999999.svg",
            sim.handle.addr()
        ))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
