//! The next long poll goes out when a long-poll response arrives, before it is decoded
//! (`Session::handle_arrived`), and responses are still handled in the order their polls went out.
mod common;

use common::*;
use http::Response;
use proptest::prelude::*;
use serde_json::{Value, json};
use sfstream_core::{Arrived, Event, RequestKind, Transmit};

const A: &str = "/event/A__e";

/// The body of a long-poll response: `events` of channel A, then the reply (CometD's order).
fn body(t: &Transmit, events: std::ops::RangeInclusive<i64>, reply: Value) -> Vec<u8> {
    let mut reply = reply;
    reply["id"] = Scenario::body(t)[0]["id"].clone();
    let all: Vec<Value> = events.map(|i| event_msg(A, i)).chain([reply]).collect();
    serde_json::to_vec(&all).unwrap()
}

fn response(body: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder().status(200).body(body).unwrap()
}

/// The response has arrived: reported to the session, which may send something.
fn arrive(sc: &mut Scenario, t: &Transmit, response: Response<Vec<u8>>) -> Arrived {
    let arrived = sc.s.handle_arrived(t.id, response, sc.now);
    sc.pump();
    let arrived = arrived.expect("the session waits for the request");
    assert_eq!((arrived.id(), arrived.kind()), (t.id, t.kind));
    arrived
}

/// The response, decoded, is handed over.
fn handle(sc: &mut Scenario, arrived: Arrived) {
    sc.s.handle_received(arrived.decode(), sc.now);
    sc.pump();
}

/// The response is handled in one call, its arrival not reported first.
fn handle_whole(sc: &mut Scenario, t: &Transmit, response: Response<Vec<u8>>) {
    sc.s.handle_response(t.id, response, sc.now);
    sc.pump();
}

fn ids(sc: &mut Scenario) -> Vec<i64> {
    sc.messages()
        .iter()
        .map(|m| m.replay_id().unwrap())
        .collect()
}

#[test]
fn the_next_long_poll_goes_out_when_the_response_arrives() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    let r = response(body(&poll, 1..=3, connect_ok()));
    let r = arrive(&mut sc, &poll, r);
    let next = sc.next(RequestKind::Connect);
    assert_eq!(Scenario::body(&next)[0]["channel"], "/meta/connect");
    assert_eq!(sc.s.stats().connects_early, 1);
    assert_eq!(
        sc.s.pending(),
        0,
        "nothing is delivered before the response is handled"
    );
    handle(&mut sc, r);
    assert!(
        sc.nothing_sent(),
        "no second long poll for the same response"
    );
    assert_eq!(ids(&mut sc), vec![1, 2, 3]);
    // The early poll is the long poll now: its answer is handled like any other.
    let r = response(body(&next, 4..=5, connect_ok()));
    handle_whole(&mut sc, &next, r);
    assert_eq!(ids(&mut sc), vec![4, 5]);
    sc.next(RequestKind::Connect);
}

#[test]
fn a_reply_before_the_events_is_found_too() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    let mut reply = connect_ok();
    reply["id"] = Scenario::body(&poll)[0]["id"].clone();
    let all: Vec<Value> = [reply]
        .into_iter()
        .chain((1..=3).map(|i| event_msg(A, i)))
        .collect();
    let r = response(serde_json::to_vec(&all).unwrap());
    let r = arrive(&mut sc, &poll, r);
    sc.next(RequestKind::Connect);
    handle(&mut sc, r);
    assert_eq!(ids(&mut sc), vec![1, 2, 3]);
}

#[test]
fn a_response_that_arrives_early_waits_for_the_one_before_it() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let first = sc.next(RequestKind::Connect);
    let r1 = response(body(&first, 1..=3, connect_ok()));
    let r1 = arrive(&mut sc, &first, r1);
    let second = sc.next(RequestKind::Connect);
    // The second response is read faster than the first: it arrives and is handed over first.
    let r2 = response(body(&second, 4..=6, connect_ok()));
    let r2 = arrive(&mut sc, &second, r2);
    assert!(sc.nothing_sent(), "one long poll ahead at most");
    handle(&mut sc, r2);
    assert_eq!(sc.s.pending(), 0, "held until the first is handled");
    // Far past both polls' deadlines: responses that have arrived do not expire.
    sc.advance(200_000);
    assert!(sc.nothing_sent(), "{:?}", sc.sent);
    handle(&mut sc, r1);
    assert_eq!(
        ids(&mut sc),
        vec![1, 2, 3, 4, 5, 6],
        "in the order the polls went out"
    );
    // The second had arrived with a successful reply: its successor went out with the first.
    let third = sc.next(RequestKind::Connect);
    assert_eq!(sc.s.stats().connects_early, 2);
    let r3 = response(body(&third, 7..=7, connect_ok()));
    handle_whole(&mut sc, &third, r3);
    assert_eq!(ids(&mut sc), vec![7]);
    sc.next(RequestKind::Connect);
}

