//! `FileStore` under `kill -9`, with Pub/Sub replay ids: a child process saves
//! increasing byte ids (8 bytes, big-endian) per topic beside an integer
//! channel id, as fast as it can, and is killed (SIGKILL on Unix) at
//! random-ish instants; after every kill the file must parse and hold ids
//! the child had saved, no older than the last save it reported, and never
//! older than the previous round's.
//!
//! The child is this test binary itself, re-run with `--exact child_writer`
//! and the store path in `SFSTREAM_STORE_TOPIC_CHILD`.

use std::io::Write as _;

use sfstream_store::{FileStore, ReplayStore};

mod common;
mod kill_harness;

const CHILD_ENV: &str = "SFSTREAM_STORE_TOPIC_CHILD";
/// Saved alone with odd ids, and with `PAIRED` by `save_topics` with even ids
/// (the channel `CHANNEL` gets every tenth id, so both kinds share the file).
const MAIN: &str = "/event/Order__e";
const PAIRED: &str = "/data/AccountChangeEvent";
const CHANNEL: &str = "/topic/Legacy";

fn bytes(n: i64) -> Vec<u8> {
    (n as u64).to_be_bytes().to_vec()
}

fn number(ids: &std::collections::BTreeMap<String, Vec<u8>>, topic: &str) -> i64 {
    ids.get(topic).map_or(0, |b| {
        let array: [u8; 8] = b.as_slice().try_into().expect("8-byte ids");
        u64::from_be_bytes(array) as i64
    })
}

/// Run as a child process only: loops forever saving `MAIN` = previous + 1,
/// printing `saved <id>` after each save returns. A no-op in a normal run.
#[test]
fn child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = FileStore::open(&path).expect("child: open the store");
    let mut next = number(&store.load_topics().unwrap(), MAIN) + 1;
    let mut out = std::io::stdout().lock();
    loop {
        if next % 10 == 0 {
            store.save(CHANNEL, next).expect("child: save");
        }
        if next % 2 == 0 {
            store
                .save_topics(&[
                    (MAIN.to_owned(), bytes(next)),
                    (PAIRED.to_owned(), bytes(next)),
                ])
                .expect("child: save_topics");
        } else {
            store
                .save_topic(MAIN, &bytes(next))
                .expect("child: save_topic");
        }
        writeln!(out, "saved {next}").expect("child: report");
        out.flush().expect("child: flush");
        next += 1;
    }
}

#[test]
fn kill_9_never_tears_or_rewinds_topic_ids() {
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
        let ids = store.load_topics().unwrap();
        let main = number(&ids, MAIN);
        let paired = number(&ids, PAIRED);
        let channel = store.load().unwrap().get(CHANNEL).copied().unwrap_or(0);
        // ... the channel gets every tenth id just before the topics do ...
        assert!(
            channel <= main + 1 && main < channel + 10,
            "{context}: channel {channel} beside topic {main}"
        );
        assert!(
            paired >= floor_paired,
            "{context}: {paired} < previous {floor_paired}"
        );
        // ... and save_topics wrote both topics in one document.
        assert!(
            paired == main || paired == main - 1 || (main <= 1 && paired == 0),
            "{context}: {PAIRED} = {paired} but {MAIN} = {main}"
        );
        assert_eq!(paired % 2, 0, "{context}: {PAIRED} only ever gets even ids");
        floor_paired = paired;
        main
    });
}
