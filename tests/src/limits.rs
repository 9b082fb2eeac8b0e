//! Giving up and extreme settings: an unusable token endpoint is an outage like any other, and
//! no duration setting makes the client panic or hang.

use std::time::{Duration, Instant};

use sfstream_emulator::{Fault, FaultTarget};

use crate::cases::{ORDERS, ids, open_with, receive_all};
use crate::{Emu, Flavor, Setup};

/// Opens against a token endpoint broken by `fault`, with a 1 s connection timeout and a 2 s
/// request deadline: `open` must fail with a connection-lost error within a few seconds.
fn open_fails_in_time(f: &dyn Flavor, name: &str, fault: Fault) {
    let emu = Emu::start();
    emu.control.fail_next_on(FaultTarget::Token, 1000, fault);
    let mut setup = Setup::new(&emu);
    setup.config.connection_timeout = Some(Duration::from_secs(1));
    setup.config.request_timeout = Duration::from_secs(2);
    let client = f.client(setup);
    client.subscribe(ORDERS).expect("subscribe before open");
    let started = Instant::now();
    let err = client
        .open()
        .expect_err("the token endpoint never gives a token");
    let took = started.elapsed();
    assert!(
        err.is_connection_lost(),
        "[{}] {name}: a connection-lost error, got {err}",
        f.name()
    );
    assert!(
        // The silent endpoint's attempt fails at 2 s, an outage since it started: reported then,
        // not a second later.
        took >= Duration::from_millis(900) && took < Duration::from_millis(2800),
        "[{}] {name}: open gave up after {took:?} for a 1 s limit",
        f.name()
    );
    assert!(emu.control.stats().totals.token_requests >= 1);
    let _ = client.close();
}

/// The token endpoint answers 503: `open` gives up at the connection timeout.
pub fn token_endpoint_5xx_is_an_outage(f: &dyn Flavor) {
    open_fails_in_time(f, "503", Fault::Status(503));
}

/// The token endpoint answers 429: the same.
pub fn token_endpoint_429_is_an_outage(f: &dyn Flavor) {
    open_fails_in_time(f, "429", Fault::Status(429));
}

/// The token endpoint never answers: `open` gives up when the first attempt fails at its 2 s
/// deadline, counting the outage from when that attempt started (before, the outage began at
/// the failure and was reported a second later, or never).
pub fn token_endpoint_silence_is_an_outage(f: &dyn Flavor) {
    open_fails_in_time(f, "silent", Fault::Delay(Duration::from_secs(8)));
}

/// Every duration setting at its largest: the client opens, streams and closes promptly.
pub fn largest_durations_neither_panic_nor_hang(f: &dyn Flavor) {
    let emu = Emu::start();
    let mut setup = Setup::new(&emu);
    setup.config.connection_timeout = Some(Duration::MAX);
    setup.config.request_timeout = Duration::MAX;
    setup.config.long_poll_margin = Duration::MAX;
    setup.config.retry.max = Duration::MAX;
    setup.config.retry.max_for_limits = Duration::MAX;
    setup.config.retry.multiplier = f64::MAX;
    let client = open_with(f, setup, &[ORDERS]);
    receive_all(f, client.as_ref(), &ids(ORDERS, &emu.publish(ORDERS, 3)));
    // A failure backs off by the initial delay first, so one is harmless.
    emu.control.fail_next(1, Fault::Status(503));
    receive_all(f, client.as_ref(), &ids(ORDERS, &emu.publish(ORDERS, 3)));
    let started = Instant::now();
    client.close().expect("close");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "[{}] close took {:?}",
        f.name(),
        started.elapsed()
    );
}
