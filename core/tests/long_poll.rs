//! The connect loop: advice defaults, HTTP deadlines, immediate reconnects, delivery that never
//! delays the next poll.
mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sfstream_core::RequestKind;

#[test]
fn handshake_without_advice_means_retry_at_once() {
    let mut sc = Scenario::new(token_config());
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok(CLIENT);
    let first = sc.next(RequestKind::Connect);
    assert_eq!(
        Scenario::body(&first)[0]["advice"]["timeout"],
        0,
        "first connect asks for an immediate answer"
    );
    sc.reply(
        &first,
        json!([{"channel": "/meta/connect", "successful": true}]),
    );
    // No advice anywhere: the next connect goes at once.
    let second = sc.next(RequestKind::Connect);
    assert!(Scenario::body(&second)[0].get("advice").is_none());
}

#[test]
fn long_poll_deadline_is_advice_timeout_plus_margin() {
    let mut config = token_config();
    config.long_poll_margin = Duration::from_secs(15);
    let mut sc = Scenario::connected(config, &[]);
    let poll = sc.next(RequestKind::Connect);
    assert_eq!(
        poll.deadline - sc.now,
        Duration::from_millis(110_000 + 15_000)
    );
    // The server answers after 110 s: the next poll goes at once.
    sc.advance(110_000);
    sc.reply(&poll, json!([connect_ok()]));
    let next = sc.next(RequestKind::Connect);
    assert_eq!(next.deadline - sc.now, Duration::from_secs(125));
}

#[test]
fn interval_advice_delays_the_next_connect() {
    let mut sc = Scenario::connected(token_config(), &[]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([{"channel": "/meta/connect", "successful": true, "advice": {"interval": 500, "reconnect": "retry"}}]));
    assert!(sc.nothing_sent());
    assert_eq!(
        sc.s.poll_timeout(),
        Some(sc.now + Duration::from_millis(500))
    );
    sc.advance(499);
    assert!(sc.nothing_sent());
    sc.advance(1);
    sc.next(RequestKind::Connect);
}

#[test]
fn events_do_not_delay_the_next_poll() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let batch: Vec<_> = (1..=50)
        .map(|i| event_msg("/event/A__e", i * 3))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, serde_json::Value::Array(batch));
    // Nobody has taken a message yet, and the next long poll is already out.
    assert_eq!(sc.s.pending(), 50);
    sc.next(RequestKind::Connect);
    let got = sc.messages();
    assert_eq!(
        got.iter()
            .map(|m| m.replay_id().unwrap())
            .collect::<Vec<_>>(),
        (1..=50).map(|i| i * 3).collect::<Vec<_>>()
    );
}

#[test]
fn expired_long_poll_is_retried_with_backoff() {
    let mut sc = Scenario::connected(token_config(), &[]);
    let poll = sc.next(RequestKind::Connect);
    sc.advance(125_000);
    // The core expired the request itself and scheduled a retry.
    assert!(sc.sent.is_empty());
    assert_eq!(sc.reconnect_delays(), vec![1000]);
    sc.advance(1000);
    let retry = sc.next(RequestKind::Connect);
    assert_ne!(retry.id, poll.id);
}
