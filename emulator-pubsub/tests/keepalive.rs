//! Keepalives: when nothing is deliverable the server sends an empty `FetchResponse` at the
//! configured interval with the right `latest_replay_id` and `pending_num_requested`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::ReplayPreset;

const T: &str = "/event/Order__e";

#[tokio::test]
async fn empty_responses_carry_the_position_and_what_is_owed() {
    let keepalive = Duration::from_millis(200);
    let (emulator, mut client) = start(PubSubEmulator::builder().keepalive(keepalive)).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 2).unwrap();
    let started = Instant::now();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 7),
    )
    .await
    .unwrap();
    let first = sub.message().await;
    assert!(first.events.is_empty());
    assert!(
        started.elapsed() >= keepalive - Duration::from_millis(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        first.latest_replay_id.as_ref(),
        &published[1].to_bytes(),
        "LATEST sits at the tip"
    );
    assert_eq!(first.pending_num_requested, 7);
    assert!(!first.rpc_id.is_empty());
    // After a delivery, keepalives report the delivered position.
    let new = control.publish_generated(T, 1).unwrap();
    let with_event = sub.message().await;
    assert_eq!(with_event.events.len(), 1);
    let next = sub.message().await;
    assert!(next.events.is_empty());
    assert_eq!(next.latest_replay_id.as_ref(), &new[0].to_bytes());
    assert_eq!(next.pending_num_requested, 6);
    let stats = control.stats();
    assert!(stats.totals.keepalives >= 2);
}

#[tokio::test]
async fn without_credit_a_keepalive_does_not_run_ahead_of_undelivered_events() {
    let (emulator, mut client) =
        start(PubSubEmulator::builder().keepalive(Duration::from_millis(150))).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 3).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&published[0].to_bytes()), 1),
    )
    .await
    .unwrap();
    let got = sub.message().await;
    assert_eq!(replay_u64(&got.events[0].replay_id), published[1].0);
    let keepalive = sub.message().await;
    assert!(keepalive.events.is_empty());
    assert_eq!(keepalive.pending_num_requested, 0);
    // Event 3 waits for credit: persisting a later position would skip it.
    assert_eq!(
        keepalive.latest_replay_id.as_ref(),
        &published[1].to_bytes()
    );
}
