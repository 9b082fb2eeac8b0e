//! Pub/Sub resume: after `UNAVAILABLE`, a reset or an end of stream, a topic's stream opens again
//! with `CUSTOM` after the newest position it reached (events the session holds are kept, not
//! fetched again), with backoff; `LATEST` only when no position is known.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::pubsub::{PubSubErrorClass, PubSubEvent, PubSubReplayFrom, ReplayId};

fn resumed_from(sc: &mut PubSubScenario) -> (i32, Option<u64>) {
    let call = sc.stream(TOPIC);
    let first = sc.call(call).first_fetch();
    (first.replay_preset, ReplayId::new(first.replay_id).as_u64())
}

#[test]
fn unavailable_resumes_after_the_last_accepted_event_with_backoff() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=5, 95));
    assert_eq!(numbers(&sc.take(2)), vec![1, 2]);
    sc.end(call, 14, Some("service.unavailable"));
    let reason = sc.events.iter().find_map(|e| match e {
        PubSubEvent::Reconnecting {
            topic: Some(t),
            reason,
            ..
        } if t == TOPIC => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(reason.unwrap().class(), Some(PubSubErrorClass::Transient));
    assert_eq!(sc.reconnect_delays(), vec![1000]);
    assert!(sc.try_stream(TOPIC).is_none());
    sc.advance(999);
    assert!(sc.try_stream(TOPIC).is_none());
    sc.advance(1);
    // After 5, not after 2 (the last taken): 3 to 5 are still held, in order.
    assert_eq!(resumed_from(&mut sc), (2, Some(5)));
    let next = sc.stream(TOPIC);
    assert_eq!(sc.call(next).first_fetch().num_requested, 97, "three held");
    sc.accept(next);
    sc.send(next, &batch(6..=7, 95));
    assert_eq!(numbers(&sc.take(10)), vec![3, 4, 5, 6, 7]);
}

#[test]
fn a_reset_resumes_the_same_way() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([10, 20], 98));
    sc.reset(call, 0); // RST_STREAM NO_ERROR before the trailers
    sc.advance(1_000);
    assert_eq!(resumed_from(&mut sc), (2, Some(20)));
}

#[test]
fn an_end_of_stream_while_events_are_owed_resumes_at_once() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([7], 99));
    sc.end(call, 0, None);
    assert_eq!(sc.reconnect_delays(), vec![0]);
    assert_eq!(resumed_from(&mut sc), (2, Some(7)));
}

#[test]
fn internal_errors_resume_at_once_then_back_off() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([7], 99));
    sc.end(call, 13, None);
    let second = sc.stream(TOPIC);
    sc.end(second, 13, None);
    assert!(sc.try_stream(TOPIC).is_none());
    assert_eq!(sc.reconnect_delays(), vec![0, 2000]);
    sc.advance(2_000);
    let third = sc.stream(TOPIC);
    // A response makes the stream healthy again: the next failure is answered at once.
    sc.accept(third);
    sc.send(third, &keepalive(7, 99));
    sc.end(third, 13, None);
    assert_eq!(sc.reconnect_delays(), vec![0, 2000, 0]);
}

#[test]
fn a_topic_that_never_reached_a_position_starts_from_its_preset_again() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.end(call, 14, None);
    sc.advance(1_000);
    assert_eq!(resumed_from(&mut sc), (0, None), "LATEST: nothing is known");
}

#[test]
fn a_stored_position_is_never_traded_for_latest() {
    let mut sc = PubSubScenario::new(config());
    let stored = PubSubReplayFrom::Custom(ReplayId::from_u64(42));
    sc.s.subscribe(TOPIC, Some(stored), sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    assert_eq!(resumed_from(&mut sc), (2, Some(42)));
    let call = sc.stream(TOPIC);
    sc.reset(call, 2);
    sc.advance(1_000);
    assert_eq!(resumed_from(&mut sc), (2, Some(42)));
    assert_eq!(sc.s.committed(TOPIC), Some(&ReplayId::from_u64(42)));
}

#[test]
fn earliest_resumes_from_the_position_once_one_is_reached() {
    let mut sc = PubSubScenario::started(config().replay(PubSubReplayFrom::Earliest), &[TOPIC]);
    assert_eq!(resumed_from(&mut sc), (1, None));
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([3], 99));
    sc.end(call, 14, None);
    sc.advance(1_000);
    assert_eq!(resumed_from(&mut sc), (2, Some(3)));
}

#[test]
fn a_transport_failure_of_the_call_is_retried() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([3], 99));
    sc.s.handle_call_error(
        call,
        sfstream_core::TransportError::Io("connection reset".into()),
        sc.now,
    );
    sc.calls.get_mut(&call).unwrap().ended = true;
    sc.pump();
    sc.advance(1_000);
    assert_eq!(resumed_from(&mut sc), (2, Some(3)));
}

#[test]
fn other_topics_go_on_while_one_reconnects() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC, OTHER]);
    let a = sc.stream(TOPIC);
    let b = sc.stream(OTHER);
    sc.end(a, 14, None);
    assert!(sc.call(b).is_live());
    assert_eq!(sc.s.streaming(), vec![OTHER]);
}
