//! Security checks of the tokio client against the emulator and small loopback servers:
//!
//! - no secret (access tokens, password, security token, client secret, refresh token, JWT key)
//!   in TRACE-level tracing output of full sessions with re-authentication and session loss,
//!   nor in any error text or `Debug` output;
//! - plain `http://` refused except for loopback hosts, including an `instance_url` that a token
//!   endpoint hands back;
//! - a response body bound: a huge body is an error, not an out-of-memory, and the stream goes on
//!   after an oversized connect response;
//! - requests never over 32,768 bytes, even when 600 long channel names are subscribed at once.
//!
//! Every check uses a recording wrapper around the tokio runtime that sees each request and
//! response, so the issued access tokens and the request sizes are known exactly. The TRACE
//! logs of every runtime and HTTP backend are checked in `trace_logs.rs`, redirects in
//! `redirects.rs`.

mod support;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sfstream_core::oauth::jwt::JwtKey;
use sfstream_core::oauth::{Credentials, LoginUrl, parse_token_response};
use sfstream_core::{Config, Secret};
use sfstream_driver::{ClientBuilder, JwtKeyFromPem as _};
use sfstream_emulator::DropAdvice;
use sfstream_tests::fast;
use sfstream_tokio::Tokio;
use support::*;

/// tokio, recording what goes over the wire.
fn recording() -> Recording<Tokio> {
    Recording::new(Tokio::new())
}

// ----- 1. no secret in logs, errors or Debug output ------------------------------------------

fn pem_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_owned)
        .collect()
}

/// Streams through a revoke (new token), a dropped session (new handshake) and a close, and
/// collects what the user can print of the client on the way.
fn full_session(
    emu: &Emu,
    rt: &Exec,
    credentials: Credentials,
    shown: &mut Vec<String>,
) -> Arc<Mutex<Recorded>> {
    let runtime = recording();
    let log = runtime.log.clone();
    shown.push(format!("{credentials:?}"));
    let config = fast(Config::salesforce(credentials));
    shown.push(format!("{config:?}"));
    let builder = ClientBuilder::with_config(runtime, config);
    shown.push(format!("{builder:?}"));
    let client = rt.build(builder);
    rt.block_on(client.subscribe(ORDERS)).expect("subscribe");
    rt.block_on(client.open()).expect("open");
    shown.push(format!("{client:?}"));
    emu.control.publish_generated(ORDERS, 2).expect("publish");
    rt.receive_n(&client, 2);
    emu.control.revoke_tokens();
    emu.control.publish_generated(ORDERS, 2).expect("publish");
    rt.receive_n(&client, 2);
    emu.control.drop_sessions(DropAdvice::Handshake);
    emu.control.publish_generated(ORDERS, 2).expect("publish");
    rt.receive_n(&client, 2);
    let stats = client.stats();
    assert!(
        stats.reauthentications >= 1 && stats.handshakes >= 3,
        "re-authenticated and handshaked again: {stats:?}"
    );
    shown.push(format!("{client:?} {stats:?}"));
    rt.block_on(client.close()).expect("close");
    log
}

/// Opens a client that must fail; returns the error's text and `Debug`.
fn failed_open(rt: &Exec, credentials: Credentials) -> Vec<String> {
    let mut config = fast(Config::salesforce(credentials));
    config.connection_timeout = Some(Duration::from_secs(2));
    let client = rt.build(ClientBuilder::with_config(recording(), config));
    let error = rt
        .block_on(client.open())
        .expect_err("the credentials are refused");
    let shown = vec![
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
    ];
    let _ = rt.block_on(client.close());
    shown
}

