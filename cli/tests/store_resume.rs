//! `--store FILE`: a later run resumes right after the last printed event, with no gap and no
//! repeat; a stored id the server no longer keeps fails with 4, or falls back with --fallback.

mod common;

use std::time::Duration;

use common::{
    Emu, EmuCli, assert_clean_failure, json_lines, keys, read_store, run, scratch_dir, text,
};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);

fn ids_of(stdout: &[u8]) -> Vec<i64> {
    keys(&json_lines(stdout))
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

#[test]
fn a_later_run_resumes_after_the_stored_id() {
    let emu = Emu::start();
    let dir = scratch_dir("resume");
    let store = dir.join("replay.json");
    let ids = emu.publish(ORDERS, 5);

    let out = run(
        emu.listen()
            .args(["--replay", "all", "--count", "3", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(ids_of(&out.stdout), ids[..3]);
    assert_eq!(
        read_store(&store)[ORDERS],
        ids[2],
        "the last printed id is stored"
    );

    // Default replay is "new", but the stored id wins: the two events after it come next.
    let out = run(
        emu.listen()
            .args(["--count", "2", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(ids_of(&out.stdout), ids[3..]);
    assert!(
        err.contains(&format!("subscribed {ORDERS} from replay id {}", ids[2])),
        "{err}"
    );
    assert_eq!(read_store(&store)[ORDERS], ids[4]);

    // Events published between runs arrive in the next run, in order.
    let more = emu.publish(ORDERS, 3);
    let out = run(
        emu.listen()
            .args(["--count", "3", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(ids_of(&out.stdout), more);
    assert_eq!(read_store(&store)[ORDERS], more[2]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_stored_id_past_retention_fails_with_4_or_falls_back() {
    let emu = Emu::start_with(|b| b.max_retained_events(3));
    let dir = scratch_dir("fallback");
    let store = dir.join("replay.json");
    let first = emu.publish(ORDERS, 1);
    let out = run(
        emu.listen()
            .args(["--replay", "all", "--count", "1", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read_store(&store)[ORDERS], first[0]);
    // Four more: the stored id falls out of the three the server keeps.
    let later = emu.publish(ORDERS, 4);

    let out = run(emu.listen().arg("--store").arg(&store).arg(ORDERS), LIMIT);
    let err = assert_clean_failure(&out, 4);
    assert!(err.contains("--fallback"), "{err}");
    assert_eq!(
        read_store(&store)[ORDERS],
        first[0],
        "a failed run changes nothing"
    );

    let out = run(
        emu.listen()
            .args(["--fallback", "--count", "3", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("was rejected"),
        "the fallback is reported:\n{err}"
    );
    assert_eq!(ids_of(&out.stdout), later[1..], "every retained event");
    assert_eq!(read_store(&store)[ORDERS], later[3]);
    let _ = std::fs::remove_dir_all(dir);
}
