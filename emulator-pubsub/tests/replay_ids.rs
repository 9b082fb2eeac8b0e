//! Replay ids: 8 bytes big-endian, strictly increasing with gaps; retention drops old events
//! (on an injectable clock); a reset (org migration) makes every earlier id unknown.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use sfstream_emulator_pubsub::proto::ReplayPreset;
use sfstream_emulator_pubsub::{ManualClock, PubSubEmulator};
use tonic::Code;

const T: &str = "/event/Order__e";

#[tokio::test]
async fn ids_are_eight_bytes_increasing_with_gaps() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    emulator.control().publish_generated(T, 40).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 40),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 40).await;
    assert!(got.iter().all(|e| e.replay_id.len() == 8));
    let ids: Vec<u64> = got.iter().map(|e| replay_u64(&e.replay_id)).collect();
    assert!(ids.windows(2).all(|w| w[1] > w[0]), "strictly increasing");
    assert!(ids.windows(2).all(|w| w[1] > w[0] + 1), "never contiguous");
}

#[tokio::test]
async fn retention_purges_on_the_injected_clock() {
    let clock = ManualClock::new(1_750_000_000_000);
    let (emulator, mut client) = start(
        PubSubEmulator::builder()
            .clock(Arc::new(clock.clone()))
            .retention(Duration::from_secs(72 * 3600)),
    )
    .await;
    let control = emulator.control();
    let old = control.publish_generated(T, 2).unwrap();
    clock.advance(Duration::from_secs(71 * 3600));
    let young = control.publish_generated(T, 2).unwrap();
    clock.advance(Duration::from_secs(2 * 3600)); // the first two are 73 h old now
    assert!(
        control.advance_clock(Duration::from_secs(1)).is_err(),
        "the injected clock is the user's"
    );
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 10),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 2).await;
    assert_eq!(replay_u64(&got[0].replay_id), young[0].0);
    let status = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&old[1].to_bytes()), 1),
    )
    .await
    .unwrap()
    .error()
    .await;
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "subscription.fetch.replayid.corrupted",
    );
    assert_eq!(control.stats().topics[T].retained, 2);
}

#[tokio::test]
async fn a_reset_invalidates_earlier_ids_and_ends_open_streams() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let before = control.publish_generated(T, 3).unwrap();
    let mut open = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 5),
    )
    .await
    .unwrap();
    open.assert_quiet(Duration::from_millis(100)).await;
    control.reset_replay_ids(T).unwrap();
    let status = open.error().await;
    assert_eq!(status.code(), Code::Unavailable);
    for id in &before {
        let status = subscribe(
            &mut client,
            &emulator,
            fetch(T, ReplayPreset::Custom, Some(&id.to_bytes()), 1),
        )
        .await
        .unwrap()
        .error()
        .await;
        assert_salesforce_error(
            &status,
            Code::InvalidArgument,
            "subscription.fetch.replayid.corrupted",
        );
    }
    // The retained events are still there, under new ids.
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 3),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 3).await;
    assert!(
        got.iter()
            .all(|e| !before.iter().any(|b| b.0 == replay_u64(&e.replay_id)))
    );
}
