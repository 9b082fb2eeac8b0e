//! The Pub/Sub flags of `sfstream emulator`: `--no-pubsub` serves the Streaming API alone;
//! contradictory flags are usage errors (exit 2) and a busy Pub/Sub port one clear message
//! (exit 1), each naming the fix.

mod common;

use std::time::Duration;

use common::{assert_clean_failure, run, sfstream, signal, start_emulator, wait_status};

#[test]
fn no_pubsub_serves_the_streaming_api_alone() {
    let (mut emulator, out, printed) = start_emulator(&["--port", "0", "--no-pubsub"]);
    assert!(printed.contains("CometD endpoint"), "{printed}");
    assert!(!printed.contains("Pub/Sub"), "{printed}");
    assert!(!printed.contains("gRPC"), "{printed}");
    signal(&emulator, "TERM");
    drop(out);
    assert_eq!(
        wait_status(&mut emulator, Duration::from_secs(10)).code(),
        Some(0)
    );
}

#[test]
fn contradictory_pubsub_flags_are_usage_errors() {
    for flags in [
        &["--no-pubsub", "--pubsub-port", "0"][..],
        &["--no-pubsub", "--pubsub-tls"],
        &["--pubsub-port", "70000"],
    ] {
        let out = run(
            sfstream().args(["emulator", "--port", "0"]).args(flags),
            Duration::from_secs(10),
        );
        let err = assert_clean_failure(&out, 2);
        assert!(err.contains("--pubsub-"), "{flags:?}: {err}");
    }
    let out = run(
        sfstream().args(["emulator", "--port", "18443", "--pubsub-port", "18443"]),
        Duration::from_secs(10),
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("--pubsub-port 18443") && err.contains("another port"),
        "{err}"
    );
}

#[test]
fn a_busy_pubsub_port_is_one_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let out = run(
        sfstream().args(["emulator", "--port", "0", "--pubsub-port", &port]),
        Duration::from_secs(10),
    );
    let err = assert_clean_failure(&out, 1);
    assert!(
        err.contains(&port) && err.contains("Pub/Sub") && err.contains("--pubsub-port 0"),
        "{err}"
    );
}
