//! The idle rule: a stream owed nothing that gets no `FetchRequest` for the idle timeout ends
//! normally; while events are owed it stays open with keepalives.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::ReplayPreset;

const T: &str = "/event/Order__e";

#[tokio::test]
async fn a_stream_owed_nothing_ends_after_the_idle_timeout() {
    let idle = Duration::from_millis(400);
    let (emulator, mut client) = start(
        PubSubEmulator::builder()
            .idle_timeout(idle)
            .keepalive(Duration::from_secs(30)),
    )
    .await;
    emulator.control().publish_generated(T, 2).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 2),
    )
    .await
    .unwrap();
    assert_eq!(events(&mut sub, 2).await.len(), 2);
    let owed_nothing_since = Instant::now();
    assert!(sub.next().await.unwrap().is_none(), "a clean end of stream");
    let waited = owed_nothing_since.elapsed();
    assert!(waited >= idle - Duration::from_millis(50), "{waited:?}");
    assert_eq!(emulator.control().stats().totals.idle_closes, 1);
}

#[tokio::test]
async fn a_request_restarts_the_idle_timer() {
    let idle = Duration::from_millis(400);
    let (emulator, mut client) = start(PubSubEmulator::builder().idle_timeout(idle)).await;
    let control = emulator.control();
    control.publish_generated(T, 1).unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 1),
    )
    .await
    .unwrap();
    events(&mut sub, 1).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    sub.send(more(1)).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    // 500 ms after the last event, but the stream was owed one event meanwhile: still open.
    control.publish_generated(T, 1).unwrap();
    assert_eq!(events(&mut sub, 1).await.len(), 1);
}

#[tokio::test]
async fn a_stream_owed_events_stays_open_with_keepalives() {
    let (emulator, mut client) = start(
        PubSubEmulator::builder()
            .idle_timeout(Duration::from_millis(200))
            .keepalive(Duration::from_millis(100)),
    )
    .await;
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 5),
    )
    .await
    .unwrap();
    let until = Instant::now() + Duration::from_millis(700);
    let mut keepalives = 0;
    while Instant::now() < until {
        let r = sub.message().await;
        assert!(r.events.is_empty());
        keepalives += 1;
    }
    assert!(keepalives >= 4, "{keepalives}");
}
