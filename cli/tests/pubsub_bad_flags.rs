//! Bad flags with `--api pubsub` exit with 2 and a message that names the flag and the fix;
//! a topic the server does not have exits with 4.

mod common;

use std::time::Duration;

use common::pubsub::PubSubEmu;
use common::{assert_clean_failure, run, sfstream};

#[test]
fn a_replay_id_that_is_not_base64() {
    let out = run(
        sfstream().args([
            "listen",
            "--api",
            "pubsub",
            "--replay",
            "12!x",
            "/event/Order__e",
        ]),
        Duration::from_secs(30),
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--replay"), "{err}");
    assert!(
        err.contains("not base64") && err.contains("--replay AAAAAAAAAAk="),
        "{err}"
    );
}

#[test]
fn a_name_that_is_not_a_topic() {
    let out = run(
        sfstream().args(["listen", "--api", "pubsub", "/topic/AccountUpdates"]),
        Duration::from_secs(30),
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("not a Pub/Sub topic") && err.contains("/event/NAME__e"),
        "{err}"
    );
}

#[test]
fn publishing_needs_the_pubsub_api() {
    let out = run(
        sfstream().args(["publish", "--api", "streaming", "/event/Order__e"]),
        Duration::from_secs(30),
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--api pubsub"), "{err}");
}

#[test]
fn a_base64_id_on_the_streaming_api() {
    let out = run(
        sfstream().args(["listen", "--replay", "AAAAAAAAAAk=", "/event/Order__e"]),
        Duration::from_secs(30),
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("--replay") && err.contains("--api pubsub"),
        "{err}"
    );
}

#[test]
fn an_unknown_topic_exits_4() {
    let emu = PubSubEmu::start();
    let out = run(
        emu.listen()
            .args(["--duration", "20s", "/event/Missing__e"]),
        Duration::from_secs(60),
    );
    let err = assert_clean_failure(&out, 4);
    assert!(err.contains("/event/Missing__e"), "{err}");
}
