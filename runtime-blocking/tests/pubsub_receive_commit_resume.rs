//! Pub/Sub on the blocking runtime: events published to the emulator are received once each, in
//! order, decoded; under the manual policy only what was committed reaches the store, and a new
//! client on that store resumes right after it, so every event is received once across the
//! restart.

mod pubsub_common;

use std::sync::Arc;

use pubsub_common::*;
use sfstream_blocking::pubsub::{CommitPolicy, MemoryStore, ReplayStore};
use sfstream_emulator_pubsub::PubSubEmulator;

#[test]
fn events_arrive_in_order_and_a_restart_resumes_after_the_last_commit() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    let store = Arc::new(MemoryStore::new());
    let client = builder(&emulator)
        .store(store.clone())
        .commit(CommitPolicy::Manual)
        .build()
        .unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    assert_eq!(client.topics(), [ORDERS]);

    let want = published(&emulator.control().publish_generated(ORDERS, 120).unwrap());
    let first = receive_n(&client, 80);
    assert_eq!(ids(&first), want[..80], "the first 80, once each, in order");
    for m in &first {
        assert_eq!(m.topic(), ORDERS);
        assert!(m.decode_error().is_none(), "{:?}", m.decode_error());
        assert!(m.payload().is_object(), "decoded: {}", m.payload());
    }
    // Processed up to the 50th: only that is committed.
    assert!(client.commit(&first[49]).unwrap(), "the position moved");
    assert!(
        !client.commit(&first[10]).unwrap(),
        "an earlier event moves nothing"
    );
    assert_eq!(
        client.committed(ORDERS).map(|id| id.as_bytes().to_vec()),
        Some(want[49].clone())
    );
    client.close().unwrap();
    assert!(client.is_closed());
    assert_eq!(
        store.load_topics().unwrap().get(ORDERS),
        Some(&want[49]),
        "the store has the last committed id, not the last received"
    );

    // A new client on the store: the 51st onwards (the 30 received and not committed again).
    let restarted = builder(&emulator)
        .store(store.clone())
        .commit(CommitPolicy::Manual)
        .build()
        .unwrap();
    restarted.subscribe(ORDERS).unwrap();
    restarted.open().unwrap();
    let rest = receive_n(&restarted, 70);
    assert_eq!(ids(&rest), want[50..], "resumed right after the commit");
    assert!(
        restarted
            .receive_timeout(std::time::Duration::from_millis(300))
            .is_none(),
        "nothing more"
    );
    restarted.commit(&rest[69]).unwrap();
    restarted.close().unwrap();
    assert_eq!(store.load_topics().unwrap().get(ORDERS), Some(&want[119]));
}

#[test]
fn the_automatic_policy_stores_each_event_as_it_is_taken() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    let store = Arc::new(MemoryStore::new());
    let client = builder(&emulator).store(store.clone()).build().unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let want = published(&emulator.control().publish_generated(ORDERS, 5).unwrap());
    let got = receive_n(&client, 5);
    assert_eq!(ids(&got), want);
    assert_eq!(
        client.committed(ORDERS).map(|id| id.as_bytes().to_vec()),
        Some(want[4].clone()),
        "committed when taken"
    );
    assert!(
        !client.commit(&got[4]).unwrap(),
        "a commit of it again moves nothing"
    );
    client.close().unwrap();
    assert_eq!(store.load_topics().unwrap().get(ORDERS), Some(&want[4]));
}
