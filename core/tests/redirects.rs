//! A redirect answer is never followed and never retried: the session ends with a configuration
//! error naming the host the redirect pointed to and the URL to fix, for the token request and
//! for every Bayeux request alike.
mod common;

use common::*;
use http::header::LOCATION;
use serde_json::json;
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::{Config, DisconnectReason, Error, Event, RequestKind, Secret, Transmit};

fn password_config() -> Config {
    let mut c = token_config();
    c.endpoint = Config::salesforce(Credentials::Password {
        client_id: "cid".into(),
        client_secret: Secret::new("client-secret-xyz"),
        username: "user@example.com".into(),
        password: Secret::new("hunter2TOKEN"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    })
    .endpoint;
    c
}

fn redirect(sc: &mut Scenario, t: &Transmit, status: u16, location: &str) {
    let response = http::Response::builder()
        .status(status)
        .header(LOCATION, location)
        .body(b"<html>moved</html>".to_vec())
        .expect("a response");
    sc.s.handle_response(t.id, response, sc.now);
    sc.pump();
}

/// The session ended with a configuration error; its text.
fn ended_with_config_error(sc: &mut Scenario) -> String {
    let events = sc.take_events();
    let ended = events.iter().find_map(|e| match e {
        Event::Disconnected(DisconnectReason::Failed(Error::Config(text))) => Some(text.clone()),
        _ => None,
    });
    let text = ended.unwrap_or_else(|| panic!("no configuration error ended it: {events:?}"));
    sc.advance(600_000);
    assert!(sc.nothing_sent(), "nothing is retried after a redirect");
    text
}

#[test]
fn a_redirected_token_request_ends_the_session_and_names_the_host() {
    for status in [301, 302, 303, 307, 308] {
        let mut sc = Scenario::new(password_config());
        sc.s.open(sc.now).expect("open");
        let t = sc.next(RequestKind::Token);
        redirect(
            &mut sc,
            &t,
            status,
            "https://other.example.net:8443/services/oauth2/token?x=1",
        );
        let text = ended_with_config_error(&mut sc);
        assert!(text.contains("other.example.net:8443"), "{text}");
        assert!(text.contains(&format!("HTTP {status}")), "{text}");
        assert!(text.contains("token request"), "{text}");
        assert!(text.contains("login URL"), "the fix: {text}");
    }
}

#[test]
fn a_redirected_bayeux_request_ends_the_session_and_names_the_instance_url() {
    for kind in [
        RequestKind::Handshake,
        RequestKind::Connect,
        RequestKind::Control,
    ] {
        let mut sc = Scenario::new(token_config());
        sc.s.subscribe("/event/Order__e", None, sc.now)
            .expect("subscribe");
        sc.s.open(sc.now).expect("open");
        if kind != RequestKind::Handshake {
            sc.handshake_ok(CLIENT);
        }
        let connect = (kind == RequestKind::Control).then(|| sc.next(RequestKind::Connect));
        let t = sc.next(kind);
        redirect(&mut sc, &t, 302, "http://evil.example.org/cometd");
        let text = ended_with_config_error(&mut sc);
        assert!(text.contains("evil.example.org"), "{kind:?}: {text}");
        assert!(text.contains("instance URL"), "{kind:?}: {text}");
        if let Some(c) = connect {
            // The long poll's late answer changes nothing.
            sc.reply(
                &c,
                json!([{"channel": "/meta/connect", "successful": true, "clientId": CLIENT}]),
            );
            assert!(sc.nothing_sent());
        }
    }
}

#[test]
fn a_plain_bayeux_endpoint_names_its_own_url() {
    let mut sc = Scenario::new(Config::bayeux("https://faye.example.com/bayeux"));
    sc.s.open(sc.now).expect("open");
    let t = sc.next(RequestKind::Handshake);
    redirect(&mut sc, &t, 307, "/elsewhere");
    let text = ended_with_config_error(&mut sc);
    assert!(text.contains("same server"), "{text}");
    assert!(text.contains("Bayeux endpoint URL"), "{text}");
}
