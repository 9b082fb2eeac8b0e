//! A slow application: at most `max_pending` messages wait; the long poll keeps going; what does
//! not fit is fetched again by replay once there is room. Nothing is lost, memory is bounded.
mod common;

use std::collections::BTreeSet;

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
    let sub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&sub)[0]["ext"]["replay"]["/event/A__e"], 10);
    sc.reply_ok(&sub);
    // The replay brings 11..=40 again (the server replays everything after 10).
    let batch: Vec<Value> = (11..=40)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(batch));
    let mut polls = 0;
    loop {
        while let Some(m) = sc.s.poll_message() {
            seen.push(m.replay_id().unwrap());
        }
        sc.advance(0);
        sc.pump();
        // Keep serving: control requests re-fetch, connects return the replay from the point.
        let Some(t) = sc.sent.pop_front() else { break };
        match t.kind {
            RequestKind::Control => {
                let body = Scenario::body(&t);
                let from = body[0]["ext"]["replay"]["/event/A__e"].as_i64();
                sc.reply_ok(&t);
                if let Some(from) = from {
                    let next = sc.next(RequestKind::Connect);
                    let batch: Vec<Value> = ((from + 1)..=40)
                        .map(|i| event_msg("/event/A__e", i))
                        .chain([connect_ok()])
                        .collect();
                    sc.reply(&next, Value::Array(batch));
                }
            }
            RequestKind::Connect => {
                polls += 1;
                if polls > 50 {
                    break;
                }
                sc.reply(&t, json!([connect_ok()]));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(sc.s.pending() <= 10);
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique, (1..=40).collect::<BTreeSet<_>>(), "nothing lost");
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
