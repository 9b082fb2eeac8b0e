//! Secrets never show in the Pub/Sub session's `Debug` output, errors or events: not the access
//! token (sent as `accesstoken`), not a password or client secret.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::Secret;
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::pubsub::{CallOp, PubSubConfig, PubSubSession};

#[test]
fn debug_of_calls_sessions_and_configurations_hides_the_token() {
    let mut sc = PubSubScenario::new(config());
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let Some(CallOp::Open(open)) = sc.s.poll_call_op() else {
        panic!("a call")
    };
    assert_eq!(open.request.headers()["accesstoken"], TOKEN, "on the wire");
    let shown = format!("{open:?} {:?} {:?}", sc.s, sc.s.config());
    assert!(!shown.contains("tok-secret-1"), "{shown}");
    assert!(
        shown.contains("accesstoken"),
        "the header is named: {shown}"
    );
    assert!(shown.contains("***"), "{shown}");
}

#[test]
fn errors_and_events_hide_the_token() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.end(call, 16, Some("service.auth.error"));
    let shown = format!("{:?}", sc.events);
    assert!(!shown.contains("tok-secret-1"), "{shown}");
    for e in &sc.events {
        assert!(!format!("{e:?}").contains("tok-secret"));
    }
}

#[test]
fn token_requests_hide_the_password() {
    let config = PubSubConfig::new(Credentials::Password {
        client_id: "cid".into(),
        client_secret: Secret::new("client-secret-xyz"),
        username: "u@example.com".into(),
        password: Secret::new("hunter2TOKEN"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    });
    let sc = PubSubScenario::new(pubsub_common::config());
    let now = sc.now;
    let mut s = PubSubSession::new(config.clone(), now, std::time::SystemTime::UNIX_EPOCH).unwrap();
    s.open(now).unwrap();
    let t = s.poll_transmit().expect("a token request");
    let shown = format!("{t:?} {s:?} {config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("client-secret-xyz"), "{shown}");
}
