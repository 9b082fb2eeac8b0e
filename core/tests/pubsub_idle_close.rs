//! The Pub/Sub idle close: a stream owed nothing (the application holds the whole window) is
//! ended by the server after 60 s without a request. The session takes that as an idle close,
//! not a failure, and opens the stream again from where it stopped once the application has made
//! room: no credit is asked for that could not be held, and nothing is skipped.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::pubsub::{PubSubEvent, ReplayId};

#[test]
fn an_idle_close_waits_for_room_then_resumes() {
    let mut sc = PubSubScenario::started(config().max_pending(10), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=10, 0));
    sc.serve_schemas();
    sc.advance(60_000);
    sc.end(call, 0, None);
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::IdleClosed { topic } if topic == TOPIC))
    );
    assert!(sc.reconnect_delays().is_empty(), "not a failure");
    assert_eq!(sc.s.stats().idle_closes, 1);
    sc.advance(600_000);
    assert!(sc.try_stream(TOPIC).is_none(), "no room: no stream");
    assert_eq!(
        sc.s.poll_timeout(),
        None,
        "nothing to wait for but the application"
    );
    // The application takes one event: the stream opens again for that one.
    assert_eq!(numbers(&sc.take(1)), vec![1]);
    assert!(sc.s.wants_drive() || sc.try_stream(TOPIC).is_some());
    let next = sc.stream(TOPIC);
    let first = sc.call(next).first_fetch();
    assert_eq!(first.replay_preset, 2);
    assert_eq!(ReplayId::new(first.replay_id), ReplayId::from_u64(10));
    assert_eq!(first.num_requested, 1);
    assert_eq!(numbers(&sc.take(100)), (2..=10).collect::<Vec<_>>());
}

#[test]
fn an_end_while_events_are_owed_is_not_an_idle_close() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=10, 90));
    sc.end(call, 0, None);
    assert!(
        !sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::IdleClosed { .. }))
    );
    assert_eq!(sc.reconnect_delays(), vec![0]);
    assert!(sc.try_stream(TOPIC).is_some());
}

#[test]
fn a_stream_owed_nothing_asks_for_its_little_room_before_the_idle_timeout() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=100, 0));
    // Room for 10: below a quarter of the window, and the application still has 90 to process.
    assert_eq!(sc.take(10).len(), 10);
    assert_eq!(sc.call(call).fetch_requests().len(), 1);
    assert_eq!(
        sc.s.poll_timeout(),
        Some(sc.now + std::time::Duration::from_secs(45))
    );
    sc.advance(44_999);
    assert_eq!(sc.call(call).fetch_requests().len(), 1);
    sc.advance(1);
    let requests = sc.call(call).fetch_requests();
    assert_eq!(requests.len(), 2, "three quarters of the 60 s idle timeout");
    assert_eq!(requests[1].num_requested, 10);
    assert!(sc.call(call).is_live());
}

#[test]
fn the_idle_timeout_is_configurable() {
    let config = config().idle_timeout(std::time::Duration::from_secs(8));
    let mut sc = PubSubScenario::started(config, &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=100, 0));
    assert_eq!(sc.take(1).len(), 1);
    sc.advance(6_000);
    assert_eq!(sc.call(call).fetch_requests().len(), 2);
}

#[test]
fn an_end_that_crossed_a_request_resumes_with_the_full_room() {
    let mut sc = PubSubScenario::started(config().max_pending(10), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=10, 0));
    assert_eq!(sc.take(10).len(), 10);
    // The server closed before it read the requests the room made.
    sc.end(call, 0, None);
    assert!(
        !sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::IdleClosed { .. }))
    );
    let next = sc.stream(TOPIC);
    let first = sc.call(next).first_fetch();
    assert_eq!(first.num_requested, 10);
    assert_eq!(ReplayId::new(first.replay_id), ReplayId::from_u64(10));
}
