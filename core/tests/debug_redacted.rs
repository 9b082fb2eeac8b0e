//! `Debug` of every public type a session hands out shows no credential, through all five auth
//! flows: each flow is driven through the core (token, handshake with cookies, events, a refused
//! token and a new one, a refusing token endpoint, a redirect, close), and everything the
//! application could print on the way — `Transmit`, `Session`, `Event`, `Config`, `Credentials`,
//! `Arrived`, `Received`, `Message`, errors, the transcript player — is checked for the secrets in
//! plain text, form-encoded, and as the decimal byte list `Debug` of a `Vec<u8>` prints.
mod common;
mod test_signer;

use std::collections::BTreeSet;

use common::*;
use http::header::{LOCATION, SET_COOKIE};
use serde_json::json;
use sfstream_core::oauth::{Credentials, LoginUrl, parse_token_response};
use sfstream_core::transcript::{Player, Transcript};
use sfstream_core::{Config, Event, RequestKind, Secret, Transmit};
use test_signer::PKCS8;

const CLIENT_SECRET: &str = "cs-7Hq2CLIENTSECRETxZ9aLm4";
const PASSWORD: &str = "pw-9Kd4PASSWORDvNq8Rt2SECTOKEN";
const REFRESH: &str = "rt-5Vb1REFRESHTOKENwY3uJ6";
const READY: &str = "at-2Xc6READYTOKENjR7pL0";
const ISSUED: [&str; 2] = [
    "00Dx0000000BV7z!AR8AQISSUEDFIRSTk3Jq9",
    "00Dx0000000BV7z!AR8AQISSUEDSECONDw2Hs5",
];
const SIGNATURE: &str = "sig-4Nf8SIGNATUREtK1bV";
const COOKIE: &str = "ck-6Ty3COOKIEVALUEpA8dW";

const LOGIN: &str = "https://login.example.com";
const INSTANCE: &str = "https://na1.example.com";
const ORDERS: &str = "/event/Order__e";

fn all_flows() -> Vec<Credentials> {
    let login = || LoginUrl::Custom(LOGIN.into());
    vec![
        Credentials::Password {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            username: "u@example.com".into(),
            password: Secret::new(PASSWORD),
            login: login(),
        },
        Credentials::RefreshToken {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            refresh_token: Secret::new(REFRESH),
            login: login(),
        },
        Credentials::JwtBearer {
            client_id: "cid".into(),
            username: "u@example.com".into(),
            key: test_signer::test_key(),
            login: login(),
            audience: None,
        },
        Credentials::ClientCredentials {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            login: login(),
        },
        Credentials::AccessToken {
            access_token: Secret::new(READY),
            instance_url: INSTANCE.into(),
        },
    ]
}

/// What the application could print, and the secrets it must not show.
#[derive(Default)]
struct Shown {
    texts: Vec<String>,
    secrets: BTreeSet<String>,
}

impl Shown {
    fn push(&mut self, what: &str, debug: String) {
        self.texts.push(format!("{what}: {debug}"));
    }

    /// Records a transmit's `Debug`, and every credential its request carries as a secret (the
    /// values of a token request's form, the bearer token, the cookies).
    fn transmit(&mut self, t: &Transmit) {
        self.push("transmit", format!("{t:?} {t:#?}"));
        if t.kind == RequestKind::Token {
            for (key, value) in form_urlencoded::parse(t.request.body()) {
                if !["grant_type", "client_id", "username"].contains(&&*key) {
                    self.secrets.insert(value.into_owned());
                }
            }
        }
        for name in ["authorization", "cookie"] {
            if let Some(v) = t.request.headers().get(name) {
                let v = v.to_str().expect("ASCII");
                self.secrets
                    .insert(v.trim_start_matches("Bearer ").to_owned());
            }
        }
    }

    fn session(&mut self, sc: &Scenario) {
        self.push("session", format!("{:?} {:#?}", sc.s, sc.s));
    }

    fn events(&mut self, sc: &mut Scenario) -> Vec<Event> {
        let events = sc.take_events();
        for e in &events {
            self.push("event", format!("{e:?} {e:#?}"));
            if let Event::Error(err)
            | Event::Reconnecting { reason: err, .. }
            | Event::SubscribeFailed { error: err, .. } = e
            {
                self.push("error", format!("{err} {err:?}"));
            }
            if let Event::Disconnected(reason) = e {
                self.push("disconnected", format!("{reason:?}"));
            }
        }
        events
    }

