//! Pub/Sub watchdog on tokio: a stream that goes silent (no event, no keepalive, never closed:
//! a half-open connection) is cancelled after the watchdog and opened again after the last event
//! received (the runtime sets its connection aside first); nothing is lost.

mod pubsub_common;

use std::time::Duration;

use pubsub_common::*;
use sfstream_emulator_pubsub::{Fault, FaultTarget, PubSubEmulator};
use sfstream_tokio::pubsub::PubSubEvent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_is_reopened_and_loses_nothing() {
    let emulator = start(
        PubSubEmulator::builder()
            .keepalive(Duration::from_millis(100))
            .max_events_per_response(10),
    )
    .await;
    let client = builder(&emulator)
        .watchdog(Some(Duration::from_millis(600)))
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();
    let first = emulator.control().publish_generated(ORDERS, 20).unwrap();
    let mut received = receive_n(&client, 20).await;

    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::Stall);
    let rest = emulator.control().publish_generated(ORDERS, 30).unwrap();
    received.extend(receive_n(&client, 30).await);

    let got: Vec<Vec<u8>> = received
        .iter()
        .map(|m| m.replay_id().as_bytes().to_vec())
        .collect();
    let want: Vec<Vec<u8>> = first
        .iter()
        .chain(&rest)
        .map(|id| id.to_bytes().to_vec())
        .collect();
    assert_eq!(got, want, "every event once, in order");
    let fired = client
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, PubSubEvent::WatchdogFired { .. }))
        .count();
    assert_eq!(fired, 1, "the watchdog fired once");
    assert_eq!(client.stats().watchdog_fired, 1);
    assert_eq!(emulator.control().stats().faults.get("stall"), Some(&1));
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}
