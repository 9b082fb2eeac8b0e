//! `--max-pending N` with `--api pubsub`: per topic, never more than `min(N, 100)` events
//! requested and not yet printed, however slowly stdout is read (the emulator's credit accounting
//! against what the store says was printed); without it, the client asks for 100.

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::pubsub::{PubSubEmu, replay_ids};
use common::{json_lines, scratch_dir, text, wait_output};

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

/// Far more lines than a pipe holds (64 KiB on Linux; a line is a few hundred bytes).
const MANY: u64 = 1500;

#[test]
fn a_slow_reader_never_has_more_than_n_requested_and_not_printed() {
    slow_reader_run(5, 5);
}

#[test]
fn above_100_the_bound_is_100() {
    slow_reader_run(250, 100);
}

/// `listen --max-pending max_pending` with a reader that reads a few lines at a time and then
/// stops until the listener is stuck writing. At each standstill the emulator's credits
/// requested on the topic, less the events whose replay id the store holds (committed once
/// their line was written, so at most the printed ones), is at most `bound`, and reaches it
/// within a quarter (the client tops up in quarters of the window): the bound is what holds
/// back the listener. While the reader reads, the emulator's requested-and-not-delivered count
/// stays within it too.
fn slow_reader_run(max_pending: u32, bound: i64) {
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, MANY);
    let store = scratch_dir("pubsub-max-pending").join("store.json");
    let mut child = emu
        .listen()
        .args(["--replay", "all", "--count", &MANY.to_string()])
        .args(["--max-pending", &max_pending.to_string(), "--store"])
        .arg(&store)
        .arg(ORDERS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut err = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    let mut read_line = |lines: &mut Vec<u8>| {
        let before = lines.len();
        assert!(
            stdout.read_until(b'\n', lines).expect("read") > 0,
            "stdout ended after {} bytes",
            before
        );
    };
    let mut standstills = Vec::new();
    for _ in 0..4 {
        // Slowly: a line at a time, a pause every few lines.
        for i in 0..120 {
            read_line(&mut lines);
            if i % 10 == 0 {
                std::thread::sleep(Duration::from_millis(5));
                let outstanding = emu.outstanding(ORDERS);
                assert!(
                    outstanding <= bound,
                    "{outstanding} requested and not delivered, over {bound}"
                );
            }
        }
        standstills.push(requested_and_not_printed(&emu, &store, &published));
    }
    let max = standstills.iter().copied().max().unwrap_or_default();
    assert!(
        standstills.iter().all(|&n| n <= bound),
        "requested and not printed at each standstill {standstills:?}, over {bound}"
    );
    assert!(
        max >= bound - bound / 4,
        "the listener was not held back by the bound {bound}: {standstills:?}"
    );
    // The rest at full speed: every event once, in order.
    while stdout.read_until(b'\n', &mut lines).expect("read") > 0 {}
    let status = common::wait_status(&mut child, Duration::from_secs(60));
    let err = text(&err_reader.join().expect("stderr reader"));
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(replay_ids(&json_lines(&lines)), published, "{err}");
    let _ = std::fs::remove_dir_all(store.parent().expect("the scratch dir"));
}

/// Once the listener stands still (stuck writing to the pipe: the emulator's counters and the
/// store stop moving), the topic's credits requested less the events committed (the store's
/// position, by its place among the published ids).
fn requested_and_not_printed(
    emu: &PubSubEmu,
    store: &std::path::Path,
    published: &[String],
) -> i64 {
    let sample = || {
        let stats = emu.stats();
        let requested = stats["topics"][ORDERS]["credits_requested"]
            .as_i64()
            .unwrap_or_else(|| panic!("{stats}"));
        let text = std::fs::read_to_string(store).unwrap_or_default();
        let stored = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["topics"][ORDERS].as_str().map(str::to_owned));
        let committed = stored.map_or(0, |id| {
            published
                .iter()
                .position(|p| *p == id)
                .unwrap_or_else(|| panic!("the store holds {id}, never published"))
                + 1
        });
        (requested, i64::try_from(committed).expect("a count"))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = sample();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = sample();
        if now == last && now.1 > 0 {
            return now.0 - now.1;
        }
        assert!(
            Instant::now() < deadline,
            "the listener never stood still: {now:?}"
        );
        last = now;
    }
}
