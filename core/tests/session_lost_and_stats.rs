//! What a session tells about itself beyond messages: a lost Bayeux session is reported as such
//! (a retry on the same session is not), and the counters name each channel's replay positions,
//! the sessions after the first and when the last event arrived.
mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sfstream_core::{CommitPolicy, Event, RequestKind, TransportError};

const A: &str = "/event/A__e";
const B: &str = "/event/B__e";

fn lost(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SessionLost { reason } => Some(reason.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_unknown_client_is_a_lost_session_and_a_counted_reconnect() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    assert_eq!(sc.s.stats().sessions, 1);
    assert_eq!(sc.s.stats().reconnects, 0);
    sc.events.clear();
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([{"channel": "/meta/connect", "successful": false, "error": "403::Unknown client",
            "advice": {"reconnect": "handshake"}}]),
    );
    let lost = lost(&sc.events);
    assert_eq!(lost.len(), 1, "{:?}", sc.events);
    assert!(lost[0].contains("Unknown client"), "{lost:?}");
    let position = |want: fn(&Event) -> bool| sc.events.iter().position(want);
    assert!(
        position(|e| matches!(e, Event::SessionLost { .. }))
            < position(|e| matches!(e, Event::Reconnecting { .. })),
        "the loss comes before the retry it causes: {:?}",
        sc.events
    );
    sc.handshake_ok("client-2");
    assert_eq!(sc.s.stats().sessions, 2);
    assert_eq!(sc.s.stats().reconnects, 1);
}

#[test]
fn a_long_poll_refused_before_sending_is_no_lost_session() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    sc.events.clear();
    let poll = sc.next(RequestKind::Connect);
    sc.fail(&poll, TransportError::Connect("refused".into()));
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. })),
        "{:?}",
        sc.events
    );
    assert!(lost(&sc.events).is_empty(), "{:?}", sc.events);
    assert_eq!(sc.s.stats().reconnects, 0);
}

#[test]
fn a_failed_first_handshake_is_no_lost_session() {
    let mut sc = Scenario::new(token_config());
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    sc.fail(&hs, TransportError::Connect("refused".into()));
    assert!(lost(&sc.events).is_empty(), "{:?}", sc.events);
    assert_eq!(sc.s.stats().sessions, 0);
}

#[test]
fn stats_name_each_channels_accepted_and_committed_ids_and_the_last_event_time() {
    let mut config = token_config();
    config.commit = CommitPolicy::Manual;
    let mut sc = Scenario::connected(config, &[A, B]);
    assert_eq!(sc.s.stats().last_event_at, None);
    assert_eq!(sc.s.stats().channels[A].accepted, None);
    sc.advance(1500);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
            event_msg(A, 1),
            event_msg(A, 2),
            event_msg(B, 7),
            connect_ok()
        ]),
    );
    let arrived = sc.now;
    let first = sc.s.poll_message().expect("A 1");
    sc.s.commit_message(&first).unwrap();
    sc.advance(700);
    let stats = sc.s.stats();
    assert_eq!(stats.last_event_at, Some(arrived));
    assert_eq!(
        stats.last_event_at.map(|t| sc.now - t),
        Some(Duration::from_millis(700))
    );
    assert_eq!(
        (stats.channels[A].accepted, stats.channels[A].committed),
        (Some(2), Some(1))
    );
    assert_eq!(
        (stats.channels[B].accepted, stats.channels[B].committed),
        (Some(7), None)
    );
    assert_eq!(stats.channels.len(), 2);
}