    /// Checks that none of at least `at_least` texts shows a secret.
    fn assert_clean(&self, at_least: usize) {
        let mut secrets = self.secrets.clone();
        secrets.extend(
            [CLIENT_SECRET, PASSWORD, REFRESH, READY, SIGNATURE, COOKIE]
                .into_iter()
                .chain(ISSUED)
                .map(str::to_owned),
        );
        secrets.extend(
            PKCS8
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(|l| l[..24.min(l.len())].to_owned()),
        );
        assert!(
            self.texts.len() >= at_least,
            "only {} texts were shown",
            self.texts.len()
        );
        for secret in &secrets {
            assert!(secret.len() >= 12, "a short secret: {secret}");
            let forms = [
                secret.clone(),
                form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
                // `Debug` of a `Vec<u8>`, as a derived `Debug` of a request body prints it.
                format!("{:?}", &secret.as_bytes()[..12])
                    .trim_matches(['[', ']'])
                    .to_owned(),
            ];
            for text in &self.texts {
                for form in &forms {
                    assert!(
                        !text.contains(form.as_str()),
                        "a secret ({}…) shows in {text}",
                        &secret[..6]
                    );
                }
            }
        }
    }
}

fn token_body(access: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "access_token": access, "refresh_token": REFRESH, "signature": SIGNATURE,
        "instance_url": INSTANCE, "token_type": "Bearer", "issued_at": "1278448384422",
        "id": "https://login.example.com/id/00Dx0000000BV7z/005x00000012Q9P",
    }))
    .expect("JSON")
}

/// Answers `t` with `response` as an adapter does in steps, showing the `Arrived` token and the
/// `Received` it hands over.
fn answer(sc: &mut Scenario, shown: &mut Shown, t: &Transmit, response: http::Response<Vec<u8>>) {
    let arrived =
        sc.s.handle_arrived(t.id, response, sc.now)
            .expect("the session waits for the request");
    shown.push("arrived", format!("{arrived:?}"));
    let received = arrived.decode();
    shown.push("received", format!("{received:?}"));
    sc.s.handle_received(received, sc.now);
    sc.pump();
}

/// Takes the next request, which must be of `kind`, and shows it.
fn next(sc: &mut Scenario, shown: &mut Shown, kind: RequestKind) -> Transmit {
    let t = sc.next(kind);
    shown.transmit(&t);
    shown.session(sc);
    t
}

fn authenticate(sc: &mut Scenario, shown: &mut Shown, flow: &Credentials, access: &str) {
    if flow.ready_token().is_some() {
        return;
    }
    let t = next(sc, shown, RequestKind::Token);
    answer(sc, shown, &t, http::Response::new(token_body(access)));
}

