//! `--max-pending N` with `--api pubsub`: the emulator never has more than N events of the topic
//! requested and not delivered; without it, the client asks for 100.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::pubsub::PubSubEmu;
use common::{json_lines, text, wait_output};

const ORDERS: &str = "/event/Order__e";

#[test]
fn max_pending_bounds_the_outstanding_events() {
    let emu = PubSubEmu::start();
    emu.publish(ORDERS, 60);
    let child = emu
        .listen()
        .args([
            "--replay",
            "all",
            "--count",
            "60",
            "--max-pending",
            "5",
            ORDERS,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // Sampled while it runs and once it is done.
    let mut samples = Vec::new();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        samples.push(emu.outstanding(ORDERS));
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = wait_output(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out.stdout).len(), 60);
    samples.push(emu.outstanding(ORDERS));
    assert!(samples.iter().all(|&n| n <= 5), "{samples:?}");

    // The same run without the flag asks for more than 5: the check above can fail.
    let emu = PubSubEmu::start();
    emu.publish(ORDERS, 60);
    let out = wait_output(
        emu.listen()
            .args(["--replay", "all", "--count", "60", ORDERS])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts"),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(emu.outstanding(ORDERS) > 5, "{}", emu.stats());
}
