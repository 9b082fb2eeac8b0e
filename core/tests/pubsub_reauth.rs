//! Pub/Sub authentication: the same OAuth flows as the Streaming API; the tenant id from the
//! token's identity URL (or the token's prefix); `UNAUTHENTICATED` → one new token → the refused
//! calls opened again with it; a ready token that is refused ends the session with a fix.
mod pubsub_common;

use pubsub_common::*;
use serde_json::json;
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::pubsub::{PubSubConfig, PubSubDisconnectReason, PubSubEvent, ReplayId};
use sfstream_core::{RequestKind, Secret};

fn password_config() -> PubSubConfig {
    let mut c = config();
    c.credentials = Credentials::Password {
        client_id: "cid".into(),
        client_secret: Secret::new("client-secret-xyz"),
        username: "user@example.com".into(),
        password: Secret::new("hunter2TOKEN"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    };
    c
}

fn token_reply(sc: &mut PubSubScenario, token: &str) {
    sc.pump();
    let t = sc.transmits.pop_front().expect("a token request");
    assert_eq!(t.kind, RequestKind::Token);
    assert_eq!(
        t.request.uri(),
        "https://login.example.com/services/oauth2/token"
    );
    let body = json!({"access_token": token, "instance_url": "https://na1.example.com",
        "id": "https://login.example.com/id/00Dx0000000BV7zEAG/005x00000012Q9PAAU", "token_type": "Bearer"});
    let response = http::Response::builder()
        .status(200)
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    sc.s.handle_response(t.id, response, sc.now);
    sc.pump();
}

#[test]
fn the_first_token_gives_the_tenant_and_the_calls_carry_it() {
    let mut sc = PubSubScenario::new(password_config());
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    assert!(sc.try_stream(TOPIC).is_none(), "no call before a token");
    token_reply(&mut sc, "tok-A");
    let authenticated = sc.events.iter().find_map(|e| match e {
        PubSubEvent::Authenticated {
            tenant_id,
            instance_url,
        } => Some((tenant_id.clone(), instance_url.clone())),
        _ => None,
    });
    assert_eq!(
        authenticated,
        Some((
            "00Dx0000000BV7zEAG".into(),
            "https://na1.example.com".into()
        ))
    );
    let call = sc.stream(TOPIC);
    let h = sc.call(call).head.headers();
    assert_eq!(h["accesstoken"], "tok-A");
    assert!(h["accesstoken"].is_sensitive());
    assert_eq!(h["instanceurl"], "https://na1.example.com");
    assert_eq!(h["tenantid"], "00Dx0000000BV7zEAG");
    assert_eq!(h["content-type"], "application/grpc");
    assert_eq!(h["te"], "trailers");
    assert_eq!(h["x-client-trace-id"].len(), 36);
    assert!(!h.contains_key("grpc-timeout"), "streams have no deadline");
    assert_eq!(sc.s.tenant_id(), Some("00Dx0000000BV7zEAG"));
}

#[test]
fn the_tenant_falls_back_to_the_tokens_prefix_or_the_configuration() {
    let sc = PubSubScenario::started(config(), &[TOPIC]);
    assert_eq!(sc.s.tenant_id(), Some("00DEM0000000001"));
    let sc = PubSubScenario::started(config().tenant_id("00DEM00000000012AA"), &[TOPIC]);
    assert_eq!(sc.s.tenant_id(), Some("00DEM00000000012AA"));
}

#[test]
fn unauthenticated_renews_the_token_once_and_reopens_the_refused_streams() {
    let mut sc = PubSubScenario::new(password_config());
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    sc.s.subscribe(OTHER, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    token_reply(&mut sc, "tok-A");
    let a = sc.stream(TOPIC);
    let b = sc.stream(OTHER);
    sc.accept(a);
    sc.send(a, &batch([5], 99));
    sc.end(a, 16, Some("service.auth.error"));
    sc.refuse(b, 16, None);
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::Reauthenticating { .. }))
    );
    assert_eq!(sc.transmits.len(), 1, "one token request for both refusals");
    assert_eq!(sc.s.stats().reauthentications, 1);
    assert!(
        sc.try_stream(TOPIC).is_none(),
        "nothing opened with the refused token"
    );
    token_reply(&mut sc, "tok-B");
    let a2 = sc.stream(TOPIC);
    let b2 = sc.stream(OTHER);
    assert_eq!(sc.call(a2).head.headers()["accesstoken"], "tok-B");
    assert_eq!(sc.call(b2).head.headers()["accesstoken"], "tok-B");
    assert_eq!(
        ReplayId::new(sc.call(a2).first_fetch().replay_id),
        ReplayId::from_u64(5),
        "resumed after the last accepted event"
    );
}

