//! `sfstream listen --api pubsub --store`: a second run resumes after the last event the first
//! printed, so every event is printed once, in order.

mod common;

use std::time::Duration;

use common::pubsub::{PubSubEmu, replay_ids};
use common::{json_lines, run, scratch_dir, text};

const ORDERS: &str = "/event/Order__e";

#[test]
fn a_restart_resumes_after_the_last_printed_event() {
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, 6);
    let store = scratch_dir("pubsub-resume").join("store.json");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let out = run(
            emu.listen()
                .args(["--replay", "all", "--count", "3", "--store"])
                .arg(&store)
                .arg(ORDERS),
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        seen.extend(replay_ids(&json_lines(&out.stdout)));
    }
    assert_eq!(seen, published, "nothing twice, nothing lost");

    // Nothing new: a third run prints nothing.
    let out = run(
        emu.listen()
            .args(["--replay", "all", "--duration", "2s", "--store"])
            .arg(&store)
            .arg(ORDERS),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out.stdout), Vec::<serde_json::Value>::new());
}
