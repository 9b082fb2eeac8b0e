//! `sfstream listen` prints its client's session events: a Bayeux session the server dropped is
//! reported as lost, and the new session as a reconnect, while the events keep coming.

mod common;

use std::time::{Duration, Instant};

use common::{Emu, EmuCli, json_lines, keys, text, wait_output};
use sfstream_emulator::DropAdvice;

const ORDERS: &str = "/event/Order__e";

/// Waits until the emulator has `n` sessions with a subscription, counting every one seen.
fn wait_for_subscribed_sessions(emu: &Emu, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu
        .control
        .stats()
        .clients
        .values()
        .filter(|c| c.active && !c.subscriptions.is_empty())
        .count()
        < n
    {
        assert!(Instant::now() < deadline, "the listener never subscribed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_dropped_session_is_reported_lost_and_the_new_one_a_reconnect() {
    let emu = Emu::start();
    let child = emu
        .listen()
        .args(["--count", "4", ORDERS])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for_subscribed_sessions(&emu, 1);
    let mut ids = emu.publish(ORDERS, 2);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(emu.control.drop_sessions(DropAdvice::Handshake), 1);
    wait_for_subscribed_sessions(&emu, 1);
    ids.extend(emu.publish(ORDERS, 2));
    let out = wait_output(child, Duration::from_secs(20));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    let got: Vec<i64> = keys(&json_lines(&out.stdout))
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(got, ids, "every event once, in order");
    assert!(
        err.contains("sfstream: warning: session lost: ") && err.contains("Unknown client"),
        "{err}"
    );
    assert!(
        err.contains("a new session, every channel resumes"),
        "{err}"
    );
    assert_eq!(
        err.matches(&format!("sfstream: subscribed {ORDERS}"))
            .count(),
        2,
        "subscribed on each session, each printed once:\n{err}"
    );
    let lost = err.find("session lost").unwrap_or(usize::MAX);
    let listening = err.find("listening on").unwrap_or(0);
    assert!(listening < lost, "the status lines in order:\n{err}");
}
