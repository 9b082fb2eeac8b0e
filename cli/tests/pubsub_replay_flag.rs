//! `--replay` with `--api pubsub`: `all` prints the retained events, a base64 replay id starts
//! after that event, `new` prints none of the events published before.

mod common;

use std::time::Duration;

use common::pubsub::{PubSubEmu, replay_ids};
use common::{json_lines, run, text};

const ORDERS: &str = "/event/Order__e";

#[test]
fn replay_all_an_id_and_new() {
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, 3);
    let listen = |replay: &str, stop: [&str; 2]| {
        let out = run(
            emu.listen()
                .args(["--replay", replay])
                .args(stop)
                .arg(ORDERS),
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        replay_ids(&json_lines(&out.stdout))
    };
    assert_eq!(listen("all", ["--count", "3"]), published);
    assert_eq!(listen(&published[0], ["--count", "2"]), published[1..]);
    assert_eq!(listen("new", ["--duration", "2s"]), Vec::<String>::new());
}
