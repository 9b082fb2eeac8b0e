//! A response decoded outside the session (the `Arrived` token `handle_arrived` returns, decoded
//! as an adapter does without holding its lock, on one thread or two) is handled exactly like one
//! given whole to `handle_response`.
mod common;

use common::*;
use serde_json::{Value, json};
use sfstream_core::{Arrived, Event, Received, RequestKind};

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// What the application sees of a message: channel, replay id, raw JSON.
type Seen = (String, Option<i64>, String);

/// The messages the application can take now, and the error texts reported.
fn observe(sc: &mut Scenario) -> (Vec<Seen>, Vec<String>) {
    let messages = sc
        .messages()
        .iter()
        .map(|m| {
            (
                m.channel().to_owned(),
                m.replay_id(),
                m.raw_json().to_owned(),
            )
        })
        .collect();
    let errors = sc
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Error(e) => Some(e.to_string()),
            _ => None,
        })
        .collect();
    (messages, errors)
}

/// A connect response with events, one with a bad replay id and one without, answered the
/// two ways; returns the messages the application sees and the error texts.
fn deliver(read_outside: bool) -> (Vec<Seen>, Vec<String>) {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e", "/data/ChangeEvents"]);
    let poll = sc.next(RequestKind::Connect);
    let sent = Scenario::body(&poll);
    let mut reply = connect_ok();
    reply["id"] = sent[0]["id"].clone();
    let response = json!([
        reply,
        event_msg("/event/A__e", 7),
        event_msg("/data/ChangeEvents", 3),
        {"channel": "/event/A__e", "data": {"event": {"replayId": "x"}, "payload": {}}},
        {"channel": "/event/A__e", "data": {"payload": {}}},
        event_msg("/event/A__e", 8),
    ]);
    let response = http::Response::new(body(&response));
    if read_outside {
        let arrived = sc.s.handle_arrived(poll.id, response, sc.now).unwrap();
        // On another thread, as an adapter's response task would.
        let received = std::thread::spawn(move || arrived.decode()).join().unwrap();
        sc.s.handle_received(received, sc.now);
    } else {
        sc.s.handle_response(poll.id, response, sc.now);
    }
    observe(&mut sc)
}

#[test]
fn reading_outside_the_session_changes_nothing() {
    let (inside, inside_errors) = deliver(false);
    let (outside, outside_errors) = deliver(true);
    assert_eq!(inside.len(), 5, "{inside:?}");
    assert_eq!(
        inside.iter().map(|m| m.1).collect::<Vec<_>>(),
        [Some(7), Some(3), None, None, Some(8)]
    );
    assert_eq!(outside, inside);
    // The bad replay id and the missing one are both reported, the same way.
    assert_eq!(inside_errors.len(), 2, "{inside_errors:?}");
    assert!(inside_errors[1].contains("replayId` is missing"));
    assert_eq!(outside_errors, inside_errors);
}

#[test]
fn the_token_names_the_request_it_answers() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let arrived =
        sc.s.handle_arrived(poll.id, http::Response::new(b"[]".to_vec()), sc.now)
            .expect("the session waits for its long poll");
    assert_eq!(
        (arrived.id(), arrived.kind()),
        (poll.id, RequestKind::Connect)
    );
    assert_eq!(arrived.decode().id(), poll.id);
    // A request the session abandoned (with the session, on close) gets no token.
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.s.close(sc.now);
    let late =
        sc.s.handle_arrived(poll.id, http::Response::new(b"[]".to_vec()), sc.now);
    assert!(late.is_none(), "{late:?}");
}

