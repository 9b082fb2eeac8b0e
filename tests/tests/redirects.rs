//! No runtime and no HTTP backend follows a redirect. A token endpoint answering 301, 302, 307
//! or 308 to a second loopback server (127.0.0.2: another host as far as URLs go), and an
//! instance answering a handshake with a 302 there: `open` fails with an error that names the
//! host and the URL to fix, the request is not retried, and the second server receives nothing:
//! no password, client secret or bearer token went there.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::{Config, Secret};
use sfstream_driver::{ClientBuilder, Runtime};
use sfstream_tests::fast;
use support::*;

/// A server that answers every request with `status` and a `Location` of `location`.
fn redirecting(status: u16, location: String) -> FakeServer {
    FakeServer::start(move |_head, stream| {
        let _ = write!(
            stream,
            "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n"
        );
        0
    })
}

fn password(login: String) -> Credentials {
    Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        username: USERNAME.into(),
        password: Secret::new(format!("{PASSWORD}{SECURITY_TOKEN}")),
        login: LoginUrl::Custom(login),
    }
}

/// Opens a client on `runtime` with `credentials`; the error's text, after checking that the
/// failure came quickly (a redirect is not retried).
fn failed_open<R: Runtime>(exec: &Exec, runtime: R, credentials: Credentials) -> String {
    let mut config = fast(Config::salesforce(credentials));
    config.connection_timeout = Some(Duration::from_secs(20));
    let client = exec.build(ClientBuilder::with_config(runtime, config));
    let started = Instant::now();
    let error = exec
        .block_on(client.open())
        .expect_err("a redirect is refused");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the refusal took {:?}",
        started.elapsed()
    );
    let _ = exec.block_on(client.close());
    error.to_string()
}

fn redirects_are_refused<R: Runtime>(name: &str, exec: &Exec, runtime: fn() -> R) {
    let elsewhere = FakeServer::start_on("127.0.0.2", |_head, stream| {
        let body = r#"{"access_token":"stolen","instance_url":"http://127.0.0.2:1"}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        0
    });

    // The token endpoint redirects: the password and client secret must not follow.
    for status in [301, 302, 307, 308] {
        let login = redirecting(status, format!("{}/services/oauth2/token", elsewhere.url()));
        let text = failed_open(exec, runtime(), password(login.url()));
        for part in ["127.0.0.2", &format!("HTTP {status}"), "login URL"] {
            assert!(text.contains(part), "[{name}] {status}: {part:?} in {text}");
        }
        assert_eq!(
            login.heads().len(),
            1,
            "[{name}] {status}: one token request, not retried"
        );
    }

    // The instance redirects the handshake: the bearer token must not follow.
    let instance = redirecting(302, format!("{}/cometd/64.0", elsewhere.url()));
    let text = failed_open(
        exec,
        runtime(),
        Credentials::AccessToken {
            access_token: Secret::new(PREISSUED_TOKEN),
            instance_url: instance.url(),
        },
    );
    for part in ["127.0.0.2", "HTTP 302", "instance URL"] {
        assert!(
            text.contains(part),
            "[{name}] handshake: {part:?} in {text}"
        );
    }
    assert!(
        instance.heads()[0].contains("/cometd/"),
        "[{name}] the handshake reached the instance"
    );

    // Give a client that did follow the time to get there.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        elsewhere.connections(),
        0,
        "[{name}] the other host received: {:?}",
        elsewhere.heads()
    );
}

per_runtime!(redirects_are_refused);
