//! Pub/Sub resume on tokio: a stream the server ends with `UNAVAILABLE` mid-way, or cuts after
//! counting events delivered that never reached the client, is opened again after the last
//! event received (`CUSTOM`), and every event arrives once, in order: none lost, none twice.

mod pubsub_common;

use pubsub_common::*;
use sfstream_emulator_pubsub::{Fault, FaultTarget, PubSubEmulator};

async fn resumes_after(fault: Fault) {
    let emulator = start(PubSubEmulator::builder().max_events_per_response(20)).await;
    let published = emulator.control().publish_generated(ORDERS, 300).unwrap();
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();

    let mut received = receive_n(&client, 50).await;
    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, fault.clone());
    received.extend(receive_n(&client, 250).await);
    let got: Vec<Vec<u8>> = received
        .iter()
        .map(|m| m.replay_id().as_bytes().to_vec())
        .collect();
    let want: Vec<Vec<u8>> = published.iter().map(|id| id.to_bytes().to_vec()).collect();
    assert_eq!(got, want, "after {fault:?}: every event once, in order");
    let stats = emulator.control().stats();
    assert_eq!(stats.faults.get(fault.name()), Some(&1), "{stats:?}");
    assert!(
        client.stats().streams_opened >= 2,
        "the stream was opened again: {:?}",
        client.stats()
    );
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_mid_stream_loses_nothing() {
    resumes_after(Fault::Unavailable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_after_delivery_loses_nothing() {
    resumes_after(Fault::CutAfterDelivery).await;
}
