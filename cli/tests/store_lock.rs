//! Two listeners cannot share one store file: the second exits 2 and names the process that
//! holds it; once the first is gone, the store is free again.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, assert_clean_failure, run, scratch_dir, signal, wait_output};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_second_listener_on_the_same_store_exits_2_naming_the_first() {
    let emu = Emu::start();
    let dir = scratch_dir("lock");
    let store = dir.join("replay.json");
    let mut first = emu
        .listen()
        .arg("--store")
        .arg(&store)
        .arg(ORDERS)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the first listener is up (it has the store by then).
    let mut status = BufReader::new(first.stderr.take().expect("stderr"));
    let deadline = Instant::now() + LIMIT;
    let mut line = String::new();
    while !line.contains("listening on") {
        assert!(
            Instant::now() < deadline,
            "the first listener did not start"
        );
        line.clear();
        assert!(status.read_line(&mut line).expect("read") > 0, "it exited");
    }

    let out = run(emu.listen().arg("--store").arg(&store).arg(ORDERS), LIMIT);
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--store"), "{err}");
    assert!(
        err.contains(&format!("in use by process {}", first.id())),
        "names the holder (pid {}): {err}",
        first.id()
    );

    signal(&first, "TERM");
    std::thread::spawn(move || for _ in status.lines() {});
    let done = wait_output(first, LIMIT);
    assert_eq!(done.status.code(), Some(0));
    let out = run(
        emu.listen()
            .args(["--duration", "1s", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out.stderr));
    let _ = std::fs::remove_dir_all(dir);
}
