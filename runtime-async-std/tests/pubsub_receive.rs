//! Pub/Sub on async-io over loopback h2c: events published to the emulator are received once
//! each, in order, decoded, and committed to the store as byte replay ids, under smol's and
//! async-std's `block_on` alike.
#![cfg(feature = "pubsub")]

mod pubsub_common;

use std::sync::Arc;

use pubsub_common::*;
use sfstream_async_std::pubsub::{CommitPolicy, MemoryStore, ReplayStore};
use sfstream_emulator_pubsub::PubSubEmulator;

/// Receives the events published, in order, commits the 30th, and checks the store has it.
async fn receive_in_order_and_commit(emulator: &Emulator) {
    let store = Arc::new(MemoryStore::new());
    let client = builder(emulator)
        .store(store.clone())
        .commit(CommitPolicy::Manual)
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();

    let published = emulator.control().publish_generated(ORDERS, 120).unwrap();
    let received = receive_n(&client, 120).await;
    let got: Vec<Vec<u8>> = received
        .iter()
        .map(|m| m.replay_id().as_bytes().to_vec())
        .collect();
    let want: Vec<Vec<u8>> = published.iter().map(|id| id.to_bytes().to_vec()).collect();
    assert_eq!(got, want, "every event once, in the order published");
    for m in &received {
        assert_eq!(m.topic(), ORDERS);
        assert!(m.decode_error().is_none(), "{:?}", m.decode_error());
        assert!(m.payload().is_object(), "decoded: {}", m.payload());
    }
    assert!(client.try_receive().is_none(), "nothing more");
    assert_eq!(client.committed(ORDERS), None, "nothing committed yet");

    assert!(client.commit(&received[29]).unwrap());
    assert_eq!(
        client.committed(ORDERS).as_ref(),
        Some(received[29].replay_id())
    );
    within("close", client.close()).await.unwrap();
    let stored = store.load_topics().unwrap();
    assert_eq!(
        stored.get(ORDERS).map(Vec::as_slice),
        Some(&published[29].to_bytes()[..]),
        "the committed event's replay id is stored, not the last received"
    );
}

#[test]
fn under_smol_events_arrive_in_order_and_the_commit_is_stored() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    smol::block_on(receive_in_order_and_commit(&emulator));
}

#[test]
fn under_async_std_events_arrive_in_order_and_the_commit_is_stored() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    async_std::task::block_on(receive_in_order_and_commit(&emulator));
}
