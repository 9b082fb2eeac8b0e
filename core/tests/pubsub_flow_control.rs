//! Pub/Sub flow control: a stream asks for the credit window (`max_pending`, at most 100), asks
//! for more as the application takes events, never has more outstanding than the window, and
//! never asks for zero.
mod pubsub_common;

use pubsub_common::*;

#[test]
fn the_first_request_asks_for_the_window() {
    for (max_pending, expected) in [(100, 100), (10, 10), (500, 100), (1, 1)] {
        let mut sc = PubSubScenario::started(config().max_pending(max_pending), &[TOPIC]);
        let call = sc.stream(TOPIC);
        let first = sc.call(call).first_fetch();
        assert_eq!(first.num_requested, expected, "max_pending {max_pending}");
        assert_eq!(first.topic_name, TOPIC);
        assert_eq!(first.replay_preset, 0, "LATEST by default");
        assert!(first.auth_refresh.is_empty());
        assert_eq!(sc.s.outstanding(TOPIC), Some(expected as u32));
    }
}

#[test]
fn credit_follows_the_application_and_never_exceeds_the_window() {
    for (max_pending, take_per_round) in [(100, 7), (100, 100), (30, 4), (5, 1), (250, 33)] {
        let window = max_pending.min(100);
        let mut sc = PubSubScenario::started(config().max_pending(max_pending), &[TOPIC]);
        let mut server = ModelServer::new(1_000, window);
        server.per_response = 17;
        let mut seen = Vec::new();
        for _ in 0..2_000 {
            server.serve(&mut sc, TOPIC);
            let buffered = sc.s.buffered(TOPIC).unwrap();
            let owed = sc.s.outstanding(TOPIC).unwrap_or(0);
            assert!(
                buffered + owed <= window,
                "held {buffered} + owed {owed} over the window {window}"
            );
            seen.extend(numbers(&sc.take(take_per_round as usize)));
            if seen.len() == 1_000 {
                break;
            }
        }
        assert_eq!(
            seen,
            (1..=1_000).collect::<Vec<_>>(),
            "max_pending {max_pending}"
        );
        assert!(server.max_pending_seen <= window);
        let call = sc.stream(TOPIC);
        let requests = sc.call(call).fetch_requests();
        assert!(requests.iter().all(|r| r.num_requested > 0));
        assert!(
            requests
                .iter()
                .skip(1)
                .all(|r| r.replay_preset == 0 && r.replay_id.is_empty()),
            "later requests carry no replay start"
        );
    }
}

#[test]
fn without_taking_events_the_session_asks_for_nothing_more() {
    let mut sc = PubSubScenario::started(config().max_pending(20), &[TOPIC]);
    let mut server = ModelServer::new(1_000, 20);
    for _ in 0..5 {
        server.serve(&mut sc, TOPIC);
    }
    assert_eq!(server.delivered, 20);
    assert_eq!(sc.s.buffered(TOPIC), Some(20));
    assert_eq!(sc.s.outstanding(TOPIC), Some(0));
    let call = sc.stream(TOPIC);
    assert_eq!(sc.call(call).fetch_requests().len(), 1);
}

#[test]
fn small_top_ups_wait_for_a_quarter_of_the_window_while_credit_is_owed() {
    let mut sc = PubSubScenario::started(config().max_pending(20), &[TOPIC]);
    let call = sc.stream(TOPIC);
    // 10 of the 20 requested arrive: 10 still owed.
    sc.send(call, &batch(1..=10, 10));
    assert_eq!(sc.take(4).len(), 4);
    assert_eq!(
        sc.call(call).fetch_requests().len(),
        1,
        "room for 4 is below 20 / 4"
    );
    assert_eq!(sc.take(1).len(), 1);
    let requests = sc.call(call).fetch_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].num_requested, 5);
    assert_eq!(sc.s.outstanding(TOPIC), Some(15));
}

#[test]
fn a_stream_owed_nothing_waits_for_a_quarter_too() {
    let mut sc = PubSubScenario::started(config().max_pending(20), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=20, 0));
    assert_eq!(sc.take(4).len(), 4);
    assert_eq!(sc.call(call).fetch_requests().len(), 1);
    assert_eq!(sc.take(1).len(), 1);
    let requests = sc.call(call).fetch_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].num_requested, 5);
}
