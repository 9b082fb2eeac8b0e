//! A slow application: at most `max_pending` messages wait; the long poll keeps going; what does
//! not fit is fetched again by replay once there is room. Nothing is lost, memory is bounded.
mod common;

use common::*;
use serde_json::{Value, json};
use sfstream_core::RequestKind;

#[test]
fn overflow_is_fetched_again_from_the_last_accepted_id() {
    let mut config = token_config();
    config.max_pending = 10;
    let mut sc = Scenario::connected(config, &["/event/A__e"]);
    // The server publishes ids 1..=40 in two batches while the application takes nothing.
    let poll = sc.next(RequestKind::Connect);
    let batch: Vec<Value> = (1..=25)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(batch));
    assert_eq!(sc.s.pending(), 10, "bounded");
    let poll = sc.next(RequestKind::Connect);
    let batch: Vec<Value> = (26..=40)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(batch));
    assert_eq!(sc.s.pending(), 10, "still bounded; the long poll went on");
    let poll = sc.next(RequestKind::Connect);

    // The application takes 5: room opens, the channel is re-fetched after id 10.
    let mut seen: Vec<i64> = Vec::new();
    for _ in 0..5 {
        seen.push(sc.s.poll_message().unwrap().replay_id().unwrap());
    }
    assert!(
        sc.s.poll_timeout().is_some_and(|t| t <= sc.now),
        "asks to be driven"
    );
    sc.advance(0);
    let unsub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&unsub)[0]["channel"], "/meta/unsubscribe");
    sc.reply_ok(&unsub);
    // The old long poll ends (nothing new on it); then the channel is subscribed from 10.
    sc.reply(&poll, json!([connect_ok()]));
    let next = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&sub)[0]["ext"]["replay"]["/event/A__e"], 10);
    sc.serve_replay(&sub, "/event/A__e", 40);
    sc.serve_replay(&next, "/event/A__e", 40);
    let mut rounds = 0;
    while seen.len() < 40 && rounds < 100 {
        rounds += 1;
        while let Some(m) = sc.s.poll_message() {
            seen.push(m.replay_id().unwrap());
        }
        assert!(sc.s.pending() <= 10);
        sc.advance(0);
        sc.pump();
        let outstanding: Vec<_> = sc.sent.drain(..).collect();
        for t in outstanding {
            sc.serve_replay(&t, "/event/A__e", 40);
        }
    }
    assert_eq!(seen, (1..=40).collect::<Vec<_>>(), "in order, nothing lost");
    assert!(sc.s.stats().refetches >= 1);
}

#[test]
fn channels_without_a_replay_position_are_never_dropped() {
    // A channel that starts from "new" and has accepted nothing yet cannot be re-fetched: its
    // first event is kept even over the bound.
    let mut config = token_config();
    config.max_pending = 2;
    let mut sc = Scenario::connected(config, &["/event/A__e", "/event/B__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
            event_msg("/event/A__e", 1),
            event_msg("/event/A__e", 2),
            event_msg("/event/B__e", 50),
            connect_ok()
        ]),
    );
    assert_eq!(sc.s.pending(), 3);
}

#[test]
fn stale_events_after_the_unsubscribe_never_move_the_refetch_point() {
    let mut config = token_config();
    config.max_pending = 10;
    let mut sc = Scenario::connected(config, &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let batch: Vec<Value> = (1..=25)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(batch));
    let held = sc.next(RequestKind::Connect);
    let mut seen: Vec<i64> = (0..5)
        .map(|_| sc.s.poll_message().unwrap().replay_id().unwrap())
        .collect();
    sc.advance(0);
    let unsub = sc.next(RequestKind::Control);
    sc.reply_ok(&unsub);
    // The long poll sent before the unsubscribe is still out: no subscribe yet.
    assert!(sc.nothing_sent(), "waits for the old long poll");
    // It comes back with events of the old subscription from past the gap: dropped.
    let stale: Vec<Value> = (26..=30)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&held, Value::Array(stale));
    assert_eq!(
        sc.s.pending(),
        5,
        "stale events past the gap are not accepted"
    );
    let next = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    assert_eq!(
        Scenario::body(&sub)[0]["ext"]["replay"]["/event/A__e"],
        10,
        "from the end of the unbroken run"
    );
    sc.reply_ok(&sub);
    let replay: Vec<Value> = (11..=30)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&next, Value::Array(replay));
    let mut rounds = 0;
    while seen.len() < 30 && rounds < 200 {
        rounds += 1;
        match sc.s.poll_message() {
            Some(m) => seen.push(m.replay_id().unwrap()),
            None => {
                // Serve the next re-fetch cycle, if the replay overflowed again.
                sc.advance(0);
                sc.pump();
                let Some(t) = sc.sent.pop_front() else { break };
                sc.serve_replay(&t, "/event/A__e", 30);
            }
        }
    }
    assert_eq!(
        seen,
        (1..=30).collect::<Vec<_>>(),
        "in order, nothing skipped"
    );
}
