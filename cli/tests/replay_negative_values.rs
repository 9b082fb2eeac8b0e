//! `--replay -2` and `--replay -1`, as the help advertises them, are the same as `all` and `new`.

mod common;

use std::time::Duration;

use common::{Emu, EmuCli, json_lines, keys, run, text};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn replay_minus_2_replays_every_retained_event() {
    let emu = Emu::start();
    let ids = emu.publish(ORDERS, 3);
    for form in [["--replay", "-2"], ["--replay=-2", ""]] {
        let out = run(
            emu.listen()
                .args(form.iter().filter(|a| !a.is_empty()))
                .args(["--count", "3", ORDERS]),
            LIMIT,
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{form:?}:\n{err}");
        let got: Vec<i64> = keys(&json_lines(&out.stdout))
            .into_iter()
            .map(|k| k.1)
            .collect();
        assert_eq!(got, ids, "{form:?}");
        assert!(err.contains("from -2 (all retained events)"), "{err}");
    }
}

#[test]
fn replay_minus_1_starts_with_new_events() {
    let emu = Emu::start();
    emu.publish(ORDERS, 2);
    let out = run(
        emu.listen()
            .args(["--replay", "-1", "--duration", "1500ms", ORDERS]),
        LIMIT,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        out.stdout.is_empty(),
        "old events printed: {}",
        text(&out.stdout)
    );
    assert!(err.contains("from -1 (new events)"), "{err}");
}
