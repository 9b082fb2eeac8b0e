//! A long poll that fails after its request may have reached the server may have carried events
//! the server will not send again: every channel is fetched again, on a new Bayeux session, from
//! its last accepted replay id. Nothing is lost, nothing accepted comes twice, and what waits for
//! the application is kept. Failures before the request left are retried as before.
mod common;

use common::*;
use serde_json::{Value, json};
use sfstream_core::{
    CommitPolicy, Config, Event, RefetchReason, ReplayFrom, RequestKind, Transmit, TransportError,
};

const A: &str = "/event/A__e";
const B: &str = "/event/B__e";

/// Streaming on A and B: the first poll brought A 1..=3 and B 11..=12, the application took A 1;
/// returns the scenario and the long poll now out.
fn streaming(config: Config) -> (Scenario, Transmit) {
    let mut sc = Scenario::connected(config, &[A, B]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
            event_msg(A, 1),
            event_msg(A, 2),
            event_msg(A, 3),
            event_msg(B, 11),
            event_msg(B, 12),
            connect_ok()
        ]),
    );
    assert_eq!(sc.s.poll_message().unwrap().replay_id(), Some(1));
    let poll = sc.next(RequestKind::Connect);
    sc.events.clear();
    (sc, poll)
}

/// After a broken poll: the re-fetch events, a new session, both channels resubscribed after
/// their last accepted ids, the queue kept; the replay then brings A 4..=5 (carried by the
/// broken poll) and everything arrives once, in order.
fn check_refetch(sc: &mut Scenario, reason_contains: &str) {
    sc.pump();
    let refetches: Vec<(String, ReplayFrom, String)> = sc
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Refetch {
                channel,
                from,
                reason: RefetchReason::BrokenLongPoll(err),
            } => Some((channel.clone(), *from, err.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        refetches
            .iter()
            .map(|(c, f, _)| (c.as_str(), *f))
            .collect::<Vec<_>>(),
        vec![(A, ReplayFrom::Id(3)), (B, ReplayFrom::Id(12))],
        "{:?}",
        sc.events
    );
    assert!(
        refetches[0].2.contains(reason_contains),
        "{:?} should name {reason_contains:?}",
        refetches[0].2
    );
    assert_eq!(sc.s.stats().broken_long_polls, 1);
    assert_eq!(sc.s.stats().refetches, 2);
    assert_eq!(sc.s.pending(), 4, "what waits for the application is kept");

    sc.handshake_ok("client-2");
    let first = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    let body = Scenario::body(&sub);
    let replay: Vec<(Value, Value)> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["subscription"].clone(),
                m["ext"]["replay"][m["subscription"].as_str().unwrap()].clone(),
            )
        })
        .collect();
    assert_eq!(
        replay,
        vec![(json!(A), json!(3)), (json!(B), json!(12))],
        "resubscribed after the last accepted ids"
    );
    sc.reply_ok(&sub);
    sc.reply(&first, json!([connect_ok()]));
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([event_msg(A, 4), event_msg(A, 5), connect_ok()]),
    );
    let got: Vec<(String, i64)> = sc
        .messages()
        .iter()
        .map(|m| (m.channel().to_owned(), m.replay_id().unwrap()))
        .collect();
    let want: Vec<(String, i64)> = [(A, 2), (A, 3), (B, 11), (B, 12), (A, 4), (A, 5)]
        .into_iter()
        .map(|(c, i)| (c.to_owned(), i))
        .collect();
    assert_eq!(got, want, "nothing lost, nothing twice");
}

#[test]
fn the_connection_broke_after_the_request_was_written() {
    let (mut sc, poll) = streaming(token_config());
    sc.fail(&poll, TransportError::Io("connection reset by peer".into()));
    check_refetch(&mut sc, "connection reset");
}

#[test]
fn the_deadline_passed_while_the_server_held_the_poll() {
    let (mut sc, _poll) = streaming(token_config());
    sc.advance(125_000);
    check_refetch(&mut sc, "no response before the deadline");
}

#[test]
fn a_successful_answer_whose_body_does_not_parse() {
    let (mut sc, poll) = streaming(token_config());
    // The body broke off mid-event and the adapter handed over what it had.
    sc.reply_raw(
        &poll,
        200,
        br#"[{"channel":"/event/A__e","data":{"event":{"replayId":4}"#.to_vec(),
    );
    check_refetch(&mut sc, "connect");
}

#[test]
fn a_body_over_the_bound() {
    let (mut sc, poll) = streaming(token_config());
    sc.fail(&poll, TransportError::BodyTooLarge { limit: 1024 });
    check_refetch(&mut sc, "1024-byte bound");
}

