//! Pub/Sub flow control on tokio: with 1,000 events waiting and a slow consumer, the client
//! never has more than 100 events requested and not yet taken (the server's count agrees), asks
//! for more as events are taken, and receives every event once, in order.

mod pubsub_common;

use std::time::Duration;

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_than_100_outstanding_with_a_slow_consumer() {
    let emulator = start(PubSubEmulator::builder()).await;
    let published = emulator.control().publish_generated(ORDERS, 1000).unwrap();
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();

    let mut received = Vec::with_capacity(1000);
    let mut most_held = 0;
    while received.len() < 1000 {
        let m = within("the next event", client.receive()).await.unwrap();
        received.push(m.replay_id().as_bytes().to_vec());
        // Requested from the server and not yet received, plus received and not yet taken.
        let held = client.outstanding(ORDERS).unwrap_or(0) as usize + client.pending();
        most_held = most_held.max(held);
        assert!(
            held <= 100,
            "{held} events held or owed after {}",
            received.len()
        );
        let stats = emulator.control().stats();
        let server = &stats.topics[ORDERS];
        let owed = server.credits_requested - server.delivered;
        assert!(owed <= 100, "the server owes {owed} events");
        if received.len() % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let want: Vec<Vec<u8>> = published.iter().map(|id| id.to_bytes().to_vec()).collect();
    assert_eq!(received, want, "every event once, in order");
    assert!(most_held > 0);
    let stats = client.stats();
    assert!(
        stats.fetch_requests >= 10,
        "credit is topped up as events are taken: {} fetch requests",
        stats.fetch_requests
    );
    assert!(stats.credits_requested <= 1000 + 100, "{stats:?}");
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smaller_max_pending_bounds_the_credit() {
    let emulator = start(PubSubEmulator::builder()).await;
    emulator.control().publish_generated(ORDERS, 200).unwrap();
    let client = builder(&emulator).max_pending(10).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();
    let first = within("the first event", client.receive()).await.unwrap();
    // Let the server deliver all it was asked for, then look.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let held = client.outstanding(ORDERS).unwrap_or(0) as usize + client.pending();
    assert!(held <= 10, "{held} held or owed with max_pending 10");
    let stats = emulator.control().stats();
    assert!(
        stats.topics[ORDERS].delivered <= 11,
        "{:?}",
        stats.topics[ORDERS]
    );
    let rest = receive_n(&client, 199).await;
    assert_ne!(first.replay_id(), rest[0].replay_id());
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}
