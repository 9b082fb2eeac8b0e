//! Pub/Sub keepalives on tokio: a keepalive's `latest_replay_id` becomes the stored position
//! when nothing is pending (a quiet topic does not fall out of the retention window), and never
//! while an earlier event is received but not committed.

mod pubsub_common;

use std::time::Duration;

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tokio::pubsub::{
    CommitPolicy, MemoryStore, PubSubClient, PubSubReplayFrom, ReplayStore,
};

async fn keepalives_after(client: &PubSubClient, n: u64) {
    within("keepalives", async {
        while client.stats().keepalives < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keepalive_position_is_stored_when_nothing_is_pending() {
    let emulator = start(PubSubEmulator::builder().keepalive(Duration::from_millis(200))).await;
    let published = emulator.control().publish_generated(ORDERS, 3).unwrap();
    let store = std::sync::Arc::new(MemoryStore::new());
    let client = builder(&emulator)
        .replay(PubSubReplayFrom::Latest)
        .store(store.clone())
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();
    keepalives_after(&client, 1).await;
    assert_eq!(
        client.stats().events_received,
        0,
        "LATEST: nothing replayed"
    );
    within("close", client.close()).await.unwrap();
    assert_eq!(
        store.load_topics().unwrap().get(ORDERS).map(Vec::as_slice),
        Some(&published[2].to_bytes()[..]),
        "the keepalive's position is stored"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keepalive_waits_for_the_pending_event_to_be_committed() {
    let emulator = start(PubSubEmulator::builder().keepalive(Duration::from_millis(200))).await;
    let client = builder(&emulator)
        .replay(PubSubReplayFrom::Latest)
        .commit(CommitPolicy::Manual)
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();
    let id = emulator.control().publish_generated(ORDERS, 1).unwrap()[0];
    let event = within("the event", client.receive()).await.unwrap();
    assert_eq!(event.replay_id().as_bytes(), &id.to_bytes()[..]);
    let seen = client.stats().keepalives;
    keepalives_after(&client, seen + 2).await;
    assert_eq!(
        client.committed(ORDERS),
        None,
        "the event is not committed, so no keepalive position is either"
    );
    assert!(client.commit(&event).unwrap());
    let committed = client.committed(ORDERS).expect("a committed position");
    assert!(
        committed.as_u64() >= Some(u64::from_be_bytes(id.to_bytes())),
        "{committed:?}"
    );
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}
