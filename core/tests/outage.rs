//! The connection timeout: an outage is reported once it has lasted `connection_timeout`, whatever
//! endpoint fails (the token endpoint answering 5xx or 429, or not at all, is an outage too), and
//! the outage is counted from when the first failing attempt was due an answer, not from when it
//! failed.
mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sfstream_core::{Config, Error, Event, RequestKind};

/// The reported outages, as their durations in milliseconds.
fn lost(sc: &mut Scenario) -> Vec<u128> {
    sc.pump();
    sc.events
        .iter()
        .filter_map(|e| match e {
            Event::Error(Error::ConnectionLost { outage }) => Some(outage.as_millis()),
            _ => None,
        })
        .collect()
}

fn with_limits(mut config: Config, connection: u64, request: u64) -> Config {
    config.connection_timeout = Some(Duration::from_secs(connection));
    config.request_timeout = Duration::from_secs(request);
    config
}

/// Answers every token request with `status` for 12 s: the outage is reported once, at 10 s.
fn token_endpoint_failing(status: u16, body: &[u8]) {
    let mut sc = Scenario::new(with_limits(password_config(), 10, 30));
    sc.s.open(sc.now).unwrap();
    let mut elapsed = 0;
    while elapsed < 12_000 {
        sc.pump();
        if let Some(t) = sc.sent.pop_front() {
            assert_eq!(t.kind, RequestKind::Token);
            sc.reply_raw(&t, status, body.to_vec());
        }
        sc.advance(100);
        elapsed += 100;
        let reports = lost(&mut sc);
        if elapsed < 10_000 {
            assert!(reports.is_empty(), "{status}: reported at {elapsed} ms");
        }
    }
    assert_eq!(lost(&mut sc), vec![10_000], "{status}: once, at 10 s");
}

#[test]
fn a_token_endpoint_answering_5xx_is_an_outage() {
    token_endpoint_failing(503, b"<html>down</html>");
    token_endpoint_failing(500, br#"{"error":"server_error"}"#);
}

#[test]
fn a_token_endpoint_answering_429_is_an_outage() {
    token_endpoint_failing(429, br#"{"error":"rate_limited"}"#);
}

#[test]
fn a_token_endpoint_that_never_answers_is_an_outage_before_its_deadline() {
    // The request's own deadline is 30 s; the outage is reported at the 10 s limit.
    let mut sc = Scenario::new(with_limits(password_config(), 10, 30));
    sc.s.open(sc.now).unwrap();
    let _token = sc.next(RequestKind::Token);
    assert_eq!(sc.s.poll_timeout(), Some(sc.now + Duration::from_secs(10)));
    sc.advance(9_999);
    assert!(lost(&mut sc).is_empty());
    sc.advance(1);
    assert_eq!(lost(&mut sc), vec![10_000]);
}

#[test]
fn the_outage_counts_from_when_the_first_failing_attempt_started() {
    // A handshake that is accepted and never answered, with a 30 s limit and a 30 s request
    // deadline: reported at 30 s, saying 30 s (not at the end of a second attempt).
    let mut sc = Scenario::new(with_limits(token_config(), 30, 30));
    sc.s.open(sc.now).unwrap();
    let _hs = sc.next(RequestKind::Handshake);
    sc.advance(29_999);
    assert!(lost(&mut sc).is_empty());
    sc.advance(1);
    assert_eq!(lost(&mut sc), vec![30_000]);
    // The attempt failed at its deadline; the next one goes after the backoff, and the outage is
    // not reported again.
    sc.advance(1_000);
    let hs = sc.next(RequestKind::Handshake);
    sc.advance(29_000);
    assert_eq!(lost(&mut sc).len(), 1);
    sc.reply(
        &hs,
        json!([{"channel": "/meta/handshake", "successful": true, "clientId": CLIENT}]),
    );
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([connect_ok()]));
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::ConnectionRestored))
    );
}

#[test]
fn a_failure_counts_from_when_its_answer_was_due() {
    // A refused connection found after 4 s (a slow DNS, say): the outage began when the
    // request went out.
    let mut sc = Scenario::new(with_limits(token_config(), 10, 30));
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    sc.advance(4_000);
    sc.fail(
        &hs,
        sfstream_core::TransportError::Connect("refused".into()),
    );
    sc.advance(5_999);
    assert!(lost(&mut sc).is_empty());
    sc.advance(1);
    assert_eq!(lost(&mut sc), vec![10_000]);
}

#[test]
fn a_long_poll_held_by_the_server_is_no_outage() {
    let mut sc = Scenario::connected(with_limits(token_config(), 10, 30), &[]);
    let poll = sc.next(RequestKind::Connect);
    sc.advance(110_000);
    sc.reply(&poll, json!([connect_ok()]));
    assert!(lost(&mut sc).is_empty());
    // One held past its hold by more than the limit is: reported at 110 + 10 s, before its
    // 125 s deadline.
    let _poll = sc.next(RequestKind::Connect);
    sc.advance(119_999);
    assert!(lost(&mut sc).is_empty());
    sc.advance(1);
    assert_eq!(lost(&mut sc), vec![10_000]);
}

#[test]
fn a_zero_timeout_gives_up_at_the_first_failure_not_while_the_server_answers() {
    let mut sc = Scenario::new(with_limits(token_config(), 0, 30));
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    // A slow answer is no failure: an unanswered request counts only after 5 s.
    sc.advance(4_000);
    assert!(lost(&mut sc).is_empty());
    sc.reply(
        &hs,
        json!([{"channel": "/meta/handshake", "successful": true, "clientId": CLIENT}]),
    );
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([connect_ok()]));
    assert!(lost(&mut sc).is_empty());
    // The first failure is reported at once.
    let poll = sc.next(RequestKind::Connect);
    sc.fail(
        &poll,
        sfstream_core::TransportError::Connect("refused".into()),
    );
    sc.advance(0);
    assert_eq!(lost(&mut sc), vec![0]);
}
