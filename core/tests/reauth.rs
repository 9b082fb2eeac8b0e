//! Re-authentication: a refused token leads to a new token, a new handshake and resubscription;
//! load (503) never does; a ready token that is refused ends the session with a clear error.
mod common;

use common::*;
use serde_json::json;
use sfstream_core::{DisconnectReason, Error, Event, RequestKind};

fn token_reply(sc: &mut Scenario, token: &str) {
    let t = sc.next(RequestKind::Token);
    let body = json!({"access_token": token, "instance_url": "https://na1.example.com", "token_type": "Bearer",
        "id": "https://login.example.com/id/00Dx0000000BV7z/005x00000012Q9P", "issued_at": "1278448384422", "signature": "x"});
    sc.reply_raw(&t, 200, serde_json::to_vec(&body).unwrap());
}

#[test]
fn handshake_denied_with_401_reason_fetches_a_new_token() {
    let mut sc = Scenario::new(password_config());
    sc.s.open(sc.now).unwrap();
    token_reply(&mut sc, "tok-A");
    let hs = sc.next(RequestKind::Handshake);
    sc.reply(&hs, json!([{"ext": {"sfdc": {"failureReason": "401::Authentication invalid"}}, "advice": {"reconnect": "none"},
        "channel": "/meta/handshake", "error": "403::Handshake denied", "successful": false}]));
    token_reply(&mut sc, "tok-B");
    let hs = sc.next(RequestKind::Handshake);
    assert_eq!(hs.request.headers()["authorization"], "Bearer tok-B");
    assert_eq!(sc.s.stats().reauthentications, 1);
    let authenticated = sc
        .events
        .iter()
        .filter(
            |e| matches!(e, Event::Authenticated { org_id: Some(o), .. } if o == "00Dx0000000BV7z"),
        )
        .count();
    assert_eq!(authenticated, 2);
}

#[test]
fn repeated_token_refusals_back_off() {
    let mut sc = Scenario::new(password_config());
    sc.s.open(sc.now).unwrap();
    let denied = json!([{"ext": {"sfdc": {"failureReason": "401::Authentication invalid"}}, "channel": "/meta/handshake",
        "error": "403::Handshake denied", "successful": false}]);
    token_reply(&mut sc, "tok-A");
    let hs = sc.next(RequestKind::Handshake);
    sc.reply(&hs, denied.clone());
    token_reply(&mut sc, "tok-B");
    let hs = sc.next(RequestKind::Handshake);
    sc.reply(&hs, denied);
    assert!(sc.nothing_sent(), "the second refusal waits");
    sc.advance(2000);
    sc.next(RequestKind::Token);
}

#[test]
fn refused_ready_token_ends_the_session_with_a_fix() {
    let mut sc = Scenario::new(token_config());
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    sc.reply(&hs, json!([{"ext": {"sfdc": {"failureReason": "401::Authentication invalid"}}, "channel": "/meta/handshake",
        "error": "403::Handshake denied", "successful": false}]));
    let reason = sc.events.iter().find_map(|e| match e {
        Event::Disconnected(DisconnectReason::Failed(err)) => Some(err.to_string()),
        _ => None,
    });
    let reason = reason.expect("the session ended");
    assert!(reason.contains("cannot be renewed"), "{reason}");
    assert!(!reason.contains("tok-secret-1"));
}

#[test]
fn rejected_password_is_fatal_and_names_the_fix() {
    let mut sc = Scenario::new(password_config());
    sc.s.open(sc.now).unwrap();
    let t = sc.next(RequestKind::Token);
    sc.reply_raw(
        &t,
        400,
        br#"{"error":"invalid_grant","error_description":"authentication failure"}"#.to_vec(),
    );
    let err = sc.events.iter().find_map(|e| match e {
        Event::Disconnected(DisconnectReason::Failed(Error::Auth(a))) => Some(a.to_string()),
        _ => None,
    });
    let err = err.expect("fatal auth error");
    assert!(err.contains("invalid_grant"), "{err}");
    assert!(!err.contains("hunter2"));
    assert!(sc.s.is_closed());
}

#[test]
fn token_endpoint_5xx_is_retried() {
    let mut sc = Scenario::new(password_config());
    sc.s.open(sc.now).unwrap();
    let t = sc.next(RequestKind::Token);
    sc.reply_raw(&t, 503, b"<html>down</html>".to_vec());
    assert!(sc.nothing_sent());
    sc.advance(1000);
    token_reply(&mut sc, "tok");
    sc.next(RequestKind::Handshake);
}

#[test]
fn http_401_without_bayeux_body_reauthenticates() {
    let mut sc = Scenario::new(password_config());
    sc.s.open(sc.now).unwrap();
    token_reply(&mut sc, "tok-A");
    sc.handshake_ok(CLIENT);
    let poll = sc.next(RequestKind::Connect);
    sc.reply_raw(
        &poll,
        401,
        br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#.to_vec(),
    );
    token_reply(&mut sc, "tok-B");
    sc.next(RequestKind::Handshake);
}