/// One flow through the core, showing everything on the way.
fn drive(flow: Credentials, shown: &mut Shown) {
    shown.push("credentials", format!("{flow:?} {flow:#?}"));
    let mut config = token_config();
    config.endpoint = Config::salesforce(flow.clone()).endpoint;
    shown.push("config", format!("{config:?} {config:#?}"));
    let mut sc = Scenario::new(config);
    sc.s.subscribe(ORDERS, None, sc.now).expect("subscribe");
    sc.s.open(sc.now).expect("open");
    shown.session(&sc);

    authenticate(&mut sc, shown, &flow, ISSUED[0]);
    let hs = next(&mut sc, shown, RequestKind::Handshake);
    let reply = json!([{"channel": "/meta/handshake", "successful": true, "clientId": CLIENT,
        "version": "1.0", "id": Scenario::body(&hs)[0]["id"], "ext": {"replay": true}}]);
    let response = http::Response::builder()
        .header(
            SET_COOKIE,
            format!("BAYEUX_BROWSER={COOKIE}; Path=/; Secure"),
        )
        .body(serde_json::to_vec(&reply).expect("JSON"))
        .expect("a response");
    answer(&mut sc, shown, &hs, response);
    let connect = next(&mut sc, shown, RequestKind::Connect);
    let control = next(&mut sc, shown, RequestKind::Control);
    sc.reply_ok(&control);
    let events = json!([event_msg(ORDERS, 11), connect_ok()]);
    answer(
        &mut sc,
        shown,
        &connect,
        http::Response::new(serde_json::to_vec(&events).expect("JSON")),
    );
    for m in sc.messages() {
        shown.push("message", format!("{m:?}"));
    }
    shown.events(&mut sc);

    // The server refuses the token: a new one (or, for a ready token, the end).
    let connect = next(&mut sc, shown, RequestKind::Connect);
    let refused = json!([{"channel": "/meta/connect", "successful": false,
        "error": "401::Authentication invalid"}]);
    answer(
        &mut sc,
        shown,
        &connect,
        http::Response::new(serde_json::to_vec(&refused).expect("JSON")),
    );
    shown.events(&mut sc);
    if flow.can_refresh() {
        authenticate(&mut sc, shown, &flow, ISSUED[1]);
        sc.handshake_ok(CLIENT);
        let connect = next(&mut sc, shown, RequestKind::Connect);
        shown.events(&mut sc);
        // Then the connection ends in a redirect, which closes the session.
        let redirect = http::Response::builder()
            .status(307)
            .header(
                LOCATION,
                format!("https://evil.example.net/x?t={}", ISSUED[1]),
            )
            .body(Vec::new())
            .expect("a response");
        answer(&mut sc, shown, &connect, redirect);
        let events = shown.events(&mut sc);
        assert!(
            events.iter().any(|e| matches!(e, Event::Disconnected(_))),
            "the redirect ended the session: {events:?}"
        );
    }
    shown.session(&sc);
    sc.s.close(sc.now);
    shown.events(&mut sc);
    shown.session(&sc);
}

#[test]
fn debug_of_everything_in_the_five_flows_shows_no_secret() {
    let mut shown = Shown::default();
    for flow in all_flows() {
        drive(flow, &mut shown);
    }
    // A token endpoint that refuses, and one whose answer the parser refuses.
    for (status, body) in [
        (
            400,
            r#"{"error":"invalid_grant","error_description":"authentication failure"}"#.to_owned(),
        ),
        (
            200,
            format!(r#"{{"access_token":"{}","instance_url":5}}"#, ISSUED[0]),
        ),
    ] {
        let e = parse_token_response(
            http::StatusCode::from_u16(status).expect("status"),
            body.as_bytes(),
        )
        .expect_err("refused");
        shown.push("auth error", format!("{e} {e:?}"));
    }
    let token =
        parse_token_response(http::StatusCode::OK, &token_body(ISSUED[0])).expect("a token");
    shown.push("token", format!("{token:?}"));
    shown.assert_clean(100);
}

#[test]
#[allow(
    clippy::disallowed_methods,
    reason = "a test picks an arbitrary start instant; only differences matter"
)]
fn debug_of_a_transcript_and_its_player_shows_no_secret() {
    let transcript = Transcript::from_json(&format!(
        r#"{{"config": {{"password": ["cid", "{CLIENT_SECRET}", "u@example.com", "{PASSWORD}"],
                        "login_url": "{LOGIN}"}},
            "steps": [{{"send": {{"kind": "token", "as": "t"}}}}]}}"#
    ))
    .expect("a transcript");
    let mut shown = Shown::default();
    shown.push(
        "transcript",
        format!("{transcript:?} {:?}", transcript.config),
    );
    let start = std::time::Instant::now();
    let mut player = Player::new(&transcript, start).expect("a player");
    shown.push("player", format!("{player:?}"));
    for step in &transcript.steps {
        player.step(step).expect("the token request");
    }
    shown.push(
        "player after the token request",
        format!("{player:?} {player:#?}"),
    );
    // A failing check on the token request names the form's fields, never their values.
    let failing = Transcript::from_json(&format!(
        r#"{{"config": {{"password": ["cid", "{CLIENT_SECRET}", "u@example.com", "{PASSWORD}"]}},
            "steps": [{{"send": {{"kind": "token", "json": {{"password": "other"}}}}}}]}}"#
    ))
    .expect("a transcript");
    let error = failing.play(start).expect_err("the password differs");
    assert!(error.reason.contains("\"password\""), "{error}");
    shown.push("transcript error", format!("{error} {error:?}"));
    shown.assert_clean(4);
}
