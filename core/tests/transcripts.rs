//! Recorded Salesforce exchanges (tests/transcripts/*.json) played through the core.
#![allow(
    clippy::disallowed_methods,
    reason = "a test picks an arbitrary start instant; only differences matter"
)]

use std::time::Instant;

use sfstream_core::Event;
use sfstream_core::transcript::{Outcome, Transcript};

fn play(name: &str) -> Outcome {
    let path = format!(
        "{}/tests/transcripts/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let t = Transcript::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    t.play(Instant::now())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn count(out: &Outcome, f: impl Fn(&Event) -> bool) -> usize {
    out.events.iter().filter(|e| f(e)).count()
}

#[test]
fn happy_path_four_kinds() {
    let out = play("happy_path_four_kinds");
    assert_eq!(out.messages.len(), 4);
    let cdc = out.messages[2]
        .change_event_header()
        .expect("a ChangeEventHeader");
    assert_eq!(cdc.commit_number, Some(1_758_153_866_121_183_235));
    assert_eq!(
        out.messages[1].event_uuid(),
        Some("2ec0e371-1395-457f-9275-be1b527a72f7")
    );
    assert_eq!(out.messages[0].pushtopic_event_type(), Some("created"));
    let generic: String = out.messages[3].payload().unwrap();
    assert_eq!(generic, "This is a message.");
}

#[test]
fn reauth_after_401() {
    let out = play("reauth_after_401");
    assert_eq!(count(&out, |e| matches!(e, Event::Authenticated { .. })), 2);
}

#[test]
fn unknown_client_reconnect_none() {
    let out = play("unknown_client_reconnect_none");
    assert_eq!(count(&out, |e| matches!(e, Event::Authenticated { .. })), 1);
}

#[test]
fn server_disconnect() {
    play("server_disconnect");
}

#[test]
fn invalid_replay_fallback() {
    let out = play("invalid_replay_fallback");
    assert_eq!(
        count(&out, |e| matches!(e, Event::ReplayFallback { .. })),
        2
    );
}

#[test]
fn invalid_replay_no_fallback() {
    play("invalid_replay_no_fallback");
}

#[test]
fn busy_503_backoff() {
    let out = play("busy_503_backoff");
    assert_eq!(
        count(&out, |e| matches!(e, Event::Authenticated { .. })),
        1,
        "no token refresh for 503"
    );
}

#[test]
fn concurrent_limit_backoff() {
    let out = play("concurrent_limit_backoff");
    assert_eq!(count(&out, |e| matches!(e, Event::Reconnecting { .. })), 3);
}

#[test]
fn cookie_without_path() {
    play("cookie_without_path");
}

#[test]
fn broken_poll_connection_reset() {
    let out = play("broken_poll_connection_reset");
    let ids: Vec<_> = out.messages.iter().filter_map(|m| m.replay_id()).collect();
    assert_eq!(ids, vec![101, 102, 103, 104]);
    assert_eq!(count(&out, |e| matches!(e, Event::Refetch { .. })), 1);
}

#[test]
fn broken_poll_deadline() {
    play("broken_poll_deadline");
}

#[test]
fn broken_poll_unparsable_body() {
    play("broken_poll_unparsable_body");
}

#[test]
fn poll_refused_before_sending() {
    let out = play("poll_refused_before_sending");
    assert_eq!(count(&out, |e| matches!(e, Event::Refetch { .. })), 0);
    assert_eq!(count(&out, |e| matches!(e, Event::Handshaken { .. })), 1);
}

#[test]
fn refresh_token_reauth() {
    let out = play("refresh_token_reauth");
    assert_eq!(count(&out, |e| matches!(e, Event::Authenticated { .. })), 2);
    assert_eq!(out.messages.len(), 1);
}

#[test]
fn jwt_bearer_reauth() {
    let out = play("jwt_bearer_reauth");
    assert_eq!(count(&out, |e| matches!(e, Event::Authenticated { .. })), 2);
    assert_eq!(
        out.messages[0].kind(),
        sfstream_core::EventKind::ChangeDataCapture
    );
}

#[test]
fn client_credentials() {
    let out = play("client_credentials");
    let ids: Vec<_> = out.messages.iter().filter_map(|m| m.replay_id()).collect();
    assert_eq!(ids, vec![1, 2]);
}
