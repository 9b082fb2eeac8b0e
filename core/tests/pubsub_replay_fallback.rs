//! A rejected replay id (`…replayid.corrupted`): the configured fallback (`EARLIEST` or
//! `LATEST`) applies once, the rejected id is forgotten and the change is reported; without a
//! fallback the topic fails and the others go on.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::ReplayFallback;
use sfstream_core::pubsub::{PubSubEvent, PubSubReplayFrom, ReplayId};

const CORRUPTED: &str = "subscription.fetch.replayid.corrupted";

fn stored(n: u64) -> Option<PubSubReplayFrom> {
    Some(PubSubReplayFrom::Custom(ReplayId::from_u64(n)))
}

fn scenario(fallback: Option<ReplayFallback>) -> PubSubScenario {
    let mut sc = PubSubScenario::new(config().replay_fallback(fallback));
    sc.s.subscribe(TOPIC, stored(77), sc.now).unwrap();
    sc.s.subscribe(OTHER, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    sc.pump();
    sc
}

#[test]
fn the_fallback_applies_once_and_is_reported() {
    let mut sc = scenario(Some(ReplayFallback::All));
    let call = sc.stream(TOPIC);
    sc.refuse(call, 3, Some(CORRUPTED));
    let reported = sc.events.iter().find_map(|e| match e {
        PubSubEvent::ReplayFallback {
            topic,
            rejected,
            using,
            ..
        } if topic == TOPIC => Some((rejected.clone(), using.clone())),
        _ => None,
    });
    assert_eq!(
        reported,
        Some((Some(ReplayId::from_u64(77)), PubSubReplayFrom::Earliest))
    );
    assert_eq!(sc.s.committed(TOPIC), None, "the rejected id is forgotten");
    assert!(sc.checkpoints(TOPIC).is_empty());
    let next = sc.stream(TOPIC);
    let first = sc.call(next).first_fetch();
    assert_eq!(first.replay_preset, 1, "EARLIEST");
    assert!(first.replay_id.is_empty());
    assert_eq!(sc.s.stats().replay_fallbacks, 1);
}

#[test]
fn new_events_only_falls_back_to_latest() {
    let mut sc = scenario(Some(ReplayFallback::New));
    let call = sc.stream(TOPIC);
    sc.end(call, 3, Some(CORRUPTED));
    let next = sc.stream(TOPIC);
    assert_eq!(sc.call(next).first_fetch().replay_preset, 0);
}

#[test]
fn a_second_rejection_before_any_response_fails_the_topic() {
    let mut sc = scenario(Some(ReplayFallback::All));
    let call = sc.stream(TOPIC);
    sc.refuse(call, 3, Some(CORRUPTED));
    let next = sc.stream(TOPIC);
    sc.refuse(next, 3, Some(CORRUPTED));
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::SubscribeFailed { topic, .. } if topic == TOPIC))
    );
    assert!(sc.try_stream(TOPIC).is_none());
    assert_eq!(sc.s.topics(), vec![OTHER]);
    assert_eq!(sc.s.stats().replay_fallbacks, 1);
}

#[test]
fn the_fallback_is_available_again_after_a_stream_worked() {
    let mut sc = scenario(Some(ReplayFallback::All));
    let call = sc.stream(TOPIC);
    sc.refuse(call, 3, Some(CORRUPTED));
    let next = sc.stream(TOPIC);
    sc.accept(next);
    sc.send(next, &batch([1, 2], 98));
    sc.end(next, 14, None);
    sc.advance(1_000);
    // The org was migrated: even the new ids are rejected.
    let third = sc.stream(TOPIC);
    assert_eq!(
        ReplayId::new(sc.call(third).first_fetch().replay_id),
        ReplayId::from_u64(2)
    );
    sc.refuse(third, 3, Some(CORRUPTED));
    assert_eq!(sc.s.stats().replay_fallbacks, 2);
    let fourth = sc.stream(TOPIC);
    assert_eq!(sc.call(fourth).first_fetch().replay_preset, 1);
    // The events held from before are still delivered, but can no longer be committed.
    assert_eq!(numbers(&sc.take(10)), vec![1, 2]);
    assert!(sc.checkpoints(TOPIC).is_empty());
}

#[test]
fn without_a_fallback_the_topic_fails_and_the_others_go_on() {
    let mut sc = scenario(None);
    let call = sc.stream(TOPIC);
    let other = sc.stream(OTHER);
    sc.refuse(call, 3, Some(CORRUPTED));
    let failed = sc.events.iter().find_map(|e| match e {
        PubSubEvent::SubscribeFailed { topic, error } if topic == TOPIC => Some(error.to_string()),
        _ => None,
    });
    let failed = failed.expect("reported");
    assert!(failed.contains("replayid.corrupted"), "{failed}");
    assert!(sc.call(other).is_live());
    assert!(!sc.s.is_closed());
}
