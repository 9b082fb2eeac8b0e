//! SIGTERM and Ctrl-C (SIGINT): a graceful disconnect, a flushed store, exit 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, read_store, scratch_dir, signal, text, wait_output};

const ORDERS: &str = "/event/Order__e";

fn stops_cleanly_on(name: &str) {
    let emu = Emu::start();
    let dir = scratch_dir("signals");
    let store = dir.join("replay.json");
    let ids = emu.publish(ORDERS, 4);
    let mut child = emu
        .listen()
        .args(["--replay", "all", "--store"])
        .arg(&store)
        .arg(ORDERS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read the four lines, then signal.
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while printed.len() < ids.len() {
        assert!(Instant::now() < deadline, "only {} lines", printed.len());
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read") > 0, "stdout ended");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        printed.push(v["replayId"].as_i64().expect("id"));
    }
    assert_eq!(printed, ids);
    signal(&child, name);
    let output = wait_output(child, Duration::from_secs(15));
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        err.contains("received; disconnecting after 4 events"),
        "{err}"
    );
    assert!(err.contains("disconnected"), "{err}");
    assert_eq!(read_store(&store)[ORDERS], ids[3], "the store was flushed");
    drop(out);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigterm_disconnects_and_flushes_the_store() {
    stops_cleanly_on("TERM");
}

#[test]
fn ctrl_c_disconnects_and_flushes_the_store() {
    stops_cleanly_on("INT");
}
