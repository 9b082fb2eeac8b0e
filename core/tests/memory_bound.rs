//! The bound on memory: an event that would take the waiting messages past `max_pending_bytes`
//! is set aside (with every later event of its channel) and fetched again by replay once the
//! application has caught up, from the last event the queue accepted. Nothing is lost, memory
//! is bounded, and events of the old subscription that arrive after the re-fetch began are told
//! from the replay by the replay gate.
mod common;

use common::*;
use serde_json::{Value, json};
use sfstream_core::{Config, Event, RefetchReason, ReplayFrom, RequestKind, Transmit};

/// The bytes one event of [`event_msg`] with a two-digit replay id takes in the queue (ids of one
/// digit take a few bytes less).
fn event_bytes() -> usize {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([event_msg("/event/A__e", 50), connect_ok()]));
    sc.s.pending_bytes()
}

/// `config` with room for `n` events in memory.
fn room_for(n: usize, mut config: Config) -> Config {
    config.max_pending_bytes = n * event_bytes();
    config
}

#[test]
fn overflow_is_fetched_again_from_the_last_accepted_id() {
    let mut sc = Scenario::connected(room_for(10, token_config()), &["/event/A__e"]);
    // The server publishes ids 1..=25 while the application takes nothing.
    let poll = sc.next(RequestKind::Connect);
    let batch: Vec<Value> = (1..=25)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(batch));
    assert_eq!(sc.s.pending(), 10, "bounded");
    assert_eq!(sc.s.stats().dropped_for_refetch, 15);
    assert!(
        sc.nothing_sent(),
        "the next long poll waits for the application"
    );

    // The application takes 5: room opens, the long poll goes, and the channel is re-fetched
    // after id 10.
    let mut seen: Vec<i64> = Vec::new();
    for _ in 0..5 {
        seen.push(sc.s.poll_message().unwrap().replay_id().unwrap());
    }
    assert!(
        sc.s.poll_timeout().is_some_and(|t| t <= sc.now),
        "asks to be driven"
    );
    sc.advance(0);
    let poll = sc.next(RequestKind::Connect);
    let unsub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&unsub)[0]["channel"], "/meta/unsubscribe");
    sc.reply_ok(&unsub);
    // The channel is subscribed again from 10 at once; the old long poll ends with nothing.
    let sub = sc.next(RequestKind::Control);
    assert!(
        sc.events.iter().any(|e| matches!(e,
            Event::Refetch { channel, from: ReplayFrom::Id(10), reason: RefetchReason::MemoryBound { dropped: 15 } }
                if channel == "/event/A__e")),
        "{:?}",
        sc.events
    );
    sc.reply(&poll, json!([connect_ok()]));
    let next = sc.next(RequestKind::Connect);
    assert_eq!(Scenario::body(&sub)[0]["ext"]["replay"]["/event/A__e"], 10);
    sc.serve_replay(&sub, "/event/A__e", 25);
    sc.serve_replay(&next, "/event/A__e", 25);
    let mut rounds = 0;
    while seen.len() < 40 && rounds < 100 {
        rounds += 1;
        while let Some(m) = sc.s.poll_message() {
            seen.push(m.replay_id().unwrap());
        }
        assert!(sc.s.pending() <= 10);
        assert!(sc.s.pending_bytes() <= sc.s.config().max_pending_bytes);
        sc.advance(0);
        sc.pump();
        let outstanding: Vec<_> = sc.sent.drain(..).collect();
        for t in outstanding {
            sc.serve_replay(&t, "/event/A__e", 25);
        }
    }
    assert_eq!(seen, (1..=25).collect::<Vec<_>>(), "in order, nothing lost");
    assert!(sc.s.stats().refetches >= 1);
}

