//! Where `Subscribe` starts: `LATEST` only events published after the call starts, `EARLIEST`
//! from the oldest retained event, `CUSTOM` strictly after the given id; start and replay id are
//! read from the first request only.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::ReplayPreset;

const T: &str = "/event/Order__e";

fn ids(events: &[sfstream_emulator_pubsub::proto::ConsumerEvent]) -> Vec<u64> {
    events.iter().map(|e| replay_u64(&e.replay_id)).collect()
}

#[tokio::test]
async fn latest_delivers_only_events_published_after_the_call_starts() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    control.publish_generated(T, 3).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 10),
    )
    .await
    .unwrap();
    // Let the first request arrive before publishing.
    sub.assert_quiet(Duration::from_millis(100)).await;
    let after = control.publish_generated(T, 2).unwrap();
    let got = events(&mut sub, 2).await;
    assert_eq!(ids(&got), vec![after[0].0, after[1].0]);
}

#[tokio::test]
async fn earliest_starts_at_the_oldest_retained_event() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let published = emulator.control().publish_generated(T, 4).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 10),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 4).await;
    assert_eq!(ids(&got), published.iter().map(|r| r.0).collect::<Vec<_>>());
}

#[tokio::test]
async fn custom_resumes_strictly_after_the_given_id() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let published = emulator.control().publish_generated(T, 5).unwrap();
    let from = published[1].to_bytes();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&from), 10),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 3).await;
    assert_eq!(
        ids(&got),
        published[2..].iter().map(|r| r.0).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn later_requests_cannot_move_the_start() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 3).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 1),
    )
    .await
    .unwrap();
    sub.assert_quiet(Duration::from_millis(100)).await;
    // A later request asking for EARLIEST (same topic) only adds credits.
    sub.send(fetch(T, ReplayPreset::Earliest, None, 1)).await;
    sub.send(fetch(
        T,
        ReplayPreset::Custom,
        Some(&published[0].to_bytes()),
        1,
    ))
    .await;
    sub.assert_quiet(Duration::from_millis(100)).await;
    let new = control.publish(T, json!({})).unwrap();
    let response = sub.message().await;
    assert_eq!(ids(&response.events), vec![new.0]);
    assert_eq!(
        response.pending_num_requested, 2,
        "credits of the later requests added up"
    );
}
