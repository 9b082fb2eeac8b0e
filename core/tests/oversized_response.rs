//! A long-poll response over `max_response_bytes` is fetched again from the last accepted ids
//! (it may have carried events). If the re-fetch meets a response over the bound again from the
//! very same ids, fetching again cannot get past it: the session stops with an error naming the
//! setting to raise, instead of looping on it for ever. Progress in between starts over.
mod common;

use common::*;
use serde_json::json;
use sfstream_core::{DisconnectReason, Error, Event, ReplayFrom, RequestKind, TransportError};

const A: &str = "/event/A__e";

fn oversized(sc: &mut Scenario, poll: &sfstream_core::Transmit) {
    sc.fail(poll, TransportError::BodyTooLarge { limit: 1024 });
    sc.pump();
}

fn refetch_points(sc: &Scenario) -> Vec<ReplayFrom> {
    sc.events
        .iter()
        .filter_map(|e| match e {
            Event::Refetch { from, .. } => Some(*from),
            _ => None,
        })
        .collect()
}

fn failure(sc: &Scenario) -> Option<String> {
    sc.events.iter().find_map(|e| match e {
        Event::Disconnected(DisconnectReason::Failed(err @ Error::Config(_))) => {
            Some(err.to_string())
        }
        _ => None,
    })
}

/// Connected on A, A 1..=2 accepted; returns the long poll now out.
fn streaming(sc: &mut Scenario) -> sfstream_core::Transmit {
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([event_msg(A, 1), event_msg(A, 2), connect_ok()]),
    );
    let poll = sc.next(RequestKind::Connect);
    sc.events.clear();
    poll
}

/// Handshake, resubscription and the first poll of the re-fetch's new session; returns the
/// long poll that carries the replay.
fn resubscribed(sc: &mut Scenario, client: &str) -> sfstream_core::Transmit {
    sc.handshake_ok(client);
    let first = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    sc.reply_ok(&sub);
    sc.reply(&first, json!([connect_ok()]));
    sc.next(RequestKind::Connect)
}

#[test]
fn the_same_oversized_response_twice_stops_with_the_setting_to_raise() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = streaming(&mut sc);
    oversized(&mut sc, &poll);
    assert_eq!(refetch_points(&sc), vec![ReplayFrom::Id(2)]);
    assert_eq!(failure(&sc), None, "the first time is fetched again");
    sc.events.clear();

    let replay = resubscribed(&mut sc, "client-2");
    oversized(&mut sc, &replay);
    let err = failure(&sc).expect("the second time from the same ids ends the session");
    assert!(err.contains("max_response_bytes"), "{err}");
    assert!(err.contains("1024") || err.contains("bytes"), "{err}");
    assert!(
        refetch_points(&sc).is_empty(),
        "no further re-fetch: {:?}",
        sc.events
    );
    assert_eq!(
        sc.s.pending(),
        2,
        "what arrived before stays for the application"
    );
}

#[test]
fn progress_between_two_oversized_responses_fetches_again() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = streaming(&mut sc);
    oversized(&mut sc, &poll);
    sc.events.clear();

    let replay = resubscribed(&mut sc, "client-2");
    sc.reply(&replay, json!([event_msg(A, 3), connect_ok()]));
    let poll = sc.next(RequestKind::Connect);
    sc.events.clear();
    oversized(&mut sc, &poll);
    assert_eq!(failure(&sc), None, "{:?}", sc.events);
    assert_eq!(refetch_points(&sc), vec![ReplayFrom::Id(3)]);
}

#[test]
fn another_failure_in_between_forgets_the_oversized_points() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = streaming(&mut sc);
    oversized(&mut sc, &poll);
    sc.events.clear();

    let replay = resubscribed(&mut sc, "client-2");
    sc.fail(
        &replay,
        TransportError::Io("connection reset by peer".into()),
    );
    sc.pump();
    assert_eq!(refetch_points(&sc), vec![ReplayFrom::Id(2)]);
    sc.events.clear();

    let replay = resubscribed(&mut sc, "client-3");
    oversized(&mut sc, &replay);
    assert_eq!(failure(&sc), None, "{:?}", sc.events);
    assert_eq!(refetch_points(&sc), vec![ReplayFrom::Id(2)]);
}