#[test]
fn channels_without_a_replay_position_are_never_dropped() {
    // A channel that starts from "new" and has accepted nothing yet cannot be re-fetched: its
    // first event is kept even over the bound.
    let mut sc = Scenario::connected(room_for(2, token_config()), &["/event/A__e", "/event/B__e"]);
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

/// Fills a queue with room for 10 with events 1..=25 and takes 5, so that the channel is
/// re-fetched after id 10; returns the scenario, the long poll held meanwhile, the ids taken, and
/// the unsubscribe.
fn overflow_and_make_room() -> (Scenario, Transmit, Vec<i64>, Transmit) {
    overflow_and_make_room_with(token_config(), 1..=25)
}

/// [`overflow_and_make_room`] with a configuration (its queue given room for 10) and the ids to
/// deliver.
fn overflow_and_make_room_with(
    config: Config,
    ids: std::ops::RangeInclusive<i64>,
) -> (Scenario, Transmit, Vec<i64>, Transmit) {
    let mut sc = Scenario::connected(room_for(10, config), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let batch: Vec<Value> = ids
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(batch));
    let seen: Vec<i64> = (0..5)
        .map(|_| sc.s.poll_message().unwrap().replay_id().unwrap())
        .collect();
    sc.advance(0);
    let held = sc.next(RequestKind::Connect);
    let unsub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&unsub)[0]["channel"], "/meta/unsubscribe");
    (sc, held, seen, unsub)
}

/// Takes every message, serving re-fetch cycles, until `last` or no progress.
fn drain_with_refetches(sc: &mut Scenario, seen: &mut Vec<i64>, last: i64) {
    let mut rounds = 0;
    while seen.last() != Some(&last) && rounds < 200 {
        rounds += 1;
        match sc.s.poll_message() {
            Some(m) => seen.push(m.replay_id().unwrap()),
            None => {
                sc.advance(0);
                sc.pump();
                let Some(t) = sc.sent.pop_front() else { break };
                sc.serve_replay(&t, "/event/A__e", last);
            }
        }
    }
}

#[test]
fn a_refetch_does_not_wait_for_the_held_long_poll() {
    // The long poll out during the unsubscribe may be held by the server for its whole timeout
    // (110 s on Salesforce): the re-fetch must not wait for it.
    let (mut sc, held, mut seen, unsub) = overflow_and_make_room();
    sc.reply_ok(&unsub);
    let sub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&sub)[0]["channel"], "/meta/subscribe");
    assert_eq!(
        Scenario::body(&sub)[0]["ext"]["replay"]["/event/A__e"],
        10,
        "from the end of the unbroken run"
    );
    sc.reply_ok(&sub);
    // The replay arrives on the poll that was held all along.
    let replay: Vec<Value> = (11..=25)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&held, Value::Array(replay));
    drain_with_refetches(&mut sc, &mut seen, 25);
    assert_eq!(seen, (1..=25).collect::<Vec<_>>(), "in order, nothing lost");
    assert_eq!(sc.s.stats().dropped_stale, 0);
}

#[test]
fn stale_events_after_the_unsubscribe_never_move_the_refetch_point() {
    let (mut sc, held, mut seen, unsub) = overflow_and_make_room();
    sc.reply_ok(&unsub);
    let sub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&sub)[0]["ext"]["replay"]["/event/A__e"], 10);
    sc.reply_ok(&sub);
    // The held poll comes back with events of the old subscription from past the gap (queued
    // by the server before it took the unsubscribe): dropped, they come again with the replay.
    let stale: Vec<Value> = (26..=30)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&held, Value::Array(stale));
    assert_eq!(sc.s.pending(), 5, "stale events are not accepted");
    assert_eq!(sc.s.stats().dropped_stale, 5);
    let next = sc.next(RequestKind::Connect);
    let replay: Vec<Value> = (11..=30)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&next, Value::Array(replay));
    drain_with_refetches(&mut sc, &mut seen, 30);
    assert_eq!(
        seen,
        (1..=30).collect::<Vec<_>>(),
        "in order, nothing skipped"
    );
}

