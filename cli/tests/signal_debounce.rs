//! Two stop signals in quick succession are one request: `timeout N sfstream listen` sends
//! SIGTERM to the child and then to its process group, and the second must not cut the graceful
//! disconnect short (the store is flushed, exit 0). A signal after the one-second window still
//! means "stop now".
//!
//! The emulator holds the `/meta/disconnect` so that the second signal arrives while the close
//! is still in progress.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, read_store, scratch_dir, signal, text, wait_output};
use sfstream_emulator::{Fault, FaultTarget};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);

/// Starts `cmd` (a listener with a store, replaying all), reads the lines of `ids`, then makes
/// the emulator hold the next CometD requests (the disconnect among them) for `hold`.
fn listening(
    emu: &Emu,
    mut cmd: Command,
    ids: &[i64],
    hold: Duration,
) -> (Child, BufReader<ChildStdout>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let deadline = Instant::now() + LIMIT;
    let mut printed = 0;
    while printed < ids.len() {
        assert!(Instant::now() < deadline, "only {printed} lines");
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read") > 0, "stdout ended");
        printed += 1;
    }
    emu.control
        .fail_next_on(FaultTarget::CometD, 3, Fault::Delay(hold));
    (child, out)
}

fn listen_cmd(emu: &Emu, store: &std::path::Path) -> Command {
    let mut cmd = emu.listen();
    cmd.args(["--replay", "all", "--store"])
        .arg(store)
        .arg(ORDERS);
    cmd
}

#[test]
fn a_second_sigterm_within_a_second_is_the_same_request() {
    let emu = Emu::start();
    let dir = scratch_dir("debounce");
    let store = dir.join("replay.json");
    let ids = emu.publish(ORDERS, 4);
    let (child, out) = listening(
        &emu,
        listen_cmd(&emu, &store),
        &ids,
        Duration::from_millis(1500),
    );
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    let output = wait_output(child, LIMIT);
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("received again"), "{err}");
    assert!(err.contains("disconnected"), "{err}");
    assert_eq!(read_store(&store)[ORDERS], ids[3], "the store was flushed");
    drop(out);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn timeout_sending_sigterm_twice_still_flushes_the_store() {
    let emu = Emu::start();
    let dir = scratch_dir("timeout");
    let store = dir.join("replay.json");
    let ids = emu.publish(ORDERS, 4);
    // `timeout` signals the child, then the process group it made: two SIGTERMs at once.
    let mut cmd = Command::new("timeout");
    let listen = listen_cmd(&emu, &store);
    cmd.arg("3")
        .arg(listen.get_program())
        .args(listen.get_args())
        .envs(listen.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .stdin(Stdio::null());
    let (child, out) = listening(&emu, cmd, &ids, Duration::from_millis(1500));
    let output = wait_output(child, LIMIT);
    let err = text(&output.stderr);
    // timeout exits 124 when it had to signal; the listener's own status is in its messages.
    assert_eq!(output.status.code(), Some(124), "{err}");
    assert!(
        err.contains("SIGTERM received; disconnecting after 4 events"),
        "{err}"
    );
    assert!(!err.contains("received again"), "{err}");
    assert!(err.contains("disconnected"), "{err}");
    assert_eq!(read_store(&store)[ORDERS], ids[3], "the store was flushed");
    drop(out);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_signal_after_the_window_still_stops_at_once() {
    let emu = Emu::start();
    let dir = scratch_dir("force");
    let store = dir.join("replay.json");
    let ids = emu.publish(ORDERS, 2);
    let (child, out) = listening(&emu, listen_cmd(&emu, &store), &ids, Duration::from_secs(6));
    signal(&child, "TERM");
    let first = Instant::now();
    std::thread::sleep(Duration::from_millis(1300));
    signal(&child, "TERM");
    let output = wait_output(child, LIMIT);
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("SIGTERM received again"), "{err}");
    assert!(
        first.elapsed() < Duration::from_secs(4),
        "did not wait for the held disconnect: {:?}",
        first.elapsed()
    );
    drop(out);
    let _ = std::fs::remove_dir_all(dir);
}
