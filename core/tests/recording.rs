//! Recording a session (`Session::record`): the transcript plays through the player with the
//! same messages, and holds none of the session's secrets.
mod common;
mod test_signer;

use common::*;
use serde_json::{Value, json};
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::transcript::{RECORDING_TRAILER, REDACTED, Transcript};
use sfstream_core::{Config, RequestKind, Secret, Transmit};

const SECRETS: &[&str] = &[
    "client-secret-xyz",
    "refresh-5Aep861",
    "00Dtok-A!first",
    "00Dtok-B!second",
    "refresh-rotated-2",
    "cookie-value-93f1",
];

fn respond(sc: &mut Scenario, t: &Transmit, set_cookie: Option<&str>, body: &Value) {
    let mut r = http::Response::builder().status(200);
    if let Some(c) = set_cookie {
        r = r.header("set-cookie", c);
    }
    let response = r.body(serde_json::to_vec(body).unwrap()).unwrap();
    sc.s.handle_response(t.id, response, sc.now);
    sc.pump();
}

fn handshake(sc: &mut Scenario, client_id: &str) -> Transmit {
    let hs = sc.next(RequestKind::Handshake);
    let reply = json!([{"channel": "/meta/handshake", "successful": true, "clientId": client_id,
        "id": Scenario::body(&hs)[0]["id"], "ext": {"replay": true}}]);
    respond(
        sc,
        &hs,
        Some("BAYEUX_BROWSER=cookie-value-93f1; Path=/"),
        &reply,
    );
    sc.next(RequestKind::Connect)
}

fn recorded_text(sc: &mut Scenario, text: &mut String) {
    text.push_str(&sc.s.take_recording());
}

#[test]
fn a_refresh_token_session_with_a_reauthentication_plays_back_without_secrets() {
    let mut config = token_config();
    config.endpoint = Config::salesforce(Credentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: Secret::new("client-secret-xyz"),
        refresh_token: Secret::new("refresh-5Aep861"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    })
    .endpoint;
    let mut sc = Scenario::new(config);
    sc.s.record();
    sc.s.subscribe("/event/Order__e", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let mut text = String::new();

    let token = sc.next(RequestKind::Token);
    respond(
        &mut sc,
        &token,
        None,
        &json!({"access_token": "00Dtok-A!first",
        "refresh_token": "refresh-rotated-2", "instance_url": "https://na1.example.com"}),
    );
    let poll = handshake(&mut sc, "c1");
    let subs = sc.next(RequestKind::Control);
    sc.reply_ok(&subs);
    sc.advance(5);
    sc.reply(
        &poll,
        json!([
            event_msg("/event/Order__e", 1),
            event_msg("/event/Order__e", 2),
            connect_ok()
        ]),
    );
    let mut live = sc.messages();
    recorded_text(&mut sc, &mut text);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([{"channel": "/meta/connect", "successful": false,
        "error": "401::Authentication invalid", "advice": {"reconnect": "none"}}]),
    );
    let token = sc.next(RequestKind::Token);
    respond(
        &mut sc,
        &token,
        None,
        &json!({"access_token": "00Dtok-B!second",
        "instance_url": "https://na1.example.com"}),
    );
    let poll = handshake(&mut sc, "c2");
    let subs = sc.next(RequestKind::Control);
    sc.reply_ok(&subs);
    sc.reply(
        &poll,
        json!([event_msg("/event/Order__e", 3), connect_ok()]),
    );
    live.extend(sc.messages());
    sc.s.close(sc.now);
    let bye = sc.next(RequestKind::Disconnect);
    sc.reply(
        &bye,
        json!([{"channel": "/meta/disconnect", "successful": true}]),
    );
    recorded_text(&mut sc, &mut text);
    text.push_str(RECORDING_TRAILER);

    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(
        text.contains(&format!("BAYEUX_BROWSER={REDACTED}; Path=/")),
        "{text}"
    );
    let transcript = Transcript::from_json(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(
        transcript.config.refresh_token,
        Some(["cid".into(), REDACTED.into(), REDACTED.into()])
    );
    let played = transcript
        .play(sc.now)
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    let ids = |m: &[sfstream_core::Message]| m.iter().map(|m| m.replay_id()).collect::<Vec<_>>();
    assert_eq!(ids(&played.messages), ids(&live));
    assert_eq!(ids(&live), [Some(1), Some(2), Some(3)]);
}

#[test]
fn a_jwt_session_records_no_assertion_and_no_key() {
    let mut config = token_config();
    config.endpoint = Config::salesforce(Credentials::JwtBearer {
        client_id: "3MVG9-key".into(),
        username: "integration@example.com".into(),
        key: test_signer::test_key(),
        login: LoginUrl::Sandbox,
        audience: None,
    })
    .endpoint;
    let mut sc = Scenario::new(config);
    sc.s.record();
    sc.s.open(sc.now).unwrap();
    let token = sc.next(RequestKind::Token);
    let form = String::from_utf8(token.request.body().clone()).unwrap();
    let assertion = form.split("assertion=").nth(1).unwrap().to_owned();
    respond(
        &mut sc,
        &token,
        None,
        &json!({"access_token": "00Dtok-A!first", "instance_url": "https://na1.example.com"}),
    );
    let _poll = handshake(&mut sc, "c1");
    let mut text = sc.s.take_recording();
    text.push_str(RECORDING_TRAILER);
    assert!(!text.contains(&assertion[..40]), "{text}");
    assert!(!text.contains("00Dtok-A!first"), "{text}");
    let transcript = Transcript::from_json(&text).unwrap();
    let jwt = transcript.config.jwt.clone().expect("the JWT flow");
    assert_eq!(jwt.client_id, "3MVG9-key");
    assert_eq!(transcript.config.login_url.as_deref(), Some("sandbox"));
    transcript
        .play(sc.now)
        .unwrap_or_else(|e| panic!("{e}: {text}"));
}