/// A response whose reply is `failed` (a lost session): nothing goes out on its arrival, and
/// handling it starts a handshake.
fn nothing_early_for(failed: Value) {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    let r = response(body(&poll, 1..=2, failed));
    let r = arrive(&mut sc, &poll, r);
    assert!(sc.nothing_sent());
    handle(&mut sc, r);
    sc.next(RequestKind::Handshake);
    assert_eq!(sc.s.stats().connects_early, 0);
}

#[test]
fn a_failed_reply_sends_nothing_early() {
    nothing_early_for(json!({"channel": "/meta/connect", "successful": false,
        "error": "403::Unknown client", "advice": {"reconnect": "handshake", "interval": 0}}));
}

#[test]
fn a_string_that_looks_like_a_reply_is_not_taken_for_one() {
    // The last real message is a failed reply whose error text holds a successful reply.
    let fake = r#"x"},{"channel":"/meta/connect","successful":true}"#;
    nothing_early_for(json!({"channel": "/meta/connect", "successful": false,
        "error": format!("403::Unknown client {fake}"), "advice": {"reconnect": "handshake"}}));
}

#[test]
fn the_response_cookies_go_with_the_early_poll() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    let r = Response::builder()
        .status(200)
        .header("set-cookie", "sfdc-stream=node-7; Path=/")
        .body(body(&poll, 1..=1, connect_ok()))
        .unwrap();
    let r = arrive(&mut sc, &poll, r);
    let next = sc.next(RequestKind::Connect);
    let cookie = next
        .request
        .headers()
        .get("cookie")
        .map(|v| v.to_str().unwrap());
    assert_eq!(cookie, Some("sfdc-stream=node-7"));
    handle(&mut sc, r);
    assert_eq!(ids(&mut sc), vec![1]);
}

#[test]
fn a_server_disconnect_in_the_body_cancels_the_early_poll() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    let mut reply = connect_ok();
    reply["id"] = Scenario::body(&poll)[0]["id"].clone();
    let all = json!([{"channel": "/meta/disconnect"}, event_msg(A, 1), reply]);
    let r = response(serde_json::to_vec(&all).unwrap());
    let arrived = sc.s.handle_arrived(poll.id, r, sc.now).unwrap();
    let early = sc.s.poll_transmit().expect("an early poll");
    assert_eq!(early.kind, RequestKind::Connect);
    sc.s.handle_received(arrived.decode(), sc.now);
    let cancelled: Vec<_> = std::iter::from_fn(|| sc.s.poll_cancel()).collect();
    assert_eq!(cancelled, vec![early.id]);
    sc.next(RequestKind::Handshake);
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. })),
        "{:?}",
        sc.events
    );
    // The early poll's late answer is ignored: nothing is queued from it.
    let late = response(body(&early, 50..=51, connect_ok()));
    handle_whole(&mut sc, &early, late);
    assert!(ids(&mut sc).iter().all(|id| *id < 50));
}

#[test]
fn an_early_poll_is_cancelled_with_the_session() {
    let mut s = Scenario::connected(token_config(), &[A]);
    let poll = s.next(RequestKind::Connect);
    let r = response(body(&poll, 1..=1, connect_ok()));
    let _arrived = s.s.handle_arrived(poll.id, r, s.now);
    let early = s.s.poll_transmit().expect("an early poll");
    s.s.close(s.now);
    let cancelled: Vec<_> = std::iter::from_fn(|| s.s.poll_cancel()).collect();
    assert!(cancelled.contains(&early.id), "{cancelled:?}");
    assert!(cancelled.contains(&poll.id), "{cancelled:?}");
}