#[test]
fn a_refusal_of_an_older_token_needs_no_new_one() {
    let mut sc = PubSubScenario::new(password_config());
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    sc.s.subscribe(OTHER, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    token_reply(&mut sc, "tok-A");
    let a = sc.stream(TOPIC);
    let b = sc.stream(OTHER);
    sc.refuse(a, 16, None);
    token_reply(&mut sc, "tok-B");
    // The second stream, opened with tok-A, is refused only now.
    sc.refuse(b, 16, None);
    assert!(sc.transmits.is_empty());
    assert_eq!(sc.s.stats().token_requests, 2);
    let b2 = sc.stream(OTHER);
    assert_eq!(sc.call(b2).head.headers()["accesstoken"], "tok-B");
}

#[test]
fn repeated_refusals_back_off() {
    let mut sc = PubSubScenario::new(password_config());
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    token_reply(&mut sc, "tok-A");
    let a = sc.stream(TOPIC);
    sc.refuse(a, 16, None);
    token_reply(&mut sc, "tok-B");
    let b = sc.stream(TOPIC);
    sc.refuse(b, 16, None);
    assert!(sc.transmits.is_empty(), "the second renewal waits");
    sc.advance(2_000);
    assert_eq!(sc.transmits.len(), 1);
}

#[test]
fn a_refused_ready_token_ends_the_session_with_a_fix() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.end(call, 16, Some("service.auth.error"));
    let reason = sc.events.iter().find_map(|e| match e {
        PubSubEvent::Disconnected(PubSubDisconnectReason::Failed(err)) => Some(err.to_string()),
        _ => None,
    });
    let reason = reason.expect("the session ended");
    assert!(reason.contains("cannot be renewed"), "{reason}");
    assert!(!reason.contains("tok-secret-1"), "{reason}");
    assert!(sc.s.is_closed());
}

#[test]
fn a_rejected_password_is_fatal_and_a_5xx_is_retried() {
    let mut sc = PubSubScenario::new(password_config());
    sc.s.open(sc.now).unwrap();
    sc.pump();
    let t = sc.transmits.pop_front().unwrap();
    let response = http::Response::builder()
        .status(503)
        .body(b"down".to_vec())
        .unwrap();
    sc.s.handle_response(t.id, response, sc.now);
    sc.pump();
    assert!(sc.transmits.is_empty());
    assert_eq!(sc.reconnect_delays(), vec![1000]);
    sc.advance(1_000);
    let t = sc.transmits.pop_front().expect("retried");
    let response = http::Response::builder()
        .status(400)
        .body(br#"{"error":"invalid_grant","error_description":"authentication failure"}"#.to_vec())
        .unwrap();
    sc.s.handle_response(t.id, response, sc.now);
    sc.pump();
    assert!(sc.s.is_closed());
    let text = format!("{:?}", sc.events);
    assert!(text.contains("invalid_grant"));
    assert!(!text.contains("hunter2"));
}

#[test]
fn a_token_request_past_its_deadline_is_aborted_and_retried() {
    let mut sc = PubSubScenario::new(password_config());
    sc.s.open(sc.now).unwrap();
    sc.pump();
    let first = sc.transmits.front().unwrap().id;
    sc.advance(30_000);
    assert!(sc.transmits.iter().all(|t| t.id != first), "aborted");
    sc.advance(1_000);
    assert_eq!(sc.transmits.len(), 1);
}
