//! Plain Bayeux mode: no OAuth, no replay extension, and `reconnect: none` is obeyed.
mod common;

use common::*;
use serde_json::json;
use sfstream_core::{Config, DisconnectReason, Event, RequestKind};

#[test]
fn no_auth_header_and_no_replay_ext() {
    let mut sc = Scenario::new(Config::bayeux("http://127.0.0.1:8000/bayeux"));
    sc.s.subscribe("/chat/room", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    assert!(hs.request.headers().get("authorization").is_none());
    assert!(Scenario::body(&hs)[0].get("ext").is_none());
    sc.reply(&hs, json!([{"channel": "/meta/handshake", "successful": true, "clientId": "faye-1", "version": "1.0"}]));
    let poll = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    assert!(Scenario::body(&sub)[0].get("ext").is_none());
    sc.reply_ok(&sub);
    sc.reply(
        &poll,
        json!([{"channel": "/chat/room", "data": {"text": "hi"}, "id": "m1"}, connect_ok()]),
    );
    let m = sc.messages().remove(0);
    assert_eq!(m.payload::<serde_json::Value>().unwrap()["text"], "hi");
    assert!(
        !sc.events.iter().any(|e| matches!(e, Event::Error(_))),
        "{:?}",
        sc.events
    );
}

#[test]
fn reconnect_none_closes_a_plain_bayeux_session() {
    let mut sc = Scenario::new(Config::bayeux("http://127.0.0.1:8000/bayeux"));
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok("faye-1");
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([{"channel": "/meta/connect", "successful": false, "error": "500::server going away", "advice": {"reconnect": "none"}}]));
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::Disconnected(DisconnectReason::ServerClosed(_))))
    );
}

#[test]
fn plain_http_is_refused_for_remote_hosts() {
    let now = Scenario::new(token_config()).now;
    let err = sfstream_core::Session::new(
        Config::bayeux("http://streaming.example.com/cometd"),
        now,
        std::time::SystemTime::UNIX_EPOCH,
    )
    .unwrap_err();
    assert!(err.to_string().contains("https"), "{err}");
}
