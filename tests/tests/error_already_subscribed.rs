//! Subscribing to a channel twice, before `open` and after: an error of kind
//! `AlreadySubscribed` that names the channel and is neither fatal nor retryable; the
//! subscription stays as it was, on every runtime. Unsubscribing a channel never subscribed:
//! kind `NotSubscribed`.

mod support;

use std::time::Duration;

use sfstream_core::Config;
use sfstream_driver::{ClientBuilder, ErrorKind, Runtime};
use sfstream_tests::fast;
use support::*;

fn subscribing_twice_is_its_own_kind<R: Runtime>(name: &str, exec: &Exec, runtime: fn() -> R) {
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
    let before_open = exec
        .block_on(client.subscribe(ORDERS))
        .expect_err("twice before open");
    exec.block_on(client.open()).expect("open");
    let after_open = exec
        .block_on(client.subscribe(ORDERS))
        .expect_err("twice after open");
    for e in [before_open, after_open] {
        assert_eq!(e.kind(), ErrorKind::AlreadySubscribed, "[{name}] {e}");
        assert_eq!(e.channel(), Some(ORDERS), "[{name}] {e}");
        assert!(!e.is_fatal() && !e.is_retryable(), "[{name}] {e}");
        assert_eq!(e.to_string(), format!("already subscribed to {ORDERS}"));
    }
    let e = exec
        .block_on(client.unsubscribe("/topic/AccountUpdates"))
        .expect_err("never subscribed");
    assert_eq!(e.kind(), ErrorKind::NotSubscribed, "[{name}] {e}");
    assert_eq!(e.channel(), Some("/topic/AccountUpdates"), "[{name}] {e}");

    // The subscription is as it was: it delivers.
    emu.control
        .publish(ORDERS, serde_json::json!({"n": 1}))
        .expect("published");
    let got = exec
        .receive_timeout(&client, Duration::from_secs(10))
        .expect("a message in time")
        .expect("a message");
    assert_eq!(got.channel(), ORDERS, "[{name}]");
    exec.block_on(client.close()).expect("closed");
}

per_runtime!(subscribing_twice_is_its_own_kind);
