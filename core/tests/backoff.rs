//! Failures without usable advice back off exponentially (HTTP 5xx, network errors, malformed
//! bytes); an outage longer than the connection timeout is reported once, and its end too.
mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sfstream_core::{Error, Event, RequestKind, TransportError};

#[test]
fn http_5xx_and_network_errors_back_off_exponentially_with_a_cap() {
    let mut config = token_config();
    config.retry.max = Duration::from_secs(8);
    let mut sc = Scenario::connected(config, &[]);
    let mut delays = Vec::new();
    for i in 0..6 {
        let poll = sc.next(RequestKind::Connect);
        if i % 2 == 0 {
            sc.reply_raw(&poll, 502, b"<html>Bad gateway</html>".to_vec());
        } else {
            sc.fail(&poll, TransportError::Io("reset".into()));
        }
        let d = *sc.reconnect_delays().last().unwrap() as u64;
        delays.push(d);
        assert!(sc.nothing_sent(), "never a tight loop");
        sc.advance(d);
    }
    assert_eq!(delays, vec![1000, 2000, 4000, 8000, 8000, 8000]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([connect_ok()]));
    let poll = sc.next(RequestKind::Connect);
    sc.fail(&poll, TransportError::Timeout);
    assert_eq!(
        *sc.reconnect_delays().last().unwrap(),
        1000,
        "success resets the backoff"
    );
}

#[test]
fn malformed_json_is_an_error_event_and_a_retry() {
    let mut sc = Scenario::connected(token_config(), &[]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply_raw(&poll, 200, br#"[{"channel":"/meta/connect","#.to_vec());
    assert!(sc.events.iter().any(|e| matches!(
        e,
        Event::Reconnecting {
            reason: Error::Protocol { .. },
            ..
        }
    )));
    sc.advance(1000);
    sc.next(RequestKind::Connect);
}

#[test]
fn outage_past_the_connection_timeout_is_reported_once_then_restored() {
    let mut config = token_config();
    config.connection_timeout = Some(Duration::from_secs(10));
    let mut sc = Scenario::connected(config, &[]);
    for _ in 0..5 {
        let poll = sc.next(RequestKind::Connect);
        sc.fail(&poll, TransportError::Connect("refused".into()));
        let d = *sc.reconnect_delays().last().unwrap() as u64;
        sc.advance(d);
    }
    // 1 + 2 + 4 + 8 + 16 = 31 s of outage: reported exactly once.
    let lost = sc
        .events
        .iter()
        .filter(|e| matches!(e, Event::Error(Error::ConnectionLost { .. })))
        .count();
    assert_eq!(lost, 1);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([connect_ok()]));
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::ConnectionRestored))
    );
}

#[test]
fn busy_subscribe_is_retried_after_a_delay() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe("/event/A__e", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok(CLIENT);
    let _poll = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    sc.reply(&sub, json!([{"channel": "/meta/subscribe", "successful": false, "error": "503::Server is too busy.  Please try your request again later."}]));
    assert!(sc.nothing_sent());
    sc.advance(1000);
    let again = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&again)[0]["subscription"], "/event/A__e");
}

#[test]
fn a_server_that_keeps_refusing_counts_as_lost_too() {
    let mut config = token_config();
    config.connection_timeout = Some(Duration::from_secs(10));
    let mut sc = Scenario::connected(config, &[]);
    for _ in 0..6 {
        sc.pump();
        let Some(t) = sc.sent.pop_front() else {
            let d = *sc.reconnect_delays().last().unwrap() as u64;
            sc.advance(d.max(1));
            continue;
        };
        match t.kind {
            RequestKind::Handshake => sc.reply(&t, json!([{"channel": "/meta/handshake", "successful": true, "clientId": "again"}])),
            _ => sc.reply(&t, json!([{"channel": "/meta/connect", "successful": false, "error": "403::Unknown client"}])),
        }
        sc.advance(*sc.reconnect_delays().last().unwrap_or(&0) as u64);
    }
    sc.advance(10_000);
    let lost = sc
        .events
        .iter()
        .filter(|e| matches!(e, Event::Error(Error::ConnectionLost { .. })))
        .count();
    assert_eq!(
        lost, 1,
        "an unusable stream is reported after the connection timeout"
    );
}