#[test]
fn a_body_over_the_bound_handed_over_whole() {
    let mut config = token_config();
    config.max_response_bytes = 2048;
    let (mut sc, poll) = streaming(config);
    let big: Vec<Value> = (4..=40)
        .map(|i| event_msg(A, i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, Value::Array(big));
    check_refetch(&mut sc, "2048-byte bound");
}

#[test]
fn a_gateway_gave_up_on_the_server() {
    for status in [502, 504] {
        let (mut sc, poll) = streaming(token_config());
        sc.reply_raw(&poll, status, b"<html>Gateway Timeout</html>".to_vec());
        check_refetch(&mut sc, &status.to_string());
    }
}

#[test]
fn an_unclassified_failure_counts_as_reached() {
    let (mut sc, poll) = streaming(token_config());
    sc.fail(&poll, TransportError::Other("something odd".into()));
    check_refetch(&mut sc, "something odd");
}

#[test]
fn a_failure_before_the_request_left_retries_the_same_session() {
    let (mut sc, poll) = streaming(token_config());
    sc.fail(&poll, TransportError::Connect("connection refused".into()));
    assert!(
        !sc.events.iter().any(|e| matches!(e, Event::Refetch { .. })),
        "{:?}",
        sc.events
    );
    assert_eq!(sc.reconnect_delays(), vec![1000]);
    sc.advance(1000);
    let retry = sc.next(RequestKind::Connect);
    assert_eq!(
        Scenario::body(&retry)[0]["clientId"],
        CLIENT,
        "same session"
    );
    assert_eq!(sc.s.stats().broken_long_polls, 0);
    assert_eq!(sc.s.stats().handshakes, 1);
}

#[test]
fn a_server_error_answer_retries_the_same_session() {
    // A 503 or 500 is the server's own answer: it handed the poll no events.
    for status in [500, 503] {
        let (mut sc, poll) = streaming(token_config());
        sc.reply_raw(&poll, status, b"busy".to_vec());
        assert!(!sc.events.iter().any(|e| matches!(e, Event::Refetch { .. })));
        sc.advance(1000);
        let retry = sc.next(RequestKind::Connect);
        assert_eq!(Scenario::body(&retry)[0]["clientId"], CLIENT);
    }
}

#[test]
fn repeated_breaks_back_off() {
    let (mut sc, poll) = streaming(token_config());
    sc.fail(&poll, TransportError::Io("reset".into()));
    assert_eq!(sc.reconnect_delays(), vec![0], "the first at once");
    sc.handshake_ok("client-2");
    let first = sc.next(RequestKind::Connect);
    sc.fail(&first, TransportError::Io("reset".into()));
    let delays = sc.reconnect_delays();
    assert_eq!(delays.len(), 2);
    assert!(
        delays[1] >= 1000,
        "a second break before any success waits: {delays:?}"
    );
    assert!(sc.nothing_sent(), "{:?}", sc.sent);
    sc.advance(delays[1] as u64);
    sc.next(RequestKind::Handshake);
}

#[test]
fn manual_commit_resumes_after_the_last_accepted_not_the_last_committed() {
    let mut config = token_config();
    config.commit = CommitPolicy::Manual;
    let (mut sc, poll) = streaming(config);
    assert_eq!(sc.s.committed(A), None, "nothing committed");
    sc.fail(&poll, TransportError::Io("reset".into()));
    check_refetch(&mut sc, "reset");
}

#[test]
fn without_subscriptions_the_session_is_kept() {
    let mut sc = Scenario::connected(token_config(), &[]);
    let poll = sc.next(RequestKind::Connect);
    sc.fail(&poll, TransportError::Io("reset".into()));
    assert!(!sc.events.iter().any(|e| matches!(e, Event::Refetch { .. })));
    sc.advance(1000);
    let retry = sc.next(RequestKind::Connect);
    assert_eq!(Scenario::body(&retry)[0]["clientId"], CLIENT);
}

#[test]
fn plain_bayeux_has_no_replay_and_keeps_the_session() {
    let mut config = Config::bayeux("http://127.0.0.1:8000/bayeux");
    config.retry = token_config().retry;
    let mut sc = Scenario::new(config);
    sc.s.subscribe("/chat/room", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok("faye-1");
    let poll = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    sc.reply_ok(&sub);
    sc.fail(&poll, TransportError::Io("reset".into()));
    assert!(!sc.events.iter().any(|e| matches!(e, Event::Refetch { .. })));
    assert_eq!(sc.s.stats().handshakes, 1);
}

#[test]
fn a_channel_with_no_replay_position_resubscribes_from_new() {
    // A channel that started from "new" and accepted nothing yet has no position to replay
    // from: what a broken poll carried for it cannot be fetched again (its Refetch says so).
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    sc.fail(&poll, TransportError::Io("reset".into()));
    assert!(
        sc.events.iter().any(|e| matches!(e,
            Event::Refetch { channel, from: ReplayFrom::New, .. } if channel == A)),
        "{:?}",
        sc.events
    );
    sc.handshake_ok("client-2");
    let _first = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&sub)[0]["ext"]["replay"][A], -1);
}