#[test]
fn no_secret_in_logs_errors_or_debug_output() {
    let _ = captured();
    let emu = Emu::start(|b| b);
    let rt = Exec::tokio();
    let mut shown: Vec<String> = Vec::new();
    let password = format!("{PASSWORD}{SECURITY_TOKEN}");
    let mut issued = Vec::new();

    // Password, refresh-token and JWT bearer flows, each through re-auth and session loss.
    let flows = [
        Credentials::Password {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            username: USERNAME.into(),
            password: Secret::new(password.clone()),
            login: emu.login(),
        },
        Credentials::RefreshToken {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            refresh_token: Secret::new(REFRESH_TOKEN),
            login: emu.login(),
        },
        Credentials::JwtBearer {
            client_id: CLIENT_ID.into(),
            username: USERNAME.into(),
            key: JwtKey::from_pem(JWT_PRIVATE).expect("the test key"),
            login: emu.login(),
            audience: None,
        },
    ];
    for credentials in flows {
        let log = full_session(&emu, &rt, credentials, &mut shown);
        let log = lock(&log);
        assert!(
            log.tokens.len() >= 2,
            "a token, then a new one after the revoke: {log:?}"
        );
        issued.extend(log.tokens.iter().cloned());
    }

    // Refused credentials of every kind: the errors the user sees.
    shown.extend(failed_open(
        &rt,
        Credentials::Password {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            username: USERNAME.into(),
            password: Secret::new(format!("{PASSWORD}-wrong")),
            login: emu.login(),
        },
    ));
    shown.extend(failed_open(
        &rt,
        Credentials::RefreshToken {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            refresh_token: Secret::new(format!("{REFRESH_TOKEN}-revoked")),
            login: emu.login(),
        },
    ));
    shown.extend(failed_open(
        &rt,
        Credentials::JwtBearer {
            client_id: CLIENT_ID.into(),
            username: USERNAME.into(),
            key: JwtKey::from_pem(JWT_OTHER_PRIVATE).expect("the other key"),
            login: emu.login(),
            audience: None,
        },
    ));
    let refused_token = "at-8Rz4REFUSEDTOKENpQ";
    shown.extend(failed_open(
        &rt,
        Credentials::AccessToken {
            access_token: Secret::new(refused_token),
            instance_url: emu.base_url.clone(),
        },
    ));
    // A token reply the parser refuses and one it accepts: neither shows the token.
    let body = format!(r#"{{"access_token":"{PREISSUED_TOKEN}","instance_url":5}}"#);
    let refused = parse_token_response(http::StatusCode::OK, body.as_bytes())
        .expect_err("instance_url is not a string");
    shown.push(format!("{refused} {refused:?}"));
    let body = format!(
        r#"{{"access_token":"{PREISSUED_TOKEN}","instance_url":"https://x.example.com","refresh_token":"{REFRESH_TOKEN}","signature":"{CLIENT_SECRET}"}}"#
    );
    let token = parse_token_response(http::StatusCode::OK, body.as_bytes()).expect("a token");
    shown.push(format!("{token:?}"));
    shown.push(format!(
        "{:?}",
        JwtKey::from_pem(JWT_PRIVATE).expect("the key")
    ));
    shown.push(format!(
        "{} {:?}",
        Secret::new(PASSWORD),
        Secret::new(PASSWORD)
    ));

    let mut secrets: Vec<String> = vec![
        CLIENT_SECRET.into(),
        PASSWORD.into(),
        SECURITY_TOKEN.into(),
        password,
        REFRESH_TOKEN.into(),
        PREISSUED_TOKEN.into(),
        refused_token.into(),
    ];
    secrets.extend(pem_lines(JWT_PRIVATE));
    secrets.extend(pem_lines(JWT_OTHER_PRIVATE));
    issued.sort();
    issued.dedup();
    assert!(
        issued.len() >= 6,
        "the emulator issued a token per flow and per re-auth: {}",
        issued.len()
    );
    secrets.extend(issued);

    let logs = captured_text();
    // The capture really saw the sessions, down to TRACE.
    for needle in ["authenticated", "handshake done", "retrying", "sending"] {
        assert!(logs.contains(needle), "the log has {needle:?}");
    }
    assert!(logs.contains("TRACE"), "TRACE events were captured");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret ({}…) is in the tracing output",
            &secret[..6]
        );
        for text in &shown {
            assert!(
                !text.contains(secret.as_str()),
                "a secret ({}…) is in: {text}",
                &secret[..6]
            );
        }
    }
    // Every emulator-issued token has this shape; none may appear, even ones not recorded.
    assert!(
        !logs.contains("00DEM0000000001!"),
        "an org-prefixed token in the log"
    );
    assert!(shown.iter().all(|t| !t.contains("00DEM0000000001!")));
}

// ----- 2. plain http only to loopback --------------------------------------------------------

