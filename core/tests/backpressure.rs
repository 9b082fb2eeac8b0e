//! Backpressure that keeps what has arrived: while more than `max_pending` messages wait, the
//! next long poll is held back (events stay on the server), for at most `max_poll_delay` after
//! the last reply (inside Salesforce's 40 s reconnect window); nothing that arrived is dropped.
mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use sfstream_core::{Config, RequestKind, Session};

const A: &str = "/event/A__e";

fn events(ids: std::ops::RangeInclusive<i64>) -> Value {
    Value::Array(ids.map(|i| event_msg(A, i)).chain([connect_ok()]).collect())
}

fn take(sc: &mut Scenario, n: usize) -> Vec<i64> {
    (0..n)
        .map(|_| sc.s.poll_message().unwrap().replay_id().unwrap())
        .collect()
}

fn behind_by_25() -> Scenario {
    let mut config = token_config();
    config.max_pending = 10;
    let mut sc = Scenario::connected(config, &[A]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, events(1..=25));
    sc
}

#[test]
fn a_behind_application_holds_the_next_long_poll_and_keeps_every_event() {
    let mut sc = behind_by_25();
    assert_eq!(sc.s.pending(), 25, "everything that arrived is kept");
    assert!(sc.nothing_sent(), "the next long poll waits");
    assert_eq!(
        sc.s.poll_timeout(),
        Some(sc.now + Duration::from_secs(25)),
        "at most 25 s after the reply"
    );
    let stats = sc.s.stats().clone();
    assert_eq!(stats.polls_held_back, 1);
    assert_eq!(stats.dropped_for_refetch, 0);
    assert_eq!(stats.refetches, 0);

    let mut seen = take(&mut sc, 14);
    assert!(!sc.s.wants_drive(), "11 still wait: still behind");
    sc.advance(0);
    assert!(sc.nothing_sent());
    seen.extend(take(&mut sc, 1));
    assert!(sc.s.wants_drive(), "10 wait: the poll may go");
    sc.advance(0);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, events(26..=30));
    seen.extend(sc.messages().iter().map(|m| m.replay_id().unwrap()));
    assert_eq!(seen, (1..=30).collect::<Vec<_>>());
    assert_eq!(sc.s.stats().dropped_for_refetch, 0);
    assert_eq!(sc.s.stats().polls_past_delay_limit, 0);
}

#[test]
fn the_hold_ends_inside_the_reconnect_window() {
    let mut sc = behind_by_25();
    sc.advance(24_999);
    assert!(sc.nothing_sent(), "still inside the hold");
    sc.advance(1);
    let poll = sc.next(RequestKind::Connect);
    assert_eq!(sc.s.stats().polls_past_delay_limit, 1);
    // What the late poll brings is kept too.
    sc.advance(3_000);
    sc.reply(&poll, events(26..=30));
    assert_eq!(sc.s.pending(), 30);
    assert_eq!(sc.s.stats().dropped_for_refetch, 0);
    // The next hold counts from this reply.
    assert_eq!(sc.s.poll_timeout(), Some(sc.now + Duration::from_secs(25)));
    assert!(sc.nothing_sent());
}

