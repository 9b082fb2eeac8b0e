//! A channel that does not exist: `open` (which waits for the channels subscribed before it) and
//! `subscribe` fail with an error of kind `Channel` that names the channel and is not fatal; the
//! client goes on with its other channels, on every runtime.

mod support;

use std::time::Duration;

use sfstream_core::Config;
use sfstream_driver::{ClientBuilder, ErrorKind, Runtime};
use sfstream_tests::fast;
use support::*;

const MISSING: &str = "/event/No_Such__e";
const ALSO_MISSING: &str = "/topic/NoSuchTopic";

fn a_missing_channel_is_a_channel_error<R: Runtime>(name: &str, exec: &Exec, runtime: fn() -> R) {
    let emu = Emu::start(|b| b);
    let credentials = sfstream_core::oauth::Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        username: USERNAME.into(),
        password: format!("{PASSWORD}{SECURITY_TOKEN}").into(),
        login: emu.login(),
    };
    let client = exec.build(ClientBuilder::with_config(
        runtime(),
        fast(Config::salesforce(credentials)),
    ));
    exec.block_on(client.subscribe(ORDERS)).expect("queued");
    exec.block_on(client.subscribe(MISSING)).expect("queued");

    let error = exec
        .block_on(client.open())
        .expect_err("the missing channel fails open");
    assert_eq!(error.kind(), ErrorKind::Channel, "[{name}] {error}");
    assert_eq!(error.channel(), Some(MISSING), "[{name}] {error}");
    assert!(!error.is_fatal(), "[{name}] {error}");
    assert!(!error.is_retryable(), "[{name}] {error}");
    assert!(error.to_string().contains(MISSING), "[{name}] {error}");
    assert!(!error.to_string().contains("retrying"), "[{name}] {error}");
    assert!(!client.is_closed(), "[{name}] the client goes on");

    // After open, the same: the error names the channel, the client goes on.
    let error = exec
        .block_on(client.subscribe(ALSO_MISSING))
        .expect_err("a missing topic");
    assert_eq!(error.kind(), ErrorKind::Channel, "[{name}] {error}");
    assert_eq!(error.channel(), Some(ALSO_MISSING), "[{name}] {error}");
    assert!(!error.is_fatal(), "[{name}] {error}");

    // The other channel delivers.
    emu.control
        .publish(ORDERS, serde_json::json!({"n": 1}))
        .expect("published");
    let got = exec
        .receive_timeout(&client, Duration::from_secs(10))
        .expect("a message in time")
        .expect("a message");
    assert_eq!(got.channel(), ORDERS, "[{name}]");
    assert_eq!(client.subscriptions(), vec![ORDERS.to_owned()], "[{name}]");
    exec.block_on(client.close()).expect("closed");
}

per_runtime!(a_missing_channel_is_a_channel_error);
