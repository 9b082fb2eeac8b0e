//! A consumer that stops reading stdout (the pipe fills up) must not keep `sfstream listen` from
//! reacting to a signal: SIGTERM still disconnects, flushes the store and exits 0 within the
//! close bound. The store never holds an id whose line did not reach the pipe.

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, json_lines, read_store, scratch_dir, signal, text, wait_output};

const ORDERS: &str = "/event/Order__e";
/// Far more than a pipe holds (64 KiB on Linux; a line is a few hundred bytes).
const EVENTS: usize = 3000;
/// Lines read before the reader stops reading.
const READ_FIRST: usize = 600;

#[test]
fn sigterm_stops_a_listener_whose_reader_stopped_reading() {
    let emu = Emu::start();
    let dir = scratch_dir("stalled");
    let store = dir.join("replay.json");
    let ids = emu.publish(ORDERS, EVENTS);
    let mut child = emu
        .listen()
        .args(["--replay", "all", "--store"])
        .arg(&store)
        .arg(ORDERS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read the first lines, then hold the pipe open without reading until the listener is
    // stuck writing to it: its store stops moving.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut head = Vec::new();
    for _ in 0..READ_FIRST {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).expect("read") > 0,
            "stdout ended"
        );
        head.extend_from_slice(line.as_bytes());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = None;
    loop {
        assert!(
            Instant::now() < deadline,
            "the store never settled: {last:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
        let now = store
            .exists()
            .then(|| read_store(&store).get(ORDERS).copied())
            .flatten();
        if now.is_some() && now == last {
            break;
        }
        last = now;
    }
    assert!(
        last < Some(ids[EVENTS - 1]),
        "the pipe took every event: the test needs more"
    );

    signal(&child, "TERM");
    let signalled = Instant::now();
    let output = wait_output(child, Duration::from_secs(15));
    let took = signalled.elapsed();
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(took < Duration::from_secs(11), "exit took {took:?}");
    assert!(err.contains("stdout was not being read"), "{err}");
    assert!(err.contains("disconnected"), "{err}");

    // What the pipe holds: whole lines, then maybe part of one.
    let mut rest = head;
    stdout.read_to_end(&mut rest).expect("read the pipe");
    let complete = &rest[..rest.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)];
    let printed: Vec<i64> = json_lines(complete)
        .iter()
        .map(|v| v["replayId"].as_i64().expect("id"))
        .collect();
    assert_eq!(printed, ids[..printed.len()], "in order, nothing skipped");
    let stored = read_store(&store)[ORDERS];
    assert!(
        printed.contains(&stored),
        "the stored id {stored} is one whose line reached the pipe (last {:?})",
        printed.last()
    );
    let _ = std::fs::remove_dir_all(dir);
}
