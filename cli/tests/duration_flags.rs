//! No duration flag can overflow a clock: every value of every duration flag is either refused
//! at once (exit 2, naming the flag and the limit) or runs normally. A property test per flag,
//! through the binary; the values span nanoseconds to far beyond what a `Duration` holds.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, assert_clean_failure, run, sfstream, signal, text, wait_output};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);
/// 100 years of 365.25 days, the documented limit.
const MAX_SECS: f64 = 100.0 * 365.25 * 86_400.0;

/// humantime's units and their length in seconds ("" is a bare number of seconds).
const UNITS: [(&str, f64); 10] = [
    ("", 1.0),
    ("ns", 1e-9),
    ("us", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
    ("d", 86_400.0),
    ("w", 604_800.0),
    ("y", 31_557_600.0),
];

/// A duration text and its length in seconds: half of them around the limit's size, the others
/// anywhere up to `u64::MAX` units.
fn durations() -> impl Strategy<Value = (String, f64)> {
    (
        prop_oneof![0u64..200, 1u64..4_000_000_000, any::<u64>()],
        0..UNITS.len(),
    )
        .prop_map(|(n, u)| {
            let (unit, secs) = UNITS[u];
            (format!("{n}{unit}"), n as f64 * secs)
        })
}

/// Checks the outcome of one value: refused (exit 2, a message naming the flag and the limit)
/// when it is over the limit, and otherwise `accepted` decides. Values within a part in a
/// million of the limit may go either way (floating point).
fn check(
    flag: &str,
    text_value: &str,
    secs: f64,
    accepted: impl FnOnce() -> Result<(), TestCaseError>,
    refused: Output,
) -> Result<(), TestCaseError> {
    let near = (secs - MAX_SECS).abs() < MAX_SECS * 1e-6;
    let err = text(&refused.stderr);
    prop_assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    match refused.status.code() {
        Some(2) if secs > MAX_SECS || near => {
            prop_assert!(err.contains(flag), "{flag} {text_value}: {err}");
            prop_assert!(err.contains("100 years"), "{flag} {text_value}: {err}");
            Ok(())
        }
        Some(2) => Err(TestCaseError::fail(format!(
            "{flag} {text_value} refused: {err}"
        ))),
        _ if secs > MAX_SECS && !near => Err(TestCaseError::fail(format!(
            "{flag} {text_value} ({secs:e} s) was accepted"
        ))),
        _ => accepted(),
    }
}

/// `sfstream listen FLAG=VALUE CHANNEL` without credentials: a value the parser accepts gets as
/// far as the "no credentials" error (exit 2 too, another message); a refused one stops at the
/// parser with "invalid value".
fn parse_only(flag: &str, value: &str) -> Output {
    run(
        sfstream()
            .arg("listen")
            .arg(format!("{flag}={value}"))
            .arg(ORDERS),
        LIMIT,
    )
}

/// Values on both sides of the limit and at the edges, tried before the random ones.
const FIXED: [(&str, f64); 6] = [
    ("0", 0.0),
    ("1ns", 1e-9),
    ("100y", MAX_SECS),
    ("3155760001", MAX_SECS + 1.0),
    ("500000000000y", 5e11 * 31_557_600.0),
    ("18446744073709551615y", 1.8e19 * 31_557_600.0),
];

/// Runs `case` on the fixed values, then on `cases` random ones.
fn for_values(cases: u32, case: impl Fn((String, f64)) -> Result<(), TestCaseError>) {
    for (value, secs) in FIXED {
        if let Err(e) = case((value.to_owned(), secs)) {
            panic!("{value}: {e}");
        }
    }
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
    .run(&durations(), case)
    .unwrap();
}

/// `--duration` and `--give-up-after`: an accepted value runs a listener to its end.
fn listen_flag(flag: &'static str) {
    let emu = Emu::start();
    emu.publish(ORDERS, 1);
    for_values(8, |(value, secs)| {
        let parsed = parse_only(flag, &value);
        let refused_by_parser = text(&parsed.stderr).contains("invalid value");
        let probe = if refused_by_parser {
            parsed
        } else {
            // Past the parser: run it for real.
            run(
                emu.listen()
                    .arg(format!("{flag}={value}"))
                    .args(["--replay", "all", "--count", "1", ORDERS]),
                LIMIT,
            )
        };
        let code = probe.status.code();
        let stderr = text(&probe.stderr);
        check(
            flag,
            &value,
            secs,
            || {
                // A tiny --duration may end the run before the event; either way, exit 0.
                prop_assert_eq!(code, Some(0), "{} {}: {}", flag, value, stderr);
                Ok(())
            },
            probe,
        )
    });
}

#[test]
fn every_duration_value_is_refused_or_runs() {
    listen_flag("--duration");
}

#[test]
fn every_give_up_after_value_is_refused_or_runs() {
    listen_flag("--give-up-after");
}

/// `--give-up-after` while the server is unreachable: the outage deadline computed from it never
/// overflows; the run ends at `--duration` (exit 0) or gives up (exit 5).
#[test]
fn give_up_after_with_an_unreachable_server() {
    for_values(4, |(value, secs)| {
        let out = run(
            sfstream()
                .env("SF_ACCESS_TOKEN", "token-for-nowhere")
                .env("SF_INSTANCE_URL", "http://127.0.0.1:9")
                .args(["listen", "--duration", "700ms", ORDERS])
                .arg(format!("--give-up-after={value}")),
            LIMIT,
        );
        let code = out.status.code();
        let stderr = text(&out.stderr);
        check(
            "--give-up-after",
            &value,
            secs,
            || {
                prop_assert!(
                    matches!(code, Some(0 | 5)),
                    "--give-up-after {}: {:?} {}",
                    value,
                    code,
                    stderr
                );
                Ok(())
            },
            out,
        )
    });
}

/// Starts `sfstream emulator FLAG=VALUE`; `Ok(login URL, child)` once it serves, or the output
/// of a run that ended (refused).
#[expect(
    clippy::zombie_processes,
    reason = "every return hands the child on or waits for it; only a failing test panics"
)]
fn start_emulator(flag: &str, value: &str) -> Result<(String, std::process::Child), Output> {
    let mut child = sfstream()
        .args(["emulator", "--port", "0", "--pubsub-port", "0"])
        .arg(format!("{flag}={value}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let deadline = Instant::now() + LIMIT;
    let mut url = None;
    loop {
        assert!(Instant::now() < deadline, "the emulator did not start");
        let mut line = String::new();
        if out.read_line(&mut line).expect("read") == 0 {
            return Err(wait_output(child, LIMIT));
        }
        if let Some(u) = line.trim().strip_prefix("export SF_LOGIN_URL=") {
            url = Some(u.to_owned());
        }
        if line.contains("Press Ctrl-C to stop.") {
            std::thread::spawn(move || for _ in out.lines() {});
            return Ok((url.expect("the login URL was printed"), child));
        }
    }
}

fn emulator_flag(flag: &'static str) {
    for_values(4, |(value, secs)| match start_emulator(flag, &value) {
        Err(refused) => check(flag, &value, secs, || Ok(()), refused),
        Ok((url, child)) => {
            let listener = run(
                emulator_listen(&url).args(["--duration", "300ms", ORDERS]),
                LIMIT,
            );
            signal(&child, "TERM");
            let stopped = wait_output(child, LIMIT);
            prop_assert!(
                secs <= MAX_SECS * (1.0 + 1e-6),
                "{} {} ({:e} s) was accepted",
                flag,
                value,
                secs
            );
            let err = text(&listener.stderr);
            prop_assert_eq!(
                listener.status.code(),
                Some(0),
                "{} {}: {}",
                flag,
                value,
                err
            );
            prop_assert_eq!(
                stopped.status.code(),
                Some(0),
                "{} {}: {}",
                flag,
                value,
                text(&stopped.stderr)
            );
            Ok(())
        }
    });
}

fn emulator_listen(url: &str) -> Command {
    let mut cmd = sfstream();
    cmd.arg("listen")
        .env("SF_LOGIN_URL", url)
        .env("SF_CLIENT_ID", "emulator-client-id")
        .env("SF_CLIENT_SECRET", "emulator-client-secret")
        .env("SF_USERNAME", "user@example.com")
        .env("SF_PASSWORD", "passwordTOKEN");
    cmd
}

#[test]
fn every_long_poll_timeout_value_is_refused_or_serves() {
    emulator_flag("--long-poll-timeout");
}

#[test]
fn every_reconnect_deadline_value_is_refused_or_serves() {
    emulator_flag("--reconnect-deadline");
}

#[test]
fn every_retention_value_is_refused_or_serves() {
    emulator_flag("--retention");
}

#[test]
fn every_publish_every_value_is_refused_or_serves() {
    emulator_flag("--publish-every");
}

#[test]
fn the_issue_examples_are_refused_with_exit_2() {
    for flag in ["--duration", "--give-up-after"] {
        let out = run(
            sfstream().args(["listen", flag, "500000000000y", ORDERS]),
            LIMIT,
        );
        let err = assert_clean_failure(&out, 2);
        assert!(err.contains(flag) && err.contains("100 years"), "{err}");
        assert!(err.contains("leave the flag out"), "{err}");
    }
}
