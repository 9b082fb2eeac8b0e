//! A lost Bayeux session (`403::Unknown client`, `402::Unknown client`, a server-pushed
//! `/meta/disconnect`, a missing BAYEUX_BROWSER cookie) leads to a new handshake whatever the
//! advice says, then every channel is subscribed again.
mod common;

use common::*;
use serde_json::json;
use sfstream_core::{Event, RequestKind};

fn lose_with(error: &str, advice: serde_json::Value) -> Scenario {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e", "/topic/B"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([event_msg("/event/A__e", 10), {"channel": "/meta/connect", "successful": false, "error": error, "advice": advice}]));
    sc
}

fn resubscribes_everything(sc: &mut Scenario) {
    sc.handshake_ok("client-2");
    sc.next(RequestKind::Connect);
    let subs = Scenario::body(&sc.next(RequestKind::Control));
    let channels: Vec<_> = subs
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subscription"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(channels, vec!["/event/A__e", "/topic/B"]);
    assert!(
        subs.as_array()
            .unwrap()
            .iter()
            .all(|m| m["clientId"] == "client-2")
    );
}

#[test]
fn unknown_client_403_with_reconnect_none() {
    let mut sc = lose_with(
        "403::Unknown client",
        json!({"interval": 0, "reconnect": "none"}),
    );
    resubscribes_everything(&mut sc);
}

#[test]
fn unknown_client_402_with_reconnect_handshake() {
    let mut sc = lose_with(
        "402::Unknown client",
        json!({"interval": 500, "reconnect": "handshake"}),
    );
    resubscribes_everything(&mut sc);
}

#[test]
fn missing_bayeux_browser_cookie_error() {
    let mut sc = lose_with(
        "400::Client client-1 has established a session, but no BAYEUX_BROWSER cookie present",
        json!({"reconnect": "none"}),
    );
    resubscribes_everything(&mut sc);
}

#[test]
fn events_in_the_failing_reply_are_kept_and_resume_from_there() {
    let mut sc = lose_with("403::Unknown client", json!({"reconnect": "none"}));
    // The event that came with the failure is delivered, and after the new handshake the channel
    // resumes after it (it is queued, not yet committed, and kept).
    let got = sc.messages();
    assert_eq!(got.len(), 1);
    sc.handshake_ok("client-2");
    sc.next(RequestKind::Connect);
    let subs = Scenario::body(&sc.next(RequestKind::Control));
    assert_eq!(subs[0]["ext"]["replay"]["/event/A__e"], 10);
}

#[test]
fn unknown_client_on_subscribe_rehandshakes() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe("/event/A__e", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok(CLIENT);
    let _poll = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    sc.reply(&sub, json!([{"channel": "/meta/subscribe", "successful": false, "error": "403::Unknown client"}]));
    sc.next(RequestKind::Handshake);
}

#[test]
fn repeated_losses_back_off() {
    let mut sc = lose_with("403::Unknown client", json!({"reconnect": "none"}));
    for expected in [2000u64, 4000, 8000] {
        sc.handshake_ok("again");
        let poll = sc.next(RequestKind::Connect);
        sc.pump();
        sc.sent.clear();
        sc.reply(&poll, json!([{"channel": "/meta/connect", "successful": false, "error": "403::Unknown client", "advice": {"reconnect": "none"}}]));
        assert!(sc.nothing_sent(), "no handshake before the backoff");
        assert_eq!(*sc.reconnect_delays().last().unwrap(), expected as u128);
        sc.advance(expected);
    }
    // A successful connect resets the backoff: the next loss is answered at once.
    sc.handshake_ok("stable");
    let poll = sc.next(RequestKind::Connect);
    sc.sent.clear();
    sc.reply(&poll, json!([connect_ok()]));
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([{"channel": "/meta/connect", "successful": false, "error": "403::Unknown client"}]),
    );
    sc.next(RequestKind::Handshake);
    assert!(
        !sc.events
            .iter()
            .any(|e| matches!(e, Event::Disconnected(_)))
    );
}