#[test]
fn plain_http_is_refused_except_for_loopback() {
    let rt = Exec::tokio();
    let refused = [
        "http://login.example.com",
        "http://10.0.0.1:8080",
        "http://127.0.0.1.example.com",
        "http://user:pw@127.0.0.1:1",
        "ftp://127.0.0.1",
    ];
    let accepted = [
        "http://127.0.0.1:1",
        "http://127.9.9.9:1",
        "http://localhost:1",
        "http://[::1]:1",
        "https://login.example.com",
    ];
    let password = |url: &str| Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        username: USERNAME.into(),
        password: Secret::new(PASSWORD),
        login: LoginUrl::Custom(url.into()),
    };
    let builds = |config: Config| {
        let _guard = rt.enter();
        ClientBuilder::with_config(Tokio::new(), config).build()
    };
    for url in refused {
        let login = builds(Config::salesforce(password(url)))
            .expect_err("a login URL without TLS to a remote host");
        assert!(
            !login.to_string().contains(PASSWORD) && !login.to_string().contains(CLIENT_SECRET)
        );
        builds(Config::bayeux(format!("{url}/cometd"))).expect_err("a Bayeux URL");
        builds(Config::salesforce(Credentials::AccessToken {
            access_token: Secret::new(PREISSUED_TOKEN),
            instance_url: url.into(),
        }))
        .expect_err("an instance URL");
    }
    let err = builds(Config::bayeux("http://login.example.com/cometd"))
        .expect_err("plain http")
        .to_string();
    assert!(err.contains("https"), "the error says what to do: {err}");
    for url in accepted {
        builds(Config::salesforce(password(url))).unwrap_or_else(|e| panic!("{url}: {e}"));
        builds(Config::bayeux(format!("{url}/cometd"))).unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    // A token endpoint on loopback that hands back a plain-http instance URL elsewhere: the
    // client refuses to send the token there.
    let token = "at-4Wq7REMOTEPLAINjK";
    let server = FakeServer::start(move |_request, stream| {
        let body = format!(
            r#"{{"access_token":"{token}","instance_url":"http://na1.example.com","token_type":"Bearer"}}"#
        );
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        0
    });
    let runtime = recording();
    let log = runtime.log.clone();
    let client = rt.build(ClientBuilder::with_config(
        runtime,
        fast(Config::salesforce(password(&server.url()))),
    ));
    let error = rt
        .block_on(client.open())
        .expect_err("a plain-http instance");
    let text = error.to_string();
    assert!(text.contains("plain http"), "{text}");
    assert!(!text.contains(token) && !format!("{error:?}").contains(token));
    let hosts = lock(&log).hosts.clone();
    assert!(
        hosts.iter().all(|h| h == "127.0.0.1"),
        "only the loopback token endpoint was contacted: {hosts:?}"
    );
    drop(server);
}

// ----- 3. response body bound ----------------------------------------------------------------

#[test]
fn a_huge_response_body_is_an_error_not_an_out_of_memory() {
    let _ = captured();
    let rt = Exec::tokio();
    const CAP: usize = 512 << 20;
    const LIMIT: usize = 1 << 20;
    // The token endpoint declares 1 GiB and streams zeros until the client hangs up (or 512 MiB).
    let server = FakeServer::start(|_request, stream| {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            1usize << 30
        );
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < CAP {
            match stream.write(&chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => sent += n,
            }
        }
        sent
    });
    let mut config = fast(Config::salesforce(Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        username: USERNAME.into(),
        password: Secret::new(PASSWORD),
        login: LoginUrl::Custom(server.url()),
    }));
    config.max_response_bytes = LIMIT;
    config.connection_timeout = Some(Duration::from_secs(2));
    let client = rt.build(ClientBuilder::with_config(recording(), config));
    let started = Instant::now();
    let error = rt
        .block_on(client.open())
        .expect_err("no token can come out of that body");
    assert!(error.is_connection_lost(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(15));
    let _ = rt.block_on(client.close());
    server.stop.store(true, Ordering::SeqCst);
    let written = lock(&server.written).clone();
    assert!(!written.is_empty(), "the client asked for a token");
    for n in &written {
        // What the client read is at most LIMIT; the rest is socket buffers.
        assert!(
            *n < 64 << 20,
            "the client kept reading a huge body: {n} bytes went out"
        );
    }
    let logs = captured_text();
    assert!(
        logs.contains(&format!("response body larger than the {LIMIT}-byte bound")),
        "the failure names the bound"
    );
}

/// The password flow against `emu` with responses bounded to `limit` bytes.
fn bounded_config(emu: &Emu, limit: usize) -> Config {
    let mut config = fast(Config::salesforce(Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        username: USERNAME.into(),
        password: Secret::new(format!("{PASSWORD}{SECURITY_TOKEN}")),
        login: emu.login(),
    }));
    config.max_response_bytes = limit;
    config
}

