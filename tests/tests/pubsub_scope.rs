//! Pub/Sub `scope(f)` on tokio: opens the client, runs `f` with it, and closes it (storing what
//! was committed), as the Streaming API's client does.

mod pubsub_common;

use std::sync::Arc;

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tokio::pubsub::{MemoryStore, PubSubClient, ReplayStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_opens_runs_and_closes() {
    let emulator = start(PubSubEmulator::builder()).await;
    let store = Arc::new(MemoryStore::new());
    let client = builder(&emulator).store(store.clone()).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    let published = emulator.control().publish_generated(ORDERS, 2).unwrap();
    let got = within(
        "scope",
        client.scope(async |c: &PubSubClient| receive_n(c, 2).await),
    )
    .await
    .expect("opened and closed");
    assert_eq!(got.len(), 2);
    assert!(client.is_closed(), "closed after the scope");
    assert_eq!(
        store.load_topics().unwrap().get(ORDERS).map(Vec::as_slice),
        Some(&published[1].to_bytes()[..]),
        "the automatic commits were stored by the close"
    );
    emulator.shutdown().await;
}
