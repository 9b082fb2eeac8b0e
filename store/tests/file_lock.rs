//! `FileStore`: one store per file. A second store on the same file, in this
//! process or another, is refused and told which process holds it; the lock
//! goes with the store, and with a process killed by `kill -9`.
//!
//! The other process is this test binary itself, re-run with
//! `--exact child_holder` and the store path in `SFSTREAM_STORE_LOCK_CHILD`.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sfstream_store::{FileStore, ReplayStore, StoreError};

mod common;

const CHILD_ENV: &str = "SFSTREAM_STORE_LOCK_CHILD";

/// Run as a child process only: opens the store, says so, and holds it until
/// its standard input closes (or it is killed). A no-op in a normal run.
#[test]
fn child_holder() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = FileStore::open(&path).expect("child: open the store");
    store.save("/event/A", 1).expect("child: save");
    let mut out = std::io::stdout().lock();
    writeln!(out, "holding").expect("child: report");
    out.flush().expect("child: flush");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(store);
}

#[test]
fn a_second_store_in_this_process_is_refused_until_the_first_is_dropped() {
    let dir = common::TempDir::new("lock-self");
    let path = dir.path().join("replay.json");
    let first = FileStore::open(&path).unwrap();
    let err = FileStore::open(&path).unwrap_err();
    match &err {
        StoreError::Locked { path: p, holder } => {
            assert_eq!(p, &path);
            assert_eq!(*holder, Some(std::process::id()));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(err.to_string().contains("in this process"), "{err}");
    drop(first);
    FileStore::open(&path).expect("free again once dropped");
}

/// A client that was just closed may drop its store on another thread a moment
/// after the application opens the file again: the open waits for it.
#[test]
fn a_store_of_this_process_dropped_a_moment_later_is_waited_for() {
    let dir = common::TempDir::new("lock-wait");
    let path = dir.path().join("replay.json");
    let first = FileStore::open(&path).unwrap();
    first.save("/event/A", 7).unwrap();
    let started = Instant::now();
    let dropper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(first);
    });
    let second = FileStore::open(&path).expect("opened once the first is dropped");
    assert!(started.elapsed() >= Duration::from_millis(150), "it waited");
    assert_eq!(second.load().unwrap().get("/event/A"), Some(&7));
    dropper.join().unwrap();
}

#[test]
fn another_process_is_named_and_its_death_frees_the_store() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = common::TempDir::new("lock-other");
    let path = dir.path().join("replay.json");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_holder", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("holding") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the child died");
    }

    let err = FileStore::open(&path).unwrap_err();
    match &err {
        StoreError::Locked { holder, .. } => assert_eq!(*holder, Some(child.id())),
        other => panic!("expected Locked, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&format!("process {}", child.id())),
        "{message}"
    );
    assert!(message.contains("own store file"), "a fix: {message}");

    // SIGKILL: no destructor runs, the lock file stays; the kernel drops the lock.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(dir.path().join(".replay.json.lock").exists());
    let store = FileStore::open(&path).expect("a dead holder frees the store");
    assert_eq!(store.load().unwrap()["/event/A"], 1);
}
