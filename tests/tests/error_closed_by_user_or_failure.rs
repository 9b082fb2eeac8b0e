//! A closed client says who closed it, on every runtime: after `close`, calls fail with kind
//! `ClosedByUser` and no cause; after a failure that ends the session (the server revokes the
//! ready-made token the client cannot renew), `receive` returns that failure once, then errors
//! of kind `ClosedByFailure` that carry it.

mod support;

use std::time::{Duration, Instant};

use sfstream_core::Config;
use sfstream_core::oauth::Credentials;
use sfstream_driver::{Client, ClientBuilder, Error, ErrorKind, Runtime};
use sfstream_tests::fast;
use support::*;

fn token_client<R: Runtime>(exec: &Exec, runtime: R, emu: &Emu) -> Client<R> {
    let credentials = Credentials::AccessToken {
        access_token: PREISSUED_TOKEN.into(),
        instance_url: emu.base_url.clone(),
    };
    let client = exec.build(ClientBuilder::with_config(
        runtime,
        fast(Config::salesforce(credentials)),
    ));
    exec.block_on(client.subscribe(ORDERS)).expect("queued");
    exec.block_on(client.open()).expect("open");
    client
}

/// The next error `receive` returns, within 15 s.
fn next_error<R: Runtime>(exec: &Exec, client: &Client<R>) -> Error {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no error within 15 s");
        if let Some(Err(e)) = exec.receive_timeout(client, left) {
            return e;
        }
    }
}

fn closed_by_user_and_by_failure_differ<R: Runtime>(name: &str, exec: &Exec, runtime: fn() -> R) {
    let emu = Emu::start(|b| b);

    // Closed by the application.
    let client = token_client(exec, runtime(), &emu);
    exec.block_on(client.close()).expect("closed");
    for e in [
        next_error(exec, &client),
        exec.block_on(client.subscribe("/topic/AccountUpdates"))
            .expect_err("closed"),
    ] {
        assert_eq!(e.kind(), ErrorKind::ClosedByUser, "[{name}] {e}");
        assert!(matches!(e, Error::Closed), "[{name}] {e:?}");
        assert!(e.closed_cause().is_none(), "[{name}] {e}");
        assert!(e.is_fatal() && e.is_closed(), "[{name}] {e}");
    }

    // Closed by a failure: the token is revoked and cannot be renewed.
    let client = token_client(exec, runtime(), &emu);
    emu.control.revoke_tokens();
    let failure = next_error(exec, &client);
    assert_eq!(
        failure.kind(),
        ErrorKind::Authentication,
        "[{name}] {failure}"
    );
    assert!(failure.is_fatal(), "[{name}] {failure}");
    let closed = next_error(exec, &client);
    assert_eq!(
        closed.kind(),
        ErrorKind::ClosedByFailure,
        "[{name}] {closed}"
    );
    assert!(closed.is_closed() && closed.is_fatal(), "[{name}] {closed}");
    let cause = closed.closed_cause().expect("the cause");
    assert_eq!(cause.kind(), ErrorKind::Authentication, "[{name}] {cause}");
    assert_eq!(cause.to_string(), failure.to_string(), "[{name}]");
    assert!(
        !closed.to_string().contains(PREISSUED_TOKEN),
        "[{name}] {closed}"
    );
    assert!(client.is_closed(), "[{name}]");
    let e = exec
        .block_on(client.subscribe("/topic/AccountUpdates"))
        .expect_err("stopped");
    assert_eq!(e.kind(), ErrorKind::ClosedByFailure, "[{name}] {e}");
    exec.block_on(client.close())
        .expect("closing a stopped client");
}

per_runtime!(closed_by_user_and_by_failure_differ);
