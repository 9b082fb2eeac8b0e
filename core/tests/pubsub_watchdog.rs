//! The Pub/Sub watchdog: a stream on which nothing arrives (no event, no keepalive) for longer
//! than the watchdog allows is taken for a half-open connection, aborted, reported, and opened
//! again from where it stopped.
mod pubsub_common;

use std::time::Duration;

use pubsub_common::*;
use sfstream_core::pubsub::{PubSubEvent, ReplayId};

#[test]
fn a_silent_stream_is_aborted_and_resumed_from_its_position() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([1, 2], 98));
    sc.serve_schemas();
    assert_eq!(
        sc.s.poll_timeout(),
        Some(sc.now + Duration::from_secs(150)),
        "the watchdog is what the session waits for"
    );
    sc.advance(149_999);
    assert!(sc.call(call).is_live());
    sc.advance(1);
    assert!(sc.call(call).cancelled, "the dead stream is aborted");
    let fired = sc.events.iter().any(|e| {
        matches!(e, PubSubEvent::WatchdogFired { topic, silent_for } if topic == TOPIC && *silent_for == Duration::from_secs(150))
    });
    assert!(fired, "{:?}", sc.events);
    assert_eq!(sc.s.stats().watchdog_fired, 1);
    let next = sc.stream(TOPIC);
    assert_ne!(next, call);
    let first = sc.call(next).first_fetch();
    assert_eq!(first.replay_preset, 2);
    assert_eq!(ReplayId::new(first.replay_id), ReplayId::from_u64(2));
    assert_eq!(first.num_requested, 98, "the two events held still count");
    // Nothing was lost: the events already received are still deliverable.
    assert_eq!(numbers(&sc.take(10)), vec![1, 2]);
}

#[test]
fn keepalives_keep_a_stream_alive() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    for i in 0..5 {
        sc.advance(100_000);
        sc.send(call, &keepalive(i, 100));
    }
    assert!(sc.call(call).is_live());
    assert_eq!(sc.s.stats().watchdog_fired, 0);
}

#[test]
fn the_response_head_counts_as_a_sign_of_life_too() {
    let mut sc = PubSubScenario::new(config());
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let call = sc.stream(TOPIC);
    sc.advance(100_000);
    sc.accept(call);
    sc.advance(100_000);
    assert!(sc.call(call).is_live());
    sc.advance(50_000);
    assert!(sc.call(call).cancelled);
}

#[test]
fn a_watchdog_set_to_none_never_fires() {
    let mut sc = PubSubScenario::started(config().watchdog(None), &[TOPIC]);
    let call = sc.stream(TOPIC);
    assert_eq!(sc.s.poll_timeout(), None);
    sc.advance(3_600_000);
    assert!(sc.call(call).is_live());
}

#[test]
fn repeated_silences_back_off() {
    let mut sc =
        PubSubScenario::started(config().watchdog(Some(Duration::from_secs(10))), &[TOPIC]);
    let first = sc.stream(TOPIC);
    sc.advance(10_000);
    assert!(sc.call(first).cancelled);
    let second = sc.stream(TOPIC);
    sc.advance(10_000);
    assert!(sc.call(second).cancelled);
    assert!(sc.try_stream(TOPIC).is_none(), "the second reopening waits");
    assert_eq!(sc.reconnect_delays(), vec![0, 2000]);
    sc.advance(1_999);
    assert!(sc.try_stream(TOPIC).is_none());
    sc.advance(1);
    assert!(sc.try_stream(TOPIC).is_some());
}
