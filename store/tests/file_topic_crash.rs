//! `FileStore` under `kill -9`, with Pub/Sub replay ids: a child process saves
//! increasing byte ids (8 bytes, big-endian) per topic beside an integer
//! channel id, as fast as it can, and is killed (SIGKILL on Unix) at
//! random-ish instants; after every kill the file must parse and hold ids
//! the child had saved, no older than the last save it reported, and never
//! older than the previous round's.
//!
//! The child is this test binary itself, re-run with `--exact child_writer`
//! and the store path in `SFSTREAM_STORE_TOPIC_CHILD`.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sfstream_store::{FileStore, ReplayStore};

mod common;

const CHILD_ENV: &str = "SFSTREAM_STORE_TOPIC_CHILD";
const ROUNDS: usize = 25;
const MIN_ROUNDS_WITH_SAVES: usize = 5;
const BUDGET: Duration = Duration::from_secs(8);
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

/// xorshift64: random enough to spread the kill instants.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp-"))
        .collect()
}

#[test]
fn kill_9_never_tears_or_rewinds_topic_ids() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = common::TempDir::new("crash");
    let path = dir.path().join("replay.json");
    let exe = std::env::current_exe().unwrap();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut random = seed;
    let started = Instant::now();

    // What the file held after the previous round.
    let mut floor_main = 0_i64;
    let mut floor_paired = 0_i64;
    let mut total_saves = 0_usize;
    let mut rounds_with_saves = 0_usize;

    // At least ROUNDS rounds; more (within a time budget) if a slow machine
    // let too few children start saving before their kill.
    let mut round = 0;
    while round < ROUNDS
        || (rounds_with_saves < MIN_ROUNDS_WITH_SAVES && started.elapsed() < BUDGET)
    {
        round += 1;
        let delay = Duration::from_millis(1 + next_random(&mut random) % 30);
        let context = format!("seed {seed}, round {round}, kill after {delay:?}");
        let mut child = Command::new(&exe)
            .args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let exited_early = child.try_wait().unwrap();
        child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush
        child.wait().unwrap();
        let mut stdout = String::new();
        let mut stderr = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(
            exited_early.is_none(),
            "{context}: the child exited by itself ({exited_early:?}):\n{stdout}\n{stderr}"
        );

        // Only whole lines: the kill may cut the last one. The first report
        // shares its line with the harness's "test child_writer ... ".
        let complete = &stdout[..stdout.rfind('\n').map_or(0, |i| i + 1)];
        let reported: Vec<i64> = complete
            .lines()
            .filter_map(|line| line.split_once("saved ").map(|(_, id)| id))
            .map(|id| id.parse().unwrap())
            .collect();
        let expected: Vec<i64> = (floor_main + 1..).take(reported.len()).collect();
        assert_eq!(
            reported, expected,
            "{context}: the child resumes where the file was"
        );
        let last_reported = reported.last().copied().unwrap_or(floor_main);
        total_saves += reported.len();
        rounds_with_saves += usize::from(!reported.is_empty());

        // The file parses (open would fail with Corrupt otherwise) ...
        let store = FileStore::open(&path)
            .unwrap_or_else(|e| panic!("{context}: the store is unreadable after a kill: {e}"));
        let ids = store.load_topics().unwrap();
        let main = number(&ids, MAIN);
        let paired = number(&ids, PAIRED);
        let channel = store.load().unwrap().get(CHANNEL).copied().unwrap_or(0);
        // The channel gets every tenth id just before the topics do.
        assert!(
            channel <= main + 1 && main < channel + 10,
            "{context}: channel {channel} beside topic {main}"
        );
        // ... holds every save that returned, and at most the one save that
        // may have completed before its report was printed ...
        assert!(
            (last_reported..=last_reported + 1).contains(&main),
            "{context}: file holds {main}, last reported save {last_reported}"
        );
        // ... never moves backwards ...
        assert!(
            main >= floor_main,
            "{context}: {main} < previous {floor_main}"
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
        // Open removed the temporary file the kill may have left.
        assert_eq!(temp_files(dir.path()), Vec::<String>::new(), "{context}");

        floor_main = main;
        floor_paired = paired;
    }

    eprintln!(
        "seed {seed}: {round} kills, {rounds_with_saves} after saves, {total_saves} saves, {:?}",
        started.elapsed()
    );
    assert!(
        rounds_with_saves > 0 && total_saves > 0,
        "seed {seed}: no round saved anything; the test checked nothing"
    );
}
