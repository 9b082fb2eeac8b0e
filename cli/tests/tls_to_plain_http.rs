//! `https://` to a port that speaks plain HTTP: the message says the server does not speak TLS
//! (not rustls's "received corrupt message of type InvalidContentType"), and the run stops at
//! once with exit 2 instead of retrying a setting that cannot work.

mod common;

use std::time::{Duration, Instant};

use common::{Emu, EmuCli, assert_clean_failure, run};

#[test]
fn an_https_url_on_a_plain_http_port_is_named_and_exits_2() {
    let emu = Emu::start();
    let https = emu.base_url.replacen("http://", "https://", 1);
    let started = Instant::now();
    let out = run(
        emu.listen()
            .env("SF_LOGIN_URL", &https)
            .arg("/event/Order__e"),
        Duration::from_secs(25),
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped before the 30 s startup limit: {:?}",
        started.elapsed()
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("sfstream: error: "), "{err}");
    assert!(last.contains("does not speak TLS"), "{err}");
    assert!(last.contains("http://"), "the fix: {err}");
    assert!(!last.contains("InvalidContentType"), "{err}");
}

#[test]
fn json_status_lines_carry_the_explanation() {
    let emu = Emu::start();
    let https = emu.base_url.replacen("http://", "https://", 1);
    let out = run(
        emu.listen()
            .env("SF_LOGIN_URL", &https)
            .args(["--log-format", "json", "/event/Order__e"]),
        Duration::from_secs(25),
    );
    let err = assert_clean_failure(&out, 2);
    let retry = err
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "retrying")
        .unwrap_or_else(|| panic!("a retry line:\n{err}"));
    assert!(
        retry["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("does not speak TLS"),
        "{retry}"
    );
}
