//! The `graph-simulator` binary's contract with a launcher: JSON lines on stdout.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn demo_mode_prints_the_address_then_the_demo_page() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_graph-simulator"))
        .args([
            "--port",
            "0",
            "--demo",
            "--demo-history",
            "3",
            "--app-secret",
            "s3cret",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    };

    let listening = next_line().await;
    let demo = next_line().await;

    let addr = listening["listening"].as_str().unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{listening}");
    let page = &demo["demo_page"];
    assert_eq!(page["customers"].as_array().unwrap().len(), 5);
    let url = format!(
        "http://{addr}/v25.0/me?fields=id,name&access_token={}",
        page["access_token"].as_str().unwrap()
    );
    let me: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(me["id"], page["id"]);
    assert_eq!(me["name"], "Nordlicht Outdoor");
    child.kill().await.unwrap();
}
