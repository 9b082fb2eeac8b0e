//! Wrong credentials: `open` fails with an error of kind `Authentication` that is fatal and not
//! retryable, the client stops, and later calls say it was closed by that failure (kind
//! `ClosedByFailure`, the refusal as the cause), on every runtime.

mod support;

use std::time::{Duration, Instant};

use sfstream_core::Config;
use sfstream_core::oauth::Credentials;
use sfstream_driver::{ClientBuilder, ErrorKind, Runtime};
use sfstream_tests::fast;
use support::*;

fn wrong_credentials_are_a_fatal_authentication_error<R: Runtime>(
    name: &str,
    exec: &Exec,
    runtime: fn() -> R,
) {
    let emu = Emu::start(|b| b);
    let credentials = Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        username: USERNAME.into(),
        password: "not-the-password".into(),
        login: emu.login(),
    };
    let client = exec.build(ClientBuilder::with_config(
        runtime(),
        fast(Config::salesforce(credentials)),
    ));
    exec.block_on(client.subscribe(ORDERS)).expect("queued");
    let started = Instant::now();
    let error = exec.block_on(client.open()).expect_err("refused");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "[{name}] not retried"
    );
    assert_eq!(error.kind(), ErrorKind::Authentication, "[{name}] {error}");
    assert!(error.is_fatal(), "[{name}] {error}");
    assert!(!error.is_retryable(), "[{name}] {error}");
    assert_eq!(error.channel(), None, "[{name}] {error}");
    assert!(
        !error.to_string().contains("not-the-password"),
        "[{name}] {error}"
    );
    assert!(client.is_closed(), "[{name}] the client stopped");

    // Later calls: closed by that failure, which they carry.
    for later in [
        exec.block_on(client.receive()).map(|_| ()),
        exec.block_on(client.subscribe("/topic/AccountUpdates")),
        exec.block_on(client.open()),
    ] {
        let e = later.expect_err("closed");
        assert_eq!(e.kind(), ErrorKind::ClosedByFailure, "[{name}] {e}");
        assert!(e.is_fatal(), "[{name}] {e}");
        let cause = e.closed_cause().expect("the cause");
        assert_eq!(cause.kind(), ErrorKind::Authentication, "[{name}] {e}");
    }
    exec.block_on(client.close())
        .expect("closing a stopped client");
}

per_runtime!(wrong_credentials_are_a_fatal_authentication_error);