#[test]
fn the_hold_limit_is_configurable_and_must_stay_below_40_s() {
    let mut config = token_config();
    config.max_pending = 10;
    config.max_poll_delay = Duration::from_secs(5);
    let mut sc = Scenario::connected(config.clone(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, events(1..=25));
    sc.advance(4_999);
    assert!(sc.nothing_sent());
    sc.advance(1);
    sc.next(RequestKind::Connect);

    for bad in [Duration::from_secs(40), Duration::MAX] {
        config.max_poll_delay = bad;
        let err = Session::new(config.clone(), sc.now, std::time::SystemTime::UNIX_EPOCH)
            .expect_err("40 s or more is refused");
        let text = err.to_string();
        assert!(
            text.contains("max_poll_delay") && text.contains("below 40 s"),
            "{text}"
        );
    }
    config.max_poll_delay = Duration::from_millis(39_999);
    assert!(Session::new(config, sc.now, std::time::SystemTime::UNIX_EPOCH).is_ok());
}

/// A response for `poll` with `ids`, its reply carrying the poll's message id.
fn response(
    poll: &sfstream_core::Transmit,
    ids: std::ops::RangeInclusive<i64>,
) -> http::Response<Vec<u8>> {
    let mut body = events(ids);
    let id = Scenario::body(poll)[0]["id"].clone();
    body.as_array_mut().unwrap().last_mut().unwrap()["id"] = id;
    http::Response::new(serde_json::to_vec(&body).unwrap())
}

#[test]
fn an_early_poll_goes_while_the_application_takes_the_last_batch() {
    // Still taking the last batch when the next response arrives: the pipeline keeps going.
    let mut config = token_config();
    config.max_pending = 10;
    let mut sc = Scenario::connected(config, &[A]);
    let poll = sc.next(RequestKind::Connect);
    let first = response(&poll, 1..=25);
    let first = sc.s.handle_arrived(poll.id, first, sc.now).unwrap();
    let early = sc.next(RequestKind::Connect);
    sc.s.handle_received(first.decode(), sc.now);
    let _ = take(&mut sc, 5);
    assert_eq!(sc.s.pending(), 20);
    let second = response(&early, 26..=30);
    let _second = sc.s.handle_arrived(early.id, second, sc.now).unwrap();
    sc.next(RequestKind::Connect);
    assert_eq!(sc.s.stats().connects_early, 2);
}

#[test]
fn an_early_poll_waits_while_the_application_is_behind() {
    // A stalled application: behind by more than the last batch, no poll goes early; one goes
    // only at the hold limit.
    let mut config = token_config();
    config.max_pending = 10;
    let mut sc = Scenario::connected(config, &[A]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, events(1..=25));
    sc.advance(25_000);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, events(26..=30));
    assert_eq!(sc.s.pending(), 30);
    sc.advance(25_000);
    let poll = sc.next(RequestKind::Connect);
    let third = response(&poll, 31..=32);
    let third = sc.s.handle_arrived(poll.id, third, sc.now).unwrap();
    assert!(sc.nothing_sent(), "held back: {:?}", sc.sent);
    sc.s.handle_received(third.decode(), sc.now);
    assert!(sc.nothing_sent(), "still held back after it is handled");
    assert_eq!(sc.s.pending(), 32);
    assert_eq!(sc.s.stats().connects_early, 0);
    let _ = take(&mut sc, 22);
    sc.advance(0);
    sc.next(RequestKind::Connect);
}

#[test]
fn a_consumer_that_keeps_up_never_waits() {
    // As the adapters run it: each response is reported when it arrives, before it is decoded,
    // and the application takes every message before the next response arrives.
    let mut sc = Scenario::connected(token_config(), &[A]);
    let mut poll = sc.next(RequestKind::Connect);
    let mut next = 1;
    for _ in 0..50 {
        // Batches above max_pending (100) are kept whole.
        let response = http::Response::new(serde_json::to_vec(&events(next..=next + 149)).unwrap());
        let response = sc.s.handle_arrived(poll.id, response, sc.now).unwrap();
        let successor = sc.next(RequestKind::Connect);
        sc.s.handle_received(response.decode(), sc.now);
        next += 150;
        assert_eq!(sc.messages().len(), 150);
        poll = successor;
    }
    let stats = sc.s.stats();
    assert_eq!(stats.polls_held_back, 0);
    assert_eq!(stats.dropped_for_refetch, 0);
    assert_eq!(stats.refetches, 0);
}

#[test]
fn a_servers_max_interval_shortens_the_hold() {
    // A plain CometD server says how long it waits for the next poll: the hold stays well
    // inside it.
    let mut config = Config::bayeux("http://127.0.0.1:8000/bayeux");
    config.max_pending = 2;
    let mut sc = Scenario::new(config);
    sc.s.subscribe("/chat/room", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    sc.reply(
        &hs,
        json!([{"channel": "/meta/handshake", "successful": true, "clientId": "c1",
                "version": "1.0", "advice": {"reconnect": "retry", "interval": 0,
                "timeout": 30000, "maxInterval": 10000}}]),
    );
    let poll = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    sc.reply_ok(&sub);
    let chat: Vec<Value> = (0..5)
        .map(|i| json!({"channel": "/chat/room", "data": {"n": i}}))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(chat));
    assert_eq!(sc.s.pending(), 5);
    sc.advance(4_999);
    assert!(sc.nothing_sent());
    sc.advance(1);
    sc.next(RequestKind::Connect);
}