#[test]
fn an_oversized_connect_response_is_fetched_again_and_the_stream_goes_on() {
    let _ = captured();
    let emu = Emu::start(|b| b);
    let rt = Exec::tokio();
    const LIMIT: usize = 10 * 1024;
    let config = bounded_config(&emu, LIMIT);
    let client = rt.build(ClientBuilder::with_config(recording(), config));
    let channel = "/u/notifications";
    rt.block_on(client.subscribe(channel)).expect("subscribe");
    rt.block_on(client.open()).expect("open");
    // The exact bound: another test of this file reports a (larger) bound of its own meanwhile.
    let marker = format!("the {LIMIT}-byte bound");
    let before = captured_text().matches(&marker).count();
    let first_sessions: Vec<String> = emu.control.stats().clients.keys().cloned().collect();
    emu.control
        .publish(channel, Value::String("x".repeat(5 * LIMIT)))
        .expect("publish a large event");
    // Wait until the client met the oversized response, then publish a small one.
    let deadline = Instant::now() + Duration::from_secs(10);
    while captured_text().matches(&marker).count() == before {
        assert!(
            Instant::now() < deadline,
            "the oversized response was not reported"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The oversized response may have held other events: the channel is fetched again on a
    // new session. Subscribed from "new" with nothing accepted, it has no replay point, so an
    // event published before the new subscription stands would not come: wait for it.
    while !emu
        .control
        .stats()
        .clients
        .iter()
        .any(|(id, c)| !first_sessions.contains(id) && c.subscriptions.iter().any(|s| s == channel))
    {
        assert!(
            Instant::now() < deadline,
            "the channel was not subscribed again"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let small = emu
        .control
        .publish(channel, Value::String("small".into()))
        .expect("publish");
    let m = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), client.receive()).await })
        .expect("the stream goes on")
        .expect("a message");
    assert_eq!(m.replay_id(), Some(small), "the small event came through");
    assert!(m.raw_json().len() < LIMIT);
    rt.block_on(client.close()).expect("close");
}

/// An event larger than the bound, replayed on every re-fetch: fetching again cannot get past
/// it, so the client stops with an error naming the setting to raise (before, it looped).
#[test]
fn an_event_over_the_bound_stops_the_client_with_the_setting_to_raise() {
    let _ = captured();
    let emu = Emu::start(|b| b);
    let rt = Exec::tokio();
    const LIMIT: usize = 10 * 1024;
    let mut config = bounded_config(&emu, LIMIT);
    config.replay = sfstream_core::ReplayFrom::All;
    let channel = "/u/notifications";
    emu.control
        .publish(channel, Value::String("x".repeat(5 * LIMIT)))
        .expect("publish a large event");
    let client = rt.build(ClientBuilder::with_config(recording(), config));
    rt.block_on(client.subscribe(channel)).expect("subscribe");
    // The replay starts at the oversized event: the error may end `open` itself or come later.
    let text = match rt.block_on(client.open()) {
        Err(e) => e.to_string(),
        Ok(()) => rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(20), client.receive()).await
            })
            .expect("the client stops rather than loop")
            .expect_err("no message can come past the oversized event")
            .to_string(),
    };
    assert!(text.contains("max_response_bytes"), "{text}");
    assert!(
        emu.control.stats().totals.handshakes <= 3,
        "it stopped at the second oversized response, not after many: {} handshakes",
        emu.control.stats().totals.handshakes
    );
}

// ----- 4. request size ------------------------------------------------------------------------

#[test]
fn requests_never_exceed_32768_bytes() {
    let emu = Emu::start(|b| b.auto_create_channels(true));
    let rt = Exec::tokio();
    let runtime = recording();
    let log = runtime.log.clone();
    let config = fast(Config::salesforce(Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        username: USERNAME.into(),
        password: Secret::new(format!("{PASSWORD}{SECURITY_TOKEN}")),
        login: emu.login(),
    }));
    let client = rt.build(ClientBuilder::with_config(runtime, config));
    let channels: Vec<String> = (0..600)
        .map(|i| {
            format!(
                "/u/a/rather/long/generic/streaming/channel/name/{}/{i:04}",
                "segment".repeat(20)
            )
        })
        .collect();
    for c in &channels {
        rt.block_on(client.subscribe(c))
            .expect("subscribe before open");
    }
    rt.block_on(client.open())
        .expect("open: every subscription confirmed");
    let mut confirmed = client.subscriptions();
    confirmed.sort();
    let mut want = channels.clone();
    want.sort();
    assert_eq!(confirmed, want, "all 600 subscriptions confirmed");
    let stats = emu.control.stats();
    assert_eq!(
        stats.totals.errors_sent, 0,
        "the emulator answered no error (no 413): {stats:?}"
    );
    let log = lock(&log);
    assert!(
        log.max_request_body <= sfstream_emulator::MAX_REQUEST_BYTES,
        "largest request body {} bytes",
        log.max_request_body
    );
    let total: usize = channels.iter().map(|c| c.len() + 100).sum();
    assert!(
        log.batches >= total / 32_768,
        "the subscriptions went out in several batches: {log:?}"
    );
    assert!(log.requests > 3, "{log:?}");
    drop(log);
    rt.block_on(client.close()).expect("close");
}