#[test]
fn stale_events_and_the_replay_in_one_response() {
    // The server's queue is first in, first out: stale events come first, then the replay,
    // which starts at or before the first dropped event (11 here).
    let (mut sc, held, mut seen, unsub) = overflow_and_make_room();
    sc.reply_ok(&unsub);
    let sub = sc.next(RequestKind::Control);
    sc.reply_ok(&sub);
    let body: Vec<Value> = (26..=28)
        .chain(11..=28)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&held, Value::Array(body));
    assert_eq!(sc.s.stats().dropped_stale, 3);
    drain_with_refetches(&mut sc, &mut seen, 28);
    assert_eq!(seen, (1..=28).collect::<Vec<_>>());
}

#[test]
fn a_rejected_refetch_falls_back_without_a_gate() {
    // The re-fetch point expired from the retention window: with a fallback to "all", the
    // channel starts over from the oldest retained event and nothing is held back as stale.
    let mut config = token_config();
    config.replay_fallback = Some(sfstream_core::ReplayFallback::All);
    let (mut sc, held, mut seen, unsub) = overflow_and_make_room_with(config, 101..=125);
    sc.reply_ok(&unsub);
    let sub = sc.next(RequestKind::Control);
    let id = Scenario::body(&sub)[0]["id"].clone();
    sc.reply(
        &sub,
        json!([{
            "channel": "/meta/subscribe", "id": id, "successful": false,
            "subscription": "/event/A__e",
            "error": "400::The replayId {110} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."
        }]),
    );
    let again = sc.next(RequestKind::Control);
    assert_eq!(
        Scenario::body(&again)[0]["ext"]["replay"]["/event/A__e"],
        -2
    );
    sc.reply_ok(&again);
    // Everything retained now starts at 200; none of it is taken for stale.
    let body: Vec<Value> = (200..=203)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&held, Value::Array(body));
    while let Some(m) = sc.s.poll_message() {
        seen.push(m.replay_id().unwrap());
    }
    assert_eq!(sc.s.stats().dropped_stale, 0);
    assert_eq!(&seen[seen.len() - 4..], &[200, 201, 202, 203]);
}

#[test]
fn a_replay_after_a_lost_session_overflows_and_is_refetched_from_its_own_run() {
    // Delivered up to 20 but committed only 5: the new session replays from 5, and that replay
    // overflows. Its re-fetch must start inside the replayed run (not after 20, the old
    // session's high-water mark), or events 16..=20's successors would wait forever.
    let mut config = room_for(10, token_config());
    config.commit = sfstream_core::CommitPolicy::Manual;
    let mut sc = Scenario::connected(config, &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let mut seen: Vec<i64> = Vec::new();
    let mut poll = poll;
    for run in [1..=10, 11..=20] {
        let batch: Vec<Value> = run
            .map(|i| event_msg("/event/A__e", i))
            .chain([connect_ok()])
            .collect();
        sc.reply(&poll, Value::Array(batch));
        seen.extend(sc.messages().iter().map(|m| m.replay_id().unwrap()));
        poll = sc.next(RequestKind::Connect);
    }
    sc.s.commit("/event/A__e", 5).unwrap();
    sc.reply(
        &poll,
        json!([{"channel": "/meta/connect", "successful": false, "error": "403::Unknown client",
                "advice": {"reconnect": "handshake", "interval": 0}}]),
    );
    sc.handshake_ok("client-2");
    let first = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&sub)[0]["ext"]["replay"]["/event/A__e"], 5);
    sc.reply_ok(&sub);
    sc.reply(&first, json!([connect_ok()]));
    let held = sc.next(RequestKind::Connect);
    let replay: Vec<Value> = (6..=30)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&held, Value::Array(replay));
    assert_eq!(sc.s.pending(), 10);
    drain_with_refetches(&mut sc, &mut seen, 30);
    let expected: Vec<i64> = (1..=20).chain(6..=30).collect();
    assert_eq!(
        seen, expected,
        "the replay from 5, then everything after it, in order"
    );
}
