//! Pub/Sub replay fallback on tokio: a stored replay id the server rejects as corrupted is
//! replaced by the configured fallback once, reported as an event, and forgotten in the store;
//! without a fallback the topic fails and the client says why.

mod pubsub_common;

use pubsub_common::*;
use sfstream_emulator_pubsub::{Fault, FaultTarget, PubSubEmulator};
use sfstream_tokio::pubsub::{
    Error, MemoryStore, PubSubEvent, PubSubReplayFrom, ReplayFallback, ReplayId, ReplayStore,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_stored_id_falls_back_to_earliest_once_and_says_so() {
    let emulator = start(PubSubEmulator::builder()).await;
    let published = emulator.control().publish_generated(ORDERS, 5).unwrap();
    let store = std::sync::Arc::new(MemoryStore::new());
    let stale = published[2].to_bytes();
    store.save_topic(ORDERS, &stale).unwrap();
    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::CorruptedReplayId);

    let client = builder(&emulator)
        .store(store.clone())
        .replay_fallback(Some(ReplayFallback::All))
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();
    let fallback = within("the fallback event", async {
        loop {
            match client.next_event().await.expect("the session runs") {
                PubSubEvent::ReplayFallback {
                    topic,
                    rejected,
                    using,
                    ..
                } => return (topic, rejected, using),
                _ => continue,
            }
        }
    })
    .await;
    assert_eq!(fallback.0, ORDERS);
    assert_eq!(fallback.1, Some(ReplayId::from(&stale[..])));
    assert_eq!(fallback.2, PubSubReplayFrom::Earliest);
    // From the earliest: all five, the stored one's predecessors included.
    let events = receive_n(&client, 5).await;
    assert_eq!(
        events[0].replay_id().as_bytes(),
        &published[0].to_bytes()[..]
    );
    assert_eq!(client.stats().replay_fallbacks, 1);
    within("close", client.close()).await.unwrap();
    assert_eq!(
        store.load_topics().unwrap().get(ORDERS).map(Vec::as_slice),
        Some(&published[4].to_bytes()[..]),
        "the stale id is gone, the newest processed one stored"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_fallback_the_topic_fails() {
    let emulator = start(PubSubEmulator::builder()).await;
    let published = emulator.control().publish_generated(ORDERS, 2).unwrap();
    let store = MemoryStore::new();
    store.save_topic(ORDERS, &published[0].to_bytes()).unwrap();
    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::CorruptedReplayId);
    let client = builder(&emulator).store(store).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    // The server may accept the stream's head before it ends it with the refusal: then `open`
    // succeeds and `receive` reports the failed topic.
    let error = match within("open", client.open()).await {
        Err(e) => e,
        Ok(()) => within("the topic's failure", client.receive())
            .await
            .expect_err("no event: the topic failed"),
    };
    assert!(matches!(error, Error::Session(_)), "{error:?}");
    assert!(
        error.to_string().contains("replayid.corrupted"),
        "the error names the cause: {error}"
    );
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}
