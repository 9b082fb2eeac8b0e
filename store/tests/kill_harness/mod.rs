//! The `kill -9` harness the crash tests share: re-runs this test binary's `child_writer` with
//! the store path in an environment variable, kills it (SIGKILL on Unix) at random-ish instants,
//! and after every kill checks what the child reported against the file. The child saves the
//! main id as previous + 1 and prints `saved <id>` after each save returns.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ROUNDS: usize = 25;
const MIN_ROUNDS_WITH_SAVES: usize = 5;
const BUDGET: Duration = Duration::from_secs(8);

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

/// Runs the kill rounds. After each kill, `check(context)` opens the file, checks
/// what is specific to the test and returns the main id the file holds; the harness checks that
/// it holds every save that returned and at most one more, never moves backwards, and that
/// opening removed any temporary file the kill left.
pub(crate) fn kill_rounds(
    child_env: &str,
    dir: &Path,
    path: &Path,
    mut check: impl FnMut(&str) -> i64,
) {
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
            .env(child_env, path)
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

        let main = check(&context);
        // The file holds every save that returned, and at most the one save that
        // may have completed before its report was printed ...
        assert!(
            (last_reported..=last_reported + 1).contains(&main),
            "{context}: file holds {main}, last reported save {last_reported}"
        );
        // ... and never moves backwards.
        assert!(
            main >= floor_main,
            "{context}: {main} < previous {floor_main}"
        );
        // Open removed the temporary file the kill may have left.
        assert_eq!(temp_files(dir), Vec::<String>::new(), "{context}");
        floor_main = main;
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
