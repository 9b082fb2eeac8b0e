//! Pub/Sub statistics on tokio carry what the Streaming API's do: streams accepted and
//! reconnects (a stream the server cut and the client opened again), when the last event
//! arrived, and each topic's accepted and committed replay ids.

mod pubsub_common;

use std::time::Instant;

use pubsub_common::*;
use sfstream_emulator_pubsub::{Fault, FaultTarget, PubSubEmulator};
use sfstream_tokio::pubsub::CommitPolicy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_and_each_topics_positions_are_counted() {
    let emulator = start(PubSubEmulator::builder()).await;
    let client = builder(&emulator)
        .commit(CommitPolicy::Manual)
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    let before = client.stats();
    assert_eq!(before.last_event_at, None);
    assert_eq!(before.reconnects, 0);
    within("open", client.open()).await.unwrap();
    let opened_at = Instant::now();
    emulator.control().publish_generated(ORDERS, 5).unwrap();
    let mut events = receive_n(&client, 5).await;
    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::CutAfterDelivery);
    emulator.control().publish_generated(ORDERS, 5).unwrap();
    events.extend(receive_n(&client, 5).await);
    client.commit(&events[6]).unwrap();

    let stats = client.stats();
    assert_eq!(stats.streams_accepted, 2, "{stats:?}");
    assert_eq!(stats.reconnects, 1, "{stats:?}");
    assert!(
        stats.last_event_at.is_some_and(|at| at >= opened_at),
        "{stats:?}"
    );
    let orders = stats.topics.get(ORDERS).expect("the topic's positions");
    assert_eq!(orders.accepted.as_ref(), Some(events[9].replay_id()));
    assert_eq!(orders.committed.as_ref(), Some(events[6].replay_id()));
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}
