//! `FileStore` under `kill -9`: a child process saves increasing ids as fast
//! as it can and is killed (SIGKILL on Unix) at random-ish instants; after
//! every kill the file must parse and hold an id that the child had saved,
//! no older than the last save it reported, and never older than the
//! previous round's.
//!
//! The child is this test binary itself, re-run with `--exact child_writer`
//! and the store path in `SFSTREAM_STORE_CHILD`.

use std::io::Write as _;

use sfstream_store::{FileStore, ReplayStore};

mod common;
mod kill_harness;

const CHILD_ENV: &str = "SFSTREAM_STORE_CHILD";
/// Saved alone with odd ids, and with `PAIRED` by `save_many` with even ids.
const MAIN: &str = "/event/Order__e";
const PAIRED: &str = "/topic/AccountUpdates";

/// Run as a child process only: loops forever saving `MAIN` = previous + 1,
/// printing `saved <id>` after each save returns. A no-op in a normal run.
#[test]
fn child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = FileStore::open(&path).expect("child: open the store");
    let mut next = store.load().unwrap().get(MAIN).copied().unwrap_or(0) + 1;
    let mut out = std::io::stdout().lock();
    loop {
        if next % 2 == 0 {
            store
                .save_many(&[(MAIN.to_owned(), next), (PAIRED.to_owned(), next)])
                .expect("child: save_many");
        } else {
            store.save(MAIN, next).expect("child: save");
        }
        writeln!(out, "saved {next}").expect("child: report");
        out.flush().expect("child: flush");
        next += 1;
    }
}

#[test]
fn kill_9_never_tears_or_rewinds_the_store() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = common::TempDir::new("crash");
    let path = dir.path().join("replay.json");
    let mut floor_paired = 0_i64;
    kill_harness::kill_rounds(CHILD_ENV, dir.path(), &path, |context| {
        // The file parses (open would fail with Corrupt otherwise) ...
        let store = FileStore::open(&path)
            .unwrap_or_else(|e| panic!("{context}: the store is unreadable after a kill: {e}"));
        let ids = store.load().unwrap();
        let main = ids.get(MAIN).copied().unwrap_or(0);
        let paired = ids.get(PAIRED).copied().unwrap_or(0);
        assert!(
            paired >= floor_paired,
            "{context}: {paired} < previous {floor_paired}"
        );
        // ... and save_many wrote both channels in one document.
        assert!(
            paired == main || paired == main - 1 || (main <= 1 && paired == 0),
            "{context}: {PAIRED} = {paired} but {MAIN} = {main}"
        );
        assert_eq!(paired % 2, 0, "{context}: {PAIRED} only ever gets even ids");
        floor_paired = paired;
        main
    });
}
