//! Credit accounting: never more events than owed, requests add up, what is owed is capped at
//! 100, `pending_num_requested` is exact after every response, and one request may be answered
//! by several responses.

mod common;

use std::time::Duration;

use common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::ReplayPreset;

const T: &str = "/event/Order__e";

/// Reads event responses until `n` events came, checking each `pending_num_requested` against
/// the model; returns the new amount owed.
async fn take(sub: &mut Subscription, mut owed: i32, n: usize) -> i32 {
    let mut got = 0;
    while got < n {
        let r = sub.message().await;
        if r.events.is_empty() {
            continue;
        }
        let k = i32::try_from(r.events.len()).unwrap();
        assert!(k <= owed, "{k} events delivered while {owed} were owed");
        owed -= k;
        assert_eq!(r.pending_num_requested, owed);
        assert_eq!(r.latest_replay_id, r.events.last().unwrap().replay_id);
        got += r.events.len();
    }
    assert_eq!(got, n);
    owed
}

#[tokio::test]
async fn deliveries_follow_credits_exactly() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    control.publish_generated(T, 10).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 3),
    )
    .await
    .unwrap();
    assert_eq!(take(&mut sub, 3, 3).await, 0);
    sub.assert_quiet(Duration::from_millis(150)).await;
    // Credits for events that are there are answered at once.
    sub.send(more(4)).await;
    assert_eq!(take(&mut sub, 4, 4).await, 0);
    sub.send(more(3)).await;
    assert_eq!(take(&mut sub, 3, 3).await, 0);
    // Credits add up while nothing is deliverable: 2 + 5.
    sub.send(more(2)).await;
    sub.send(more(5)).await;
    sub.assert_quiet(Duration::from_millis(150)).await;
    control.publish_generated(T, 20).unwrap();
    assert_eq!(take(&mut sub, 7, 7).await, 0);
    sub.assert_quiet(Duration::from_millis(150)).await;
    assert_eq!(control.stats().totals.delivered, 3 + 4 + 3 + 7);
    assert_eq!(control.stats().topics[T].most_owed, 7, "2 + 5 owed at once");
}

#[tokio::test]
async fn outstanding_credit_is_capped_at_100() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 80),
    )
    .await
    .unwrap();
    sub.send(more(80)).await;
    sub.send(more(1000)).await;
    sub.assert_quiet(Duration::from_millis(150)).await;
    control.publish_generated(T, 150).unwrap();
    let owed = take(&mut sub, 100, 100).await;
    assert_eq!(owed, 0);
    sub.assert_quiet(Duration::from_millis(150)).await;
    assert_eq!(control.stats().totals.delivered, 100);
    assert_eq!(
        control.stats().totals.credits_requested,
        1160,
        "requested before the cap"
    );
    assert_eq!(
        control.stats().topics[T].most_owed,
        100 + 1000,
        "the most owed, before the cap"
    );
}

#[tokio::test]
async fn one_request_may_be_answered_by_several_responses() {
    let (emulator, mut client) = start(PubSubEmulator::builder().max_events_per_response(4)).await;
    emulator.control().publish_generated(T, 10).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 10),
    )
    .await
    .unwrap();
    let sizes: Vec<(usize, i32)> = {
        let mut v = Vec::new();
        while v.iter().map(|(n, _)| n).sum::<usize>() < 10 {
            let r = sub.message().await;
            v.push((r.events.len(), r.pending_num_requested));
        }
        v
    };
    assert_eq!(sizes, vec![(4, 6), (4, 2), (2, 0)]);
}

#[tokio::test]
async fn large_events_split_responses_by_size() {
    let (emulator, mut client) = start(PubSubEmulator::builder().max_response_bytes(2500)).await;
    let control = emulator.control();
    let big = "x".repeat(1000);
    control
        .publish_many(
            T,
            (0..5).map(|_| serde_json::json!({ "OrderNumber__c": big })),
        )
        .unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 5),
    )
    .await
    .unwrap();
    let first = sub.message().await;
    assert_eq!(
        first.events.len(),
        2,
        "two ~1 KB events fit in 2,500 bytes, three do not"
    );
    assert_eq!(first.pending_num_requested, 3);
}
