//! A ready-made access token the server refuses (and the client cannot renew): `open` fails with
//! an error of kind `Authentication` (not a configuration error), fatal, on every runtime; the
//! token never appears in the error.

mod support;

use std::time::{Duration, Instant};

use sfstream_core::Config;
use sfstream_core::oauth::Credentials;
use sfstream_driver::{ClientBuilder, ErrorKind, Runtime};
use sfstream_tests::fast;
use support::*;

const UNKNOWN_TOKEN: &str = "at-9Zq1NEVERISSUEDtK4mW7";

fn a_refused_token_is_an_authentication_error<R: Runtime>(
    name: &str,
    exec: &Exec,
    runtime: fn() -> R,
) {
    let emu = Emu::start(|b| b);
    let credentials = Credentials::AccessToken {
        access_token: UNKNOWN_TOKEN.into(),
        instance_url: emu.base_url.clone(),
    };
    let client = exec.build(ClientBuilder::with_config(
        runtime(),
        fast(Config::salesforce(credentials)),
    ));
    let started = Instant::now();
    let error = exec.block_on(client.open()).expect_err("refused");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "[{name}] not retried"
    );
    assert_eq!(error.kind(), ErrorKind::Authentication, "[{name}] {error}");
    assert!(error.is_fatal(), "[{name}] {error}");
    assert!(!error.is_retryable(), "[{name}] {error}");
    let text = error.to_string();
    assert!(text.contains("refused"), "[{name}] {text}");
    assert!(!text.contains(UNKNOWN_TOKEN), "[{name}] {text}");
    assert!(client.is_closed(), "[{name}] the client stopped");
}

per_runtime!(a_refused_token_is_an_authentication_error);
