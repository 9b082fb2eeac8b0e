//! `kill -9` at random moments while `sfstream listen --store FILE` streams: nothing is lost, the
//! store file parses after every kill, and an event is printed twice only if it came after the
//! id the store held when the listener was killed.
//!
//! The emulator runs in this process and publishes bursts on one channel the whole time. The
//! kill moments and bursts come from a seeded generator (`SFSTREAM_CRASH_SEED` overrides the
//! seed), so a failure can be replayed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, read_store, scratch_dir, signal, text, wait_output, wait_status};

const ORDERS: &str = "/event/Order__e";
const KILLS: usize = 24;

/// splitmix64: small, seeded, good enough to pick moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// Publishes bursts until told to stop; returns every published id.
fn publisher(emu: &Emu, seed: u64, stop: Arc<AtomicBool>) -> JoinHandle<Vec<i64>> {
    let control = emu.control.clone();
    std::thread::spawn(move || {
        let mut rng = Rng(seed ^ 0xb0b);
        let mut ids = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let n = rng.between(1, 20) as usize;
            ids.extend(control.publish_generated(ORDERS, n).expect("publish"));
            std::thread::sleep(Duration::from_millis(rng.between(5, 40)));
        }
        ids
    })
}

fn spawn_listener(emu: &Emu, store: &Path) -> Child {
    emu.listen()
        .args(["--replay", "all", "--store"])
        .arg(store)
        .arg(ORDERS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the listener starts")
}

/// The replay ids of the complete lines in `bytes`; a final line without its newline (cut by the
/// kill) is left out and counted.
fn complete_lines(bytes: &[u8]) -> (Vec<i64>, bool) {
    let text = String::from_utf8_lossy(bytes);
    let partial = !text.is_empty() && !text.ends_with('\n');
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines.pop(); // the empty tail, or the partial line
    let ids = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("a broken line ({e}): {l}"));
            assert_eq!(v["channel"], ORDERS, "{l}");
            v["replayId"].as_i64().expect("a replay id")
        })
        .collect();
    (ids, partial)
}

fn stored(store: &Path) -> Option<i64> {
    store
        .exists()
        .then(|| read_store(store).get(ORDERS).copied())
        .flatten()
}

#[test]
fn kill_9_at_random_moments_loses_nothing() {
    let seed = std::env::var("SFSTREAM_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2024_u64);
    let started = Instant::now();
    let emu = Emu::start();
    let dir = scratch_dir("crash");
    let store = dir.join("replay.json");
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(&emu, seed, stop.clone());
    let mut rng = Rng(seed);

    // How often each id was printed, and by which runs.
    let mut printed: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    let mut mid_stream_kills = 0;
    let mut partial_lines = 0;
    // The store's id right after each kill.
    let mut stored_at_kill: Vec<Option<i64>> = Vec::new();
    for run in 0..KILLS {
        let before = stored(&store);
        let mut child = spawn_listener(&emu, &store);
        std::thread::sleep(Duration::from_millis(rng.between(30, 700)));
        child.kill().expect("kill -9");
        let out = wait_output(child, Duration::from_secs(10));
        let context = || format!("seed {seed}, run {run}; stderr:\n{}", text(&out.stderr));
        assert_eq!(out.status.code(), None, "killed by a signal; {}", context());

        // The store parses (read_store checks the shape) after every kill.
        let after = stored(&store);
        let (ids, partial) = complete_lines(&out.stdout);
        partial_lines += usize::from(partial);
        if !ids.is_empty() {
            mid_stream_kills += 1;
        }
        // In order, each once.
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "order: {ids:?}; {}",
            context()
        );
        // Resumed after the stored id: nothing at or before it is printed again.
        if let (Some(b), Some(first)) = (before, ids.first()) {
            assert!(
                *first > b,
                "run printed {first} again, stored {b}; {}",
                context()
            );
        }
        for id in &ids {
            printed.entry(*id).or_default().push(run);
        }
        // The store never holds an id that was not printed.
        if let Some(a) = after {
            assert!(
                printed.contains_key(&a),
                "the store holds {a}, which no run printed; {}",
                context()
            );
            assert!(
                before.is_none_or(|b| a >= b),
                "the store went back; {}",
                context()
            );
        }
        stored_at_kill.push(after);
    }

    // A last run, with the publisher stopped, catches up; then a clean stop.
    stop.store(true, Ordering::Relaxed);
    let published = publishing.join().expect("the publisher");
    let before = stored(&store);
    let mut child = spawn_listener(&emu, &store);
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let lines: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stdout_reader = {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                let v: serde_json::Value = serde_json::from_str(&line).expect("JSON");
                let id = v["replayId"].as_i64().expect("id");
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(id);
            }
        })
    };
    let want: BTreeSet<i64> = published.iter().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let missing: Vec<i64> = {
            let last = lines.lock().unwrap_or_else(|p| p.into_inner());
            want.iter()
                .filter(|id| !printed.contains_key(id) && !last.contains(id))
                .copied()
                .collect()
        };
        if missing.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let last = lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
            panic!(
                "seed {seed}: the last run did not catch up: {} missing, first {:?}; stored \
                 before it {before:?}; it printed {} lines, first {:?}, last {:?}; stderr:\n{}",
                missing.len(),
                &missing[..missing.len().min(10)],
                last.len(),
                last.first(),
                last.last(),
                stderr_reader.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "TERM");
    let status = wait_status(&mut child, Duration::from_secs(15));
    let err = stderr_reader.join().expect("stderr");
    stdout_reader.join().expect("stdout reader");
    assert_eq!(status.code(), Some(0), "{err}");
    let last_run = lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if let (Some(b), Some(first)) = (before, last_run.first()) {
        assert!(*first > b, "the last run repeated {first} (stored {b})");
    }
    for id in &last_run {
        printed.entry(*id).or_default().push(KILLS);
    }
    assert_eq!(stored(&store), published.last().copied(), "the final store");

    // 0 lost.
    let lost: Vec<i64> = want
        .iter()
        .filter(|id| !printed.contains_key(id))
        .copied()
        .collect();
    assert!(
        lost.is_empty(),
        "seed {seed}: lost {} events: {lost:?}",
        lost.len()
    );
    // An id printed again was printed first by a run killed before that id reached the store.
    let mut duplicates = 0;
    for (id, runs) in &printed {
        if runs.len() > 1 {
            duplicates += 1;
            let first = runs[0];
            let held = stored_at_kill.get(first).copied().flatten();
            assert!(
                held.is_none_or(|h| *id > h),
                "seed {seed}: {id} printed by runs {runs:?}, but the store held {held:?} after \
                 run {first} was killed"
            );
        }
    }
    eprintln!(
        "seed {seed}: {} published, {KILLS} kills ({mid_stream_kills} mid-stream), \
         {duplicates} printed twice, {partial_lines} cut lines, 0 lost, {:.1}s",
        published.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        mid_stream_kills >= KILLS / 2,
        "too few kills hit a streaming listener"
    );
    assert!(
        printed.keys().all(|id| want.contains(id)),
        "only published ids are printed"
    );
    let _ = std::fs::remove_dir_all(dir);
}
