//! `loadgen resume`: what a reconnecting subscriber costs. The subscriber saw the Page up
//! to a position, then `missed` customer messages were stored; each run opens a
//! WebSocket, subscribes to `pageEvents` with `after` set to that position, and times
//! until the last missed message has arrived (connection and subscribe included).
use std::time::Instant;

use anyhow::bail;
use futures::StreamExt;
use serde_json::json;

use crate::server::Target;
use crate::stats::Summary;
use crate::{PAGE, envelope, graph, message_event, ws};

pub async fn resume(target: &Target, missed: usize, runs: usize) -> anyhow::Result<()> {
    target
        .post_webhook(envelope(vec![message_event(
            0,
            "resume-warmup",
            "warmup",
            api::time::now_ms(),
        )]))
        .await?;
    let token = target.login().await?;
    let page = graph::gql(
        target,
        Some(&token),
        "{ pages { id eventPosition } }",
        json!({}),
    )
    .await?;
    let Some(after) = page["pages"]
        .as_array()
        .and_then(|pages| pages.iter().find(|p| p["id"] == PAGE))
        .and_then(|p| p["eventPosition"].as_str())
        .map(str::to_owned)
    else {
        bail!("the Page has no eventPosition: {page}");
    };

    // What the subscriber misses: one message per POST, as Facebook delivers them, from
    // 50 customers (so each brings its conversation's update too).
    for i in 0..missed {
        let body = envelope(vec![message_event(
            1 + i % 50,
            &format!("resume-{i}"),
            &format!("missed {i}"),
            api::time::now_ms(),
        )]);
        target.post_webhook(body).await?;
    }

    let query = format!(
        r#"subscription {{ pageEvents(pageId: "{PAGE}", after: "{after}") {{ position kind message {{ mid text }} conversation {{ id lastMessageText }} }} }}"#
    );
    let mut samples = Vec::with_capacity(runs);
    let mut entries = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let subscriber = ws::Subscriber::connect(&target.ws_url(), &token, &query).await?;
        let mut stream = subscriber.into_stream();
        let (mut messages, mut items) = (0, 0);
        while messages < missed {
            let Some(item) = stream.next().await else {
                bail!("the subscription ended after {messages} of {missed} messages");
            };
            let item = item?;
            items += 1;
            if item["pageEvents"]["kind"] == "MESSAGE_ADDED" {
                messages += 1;
            }
        }
        samples.push(started.elapsed().as_nanos() as u64);
        entries = items;
    }
    let summary = Summary::of(&mut samples);
    println!(
        "resume: {missed} missed messages ({entries} log entries replayed up to the last), {runs} runs"
    );
    println!("connect + subscribe + replay {summary}");
    Ok(())
}
