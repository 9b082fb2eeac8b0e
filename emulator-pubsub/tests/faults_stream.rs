//! Faults on subscription streams: `UNAVAILABLE` mid-stream, a cut after events were counted
//! delivered (gone for that stream, back by replay id), a silent stall, delivery-limit
//! exhaustion; each counted in the statistics.

mod common;

use std::time::Duration;

use common::*;
use sfstream_emulator_pubsub::proto::ReplayPreset;
use sfstream_emulator_pubsub::{DELIVERY_LIMIT_MESSAGE, Fault, FaultTarget, PubSubEmulator};
use tonic::Code;

const T: &str = "/event/Order__e";

#[tokio::test]
async fn unavailable_ends_the_stream_before_the_next_response() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 2).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 1),
    )
    .await
    .unwrap();
    events(&mut sub, 1).await;
    control.fail_next(1, Fault::Unavailable);
    sub.send(more(1)).await;
    let status = sub.error().await;
    assert_eq!(status.code(), Code::Unavailable);
    assert!(error_code(&status).is_none());
    // The undelivered event comes on resume.
    let mut again = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&published[0].to_bytes()), 5),
    )
    .await
    .unwrap();
    assert_eq!(
        replay_u64(&events(&mut again, 1).await[0].replay_id),
        published[1].0
    );
}

#[tokio::test]
async fn events_cut_after_delivery_are_gone_for_that_stream_only() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 5).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 2),
    )
    .await
    .unwrap();
    let seen = events(&mut sub, 2).await;
    control.fail_next_on(FaultTarget::Subscribe, 1, Fault::CutAfterDelivery);
    sub.send(more(3)).await;
    let status = sub.error().await;
    assert_eq!(status.code(), Code::Unavailable);
    let stats = control.stats();
    assert_eq!(
        stats.totals.delivered, 5,
        "the cut events were counted delivered"
    );
    assert_eq!(stats.faults.get("cut_after_delivery"), Some(&1));
    // Resuming after the last event the client saw brings the cut ones.
    let mut again = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&seen[1].replay_id), 5),
    )
    .await
    .unwrap();
    let got = events(&mut again, 3).await;
    let ids: Vec<u64> = got.iter().map(|e| replay_u64(&e.replay_id)).collect();
    assert_eq!(ids, published[2..].iter().map(|r| r.0).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stalled_stream_sends_nothing_and_stays_open() {
    let (emulator, mut client) = start(
        PubSubEmulator::builder()
            .keepalive(Duration::from_millis(100))
            .idle_timeout(Duration::from_millis(100)),
    )
    .await;
    let control = emulator.control();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 5),
    )
    .await
    .unwrap();
    assert!(
        sub.message().await.events.is_empty(),
        "keepalives flow before the stall"
    );
    control.fail_next(1, Fault::Stall);
    control.publish_generated(T, 3).unwrap();
    // No events, no keepalives, no end: well past several keepalive and idle periods.
    sub.assert_quiet(Duration::from_millis(700)).await;
    assert_eq!(control.stats().totals.subscribe_streams_open, 1);
    drop(sub);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        control.stats().totals.subscribe_streams_open,
        0,
        "the client's cancel ends it"
    );
}

#[tokio::test]
async fn delivery_limit_exhaustion_uses_salesforces_error() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 5),
    )
    .await
    .unwrap();
    sub.assert_quiet(Duration::from_millis(100)).await;
    control.fail_next(1, Fault::DeliveryLimitExceeded);
    control.publish_generated(T, 1).unwrap();
    let status = sub.error().await;
    assert_salesforce_error(
        &status,
        Code::ResourceExhausted,
        "subscription.limit.exceeded",
    );
    assert!(status.message().starts_with(DELIVERY_LIMIT_MESSAGE));
}

#[tokio::test]
async fn a_delivery_allocation_runs_out() {
    let (emulator, mut client) = start(PubSubEmulator::builder().delivery_allocation(3)).await;
    emulator.control().publish_generated(T, 5).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 5),
    )
    .await
    .unwrap();
    assert_eq!(events(&mut sub, 3).await.len(), 3);
    let status = sub.error().await;
    assert_salesforce_error(
        &status,
        Code::ResourceExhausted,
        "subscription.limit.exceeded",
    );
}