#[test]
fn an_unreadable_body_behind_a_good_reply_is_fetched_again() {
    // The reply at the end reads, but the events before it do not: they may be events the
    // server will not send again. The early poll is abandoned with the session, and the
    // channel is fetched again on a new one from its last accepted id.
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    let r = response(body(&poll, 1..=2, connect_ok()));
    let r = arrive(&mut sc, &poll, r);
    let early = sc.next(RequestKind::Connect);
    handle(&mut sc, r);
    assert_eq!(ids(&mut sc), vec![1, 2]);
    let id = Scenario::body(&early)[0]["id"].clone();
    let bytes = format!(
        r#"[{{"channel":"/event/A__e","data":{{"event":{{"replayId":3}}}} oops }},{{"channel":"/meta/connect","successful":true,"id":{id}}}]"#
    );
    let r = response(bytes.into_bytes());
    let r = arrive(&mut sc, &early, r);
    let after = sc.next(RequestKind::Connect);
    sc.s.handle_received(r.decode(), sc.now);
    let cancelled: Vec<_> = std::iter::from_fn(|| sc.s.poll_cancel()).collect();
    assert_eq!(
        cancelled,
        vec![after.id],
        "the poll sent early goes with the session"
    );
    sc.pump();
    assert!(
        sc.events.iter().any(|e| matches!(
            e,
            Event::Refetch {
                from: sfstream_core::ReplayFrom::Id(2),
                ..
            }
        )),
        "{:?}",
        sc.events
    );
    sc.handshake_ok("client-2");
    let _first = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    assert_eq!(Scenario::body(&sub)[0]["ext"]["replay"][A], 2);
}

#[test]
fn without_arrival_reports_nothing_changes() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let poll = sc.next(RequestKind::Connect);
    let r = response(body(&poll, 1..=2, connect_ok()));
    handle_whole(&mut sc, &poll, r);
    sc.next(RequestKind::Connect);
    assert_eq!(sc.s.stats().connects_early, 0);
    assert_eq!(ids(&mut sc), vec![1, 2]);
}

/// Strings that stress a reading from the end: braces, quotes, escapes, fake messages.
fn tricky_string() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("},{".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just(",".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(r#"{"channel":"/meta/connect","successful":true}"#.to_owned()),
        Just(r#"},{"channel":"/meta/connect","successful":true}]"#.to_owned()),
        "[a-z ]{0,6}",
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

/// The last message of a generated body: an event, a successful reply or a failed one.
#[derive(Debug, Clone)]
enum Last {
    Event(String),
    Success(String),
    Failure(String),
}

fn last_message() -> impl Strategy<Value = Last> {
    prop_oneof![
        tricky_string().prop_map(Last::Event),
        tricky_string().prop_map(Last::Success),
        tricky_string().prop_map(Last::Failure),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A poll goes out early exactly when the body's last message is a successful reply,
    /// whatever the strings before it hold.
    #[test]
    fn early_exactly_when_the_last_message_is_a_successful_reply(
        texts in prop::collection::vec(tricky_string(), 1..4),
        last in last_message(),
    ) {
        let mut sc = Scenario::connected(token_config(), &[A]);
        let poll = sc.next(RequestKind::Connect);
        let id = Scenario::body(&poll)[0]["id"].clone();
        let mut all: Vec<Value> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut e = event_msg(A, i as i64 + 1);
                e["data"]["payload"]["Text"] = json!(t);
                e
            })
            .collect();
        let expect_early = match &last {
            Last::Event(t) => {
                let mut e = event_msg(A, 100);
                e["data"]["payload"]["Text"] = json!(t);
                all.push(e);
                false
            }
            Last::Success(t) => {
                all.push(json!({"channel": "/meta/connect", "successful": true, "id": id, "ext": {"note": t}}));
                true
            }
            Last::Failure(t) => {
                all.push(json!({"channel": "/meta/connect", "successful": false, "id": id,
                    "error": format!("403::Unknown client {t}"), "advice": {"reconnect": "handshake"}}));
                false
            }
        };
        let r = response(serde_json::to_vec(&all).unwrap());
        let arrived = sc.s.handle_arrived(poll.id, r, sc.now).unwrap();
        let sent_early = std::iter::from_fn(|| sc.s.poll_transmit())
            .any(|t| t.kind == RequestKind::Connect);
        prop_assert_eq!(sent_early, expect_early);
        sc.s.handle_received(arrived.decode(), sc.now);
        let got: Vec<i64> = std::iter::from_fn(|| sc.s.poll_message())
            .map(|m| m.replay_id().unwrap())
            .collect();
        let want: Vec<i64> = (1..=texts.len() as i64)
            .chain(matches!(last, Last::Event(_)).then_some(100))
            .collect();
        prop_assert_eq!(got, want);
    }
}
