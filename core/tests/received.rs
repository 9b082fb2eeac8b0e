//! A response read outside the session (`Received::read`, as an adapter does without holding its
//! lock) is handled exactly like one given whole to `handle_response`.
mod common;

use common::*;
use serde_json::{Value, json};
use sfstream_core::{Event, Received, RequestKind};

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// What the application sees of a message: channel, replay id, raw JSON.
type Seen = (String, Option<i64>, String);

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
        // On another thread, as an adapter's response task would.
        let received = std::thread::spawn(move || Received::read(RequestKind::Connect, response))
            .join()
            .unwrap();
        sc.s.handle_received(poll.id, received, sc.now);
    } else {
        sc.s.handle_response(poll.id, response, sc.now);
    }
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
fn a_response_read_for_the_wrong_kind_is_still_handled() {
    // An adapter that passed another kind: a connect response kept as bytes is decoded by the
    // session; nothing is lost.
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let sent = Scenario::body(&poll);
    let mut reply = connect_ok();
    reply["id"] = sent[0]["id"].clone();
    let response = http::Response::new(body(&json!([reply, event_msg("/event/A__e", 1)])));
    let received = Received::read(RequestKind::Token, response);
    sc.s.handle_received(poll.id, received, sc.now);
    let ids: Vec<_> = sc.messages().iter().map(|m| m.replay_id()).collect();
    assert_eq!(ids, [Some(1)]);
    assert!(sc.nothing_sent() || sc.sent.iter().all(|t| t.kind == RequestKind::Connect));
}

#[test]
fn debug_shows_neither_headers_nor_body() {
    let response = http::Response::builder()
        .status(200)
        .header("set-cookie", "sid=secret-session-value; Path=/")
        .body(
            br#"[{"channel":"/meta/connect","successful":true,"clientId":"secret-client"}]"#
                .to_vec(),
        )
        .unwrap();
    let shown = format!("{:?}", Received::read(RequestKind::Connect, response));
    assert!(shown.contains("200"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
}