#[test]
fn debug_shows_neither_headers_nor_body() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let response = http::Response::builder()
        .status(200)
        .header("set-cookie", "sid=secret-session-value; Path=/")
        .body(
            br#"[{"channel":"/meta/connect","successful":true,"clientId":"secret-client"}]"#
                .to_vec(),
        )
        .unwrap();
    let arrived = sc.s.handle_arrived(poll.id, response, sc.now).unwrap();
    let shown = format!("{arrived:?}");
    assert!(shown.contains("200"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
    let shown = format!("{:?}", arrived.decode());
    assert!(shown.contains("200"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
}

/// A connect response of `n` events, each with a payload of about 1 KB whose strings contain
/// `},{` (what the split guess looks for) and escapes.
fn large_body(reply_id: &Value, n: i64) -> Vec<u8> {
    let mut reply = connect_ok();
    reply["id"] = reply_id.clone();
    let mut messages = vec![reply];
    for i in 1..=n {
        let mut m = event_msg("/event/A__e", i);
        m["data"]["payload"]["Text__c"] = Value::String(format!(
            "{}\"}},{{\"channel\":\"/meta/connect\"}} {i}",
            "x},{y ".repeat(150)
        ));
        messages.push(m);
    }
    body(&Value::Array(messages))
}

/// What the application sees when the session's long poll is answered with the body `build`
/// makes (given the poll's message id), decoded by `read` (given the body too).
fn seen_with(
    build: impl FnOnce(&Value) -> Vec<u8>,
    read: impl FnOnce(Arrived, &[u8]) -> Received,
) -> (Vec<Seen>, Vec<String>) {
    let mut config = token_config();
    config.max_pending = 1_000;
    let mut sc = Scenario::connected(config, &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let sent = Scenario::body(&poll);
    let bytes = build(&sent[0]["id"]);
    let arrived =
        sc.s.handle_arrived(poll.id, http::Response::new(bytes.clone()), sc.now)
            .unwrap();
    sc.s.handle_received(read(arrived, &bytes), sc.now);
    observe(&mut sc)
}

/// The two halves of a cut at `at`, each read on a thread of its own, joined.
fn read_halves(arrived: Arrived, at: usize, with_second: bool) -> Received {
    let split = arrived.split_at(at);
    let second = split.second_half();
    let second = std::thread::spawn(move || second.read()).join().unwrap();
    let first = split.read_first_half();
    split.join(first, with_second.then_some(second))
}

#[test]
fn a_large_body_read_in_two_halves_reads_the_same() {
    let whole = seen_with(|id| large_body(id, 400), |a, _| a.decode());
    assert_eq!(whole.0.len(), 400);
    assert!(whole.1.is_empty(), "{:?}", whole.1);
    let mut guess = 0;
    let mut bytes = Vec::new();
    let guessed = seen_with(
        |id| large_body(id, 400),
        |a, body| {
            let split = a.split().expect("a large body splits");
            guess = split.at();
            bytes = body.to_vec();
            let second = split.second_half().read();
            let first = split.read_first_half();
            split.join(first, Some(second))
        },
    );
    assert_eq!(guessed, whole);
    assert_eq!(bytes[guess], b'{');
    // Cuts that are not message boundaries: inside a string, inside a message, right after the
    // `[`, at the end.
    let inside_string = bytes[..guess]
        .windows(5)
        .rposition(|w| w == b"x},{y")
        .unwrap()
        + 3;
    let cuts = [
        guess,
        inside_string,
        guess + 1,
        guess - 1,
        1,
        bytes.len() - 1,
    ];
    for cut in cuts {
        let halves = seen_with(|id| large_body(id, 400), |a, _| read_halves(a, cut, true));
        assert_eq!(halves, whole, "cut at {cut}");
    }
    // Without the second half's reading, the whole body is decoded.
    let alone = seen_with(
        |id| large_body(id, 400),
        |a, _| read_halves(a, guess, false),
    );
    assert_eq!(alone, whole);
}

#[test]
fn small_bodies_and_other_requests_are_not_split() {
    let large = large_body(&json!("x"), 400);
    // A handshake's response, however large.
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe("/event/A__e", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    let arrived =
        sc.s.handle_arrived(hs.id, http::Response::new(large), sc.now)
            .unwrap();
    assert!(arrived.split().is_err());
    // A small long-poll response.
    let small = seen_with(
        |id| large_body(id, 10),
        |a, _| match a.split() {
            Ok(split) => panic!("a small body split: {split:?}"),
            Err(a) => a.decode(),
        },
    );
    assert_eq!(small.0.len(), 10);
}

mod any_cut {
    use super::*;
    use proptest::prelude::*;

    /// Events whose payload strings are full of what a split guess looks for, escapes and
    /// non-ASCII text, with now and then a meta reply or an event of an odd shape.
    fn arb_message() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            "[a-z },{\\]\\[\"\\\\]{0,40}",
            "[é€😀},{ ]{0,10}",
            Just("},{\"channel\":\"/meta/connect\",\"successful\":false}]".to_owned()),
        ];
        prop_oneof![
            6 => (1i64..1_000_000, text.clone()).prop_map(|(id, t)| {
                let mut m = event_msg("/event/A__e", id);
                m["data"]["payload"]["T"] = Value::String(t);
                m
            }),
            1 => text.clone().prop_map(|t| json!({"channel": "/event/A__e", "data": {"event": {"replayId": t}}})),
            1 => Just(json!({"channel": "/meta/subscribe", "successful": true, "subscription": "/x"})),
            1 => text.prop_map(|t| json!({"channel": "/event/A__e", "data": t})),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn two_halves_read_what_one_reading_does(
            messages in prop::collection::vec(arb_message(), 0..12),
            cut in any::<prop::sample::Index>(),
            at_a_guess in any::<bool>(),
        ) {
            let build = |id: &Value| {
                let mut reply = connect_ok();
                reply["id"] = id.clone();
                let mut all = messages.clone();
                all.insert(0, reply);
                body(&Value::Array(all))
            };
            let whole = seen_with(|id| build(id), |a, _| a.decode());
            let halves = seen_with(|id| build(id), |a, bytes| {
                // Any byte, or (half the time) a `{` after `},`: a real boundary or one inside a
                // string, as the split guess finds them.
                let guesses: Vec<usize> = bytes
                    .windows(3)
                    .enumerate()
                    .filter(|(_, w)| *w == b"},{")
                    .map(|(i, _)| i + 2)
                    .collect();
                let at = if at_a_guess && !guesses.is_empty() {
                    guesses[cut.index(guesses.len())]
                } else {
                    cut.index(bytes.len() + 1)
                };
                let split = a.split_at(at);
                let second = split.second_half().read();
                let first = split.read_first_half();
                split.join(first, Some(second))
            });
            prop_assert_eq!(halves, whole);
        }
    }
}
