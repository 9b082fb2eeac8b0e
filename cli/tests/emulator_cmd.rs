//! `sfstream emulator` prints settings that work: a listener configured from its `export` lines
//! receives the events it publishes; SIGTERM stops it with 0.

mod common;

use std::io::BufReader;
use std::process::Stdio;
use std::time::Duration;

use common::{emulator_settings as settings, json_lines, run, sfstream, signal, text, wait_status};

#[test]
fn the_printed_settings_reach_the_emulator() {
    let mut emulator = sfstream()
        .args(["emulator", "--port", "0", "--pubsub-port", "0"])
        .args(["--long-poll-timeout", "500ms"])
        .args([
            "--publish-every",
            "50ms",
            "--publish-channel",
            "/event/Demo__e",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(emulator.stdout.take().expect("stdout"));
    let printed = settings(&mut out);
    let exports: Vec<(String, String)> = printed
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("NAME=value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert!(
        printed.contains("fake"),
        "says the credentials are fake:\n{printed}"
    );
    assert!(
        printed.contains("sfstream listen /event/Demo__e"),
        "{printed}"
    );
    let names: Vec<&str> = exports.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "SF_LOGIN_URL",
            "SF_CLIENT_ID",
            "SF_CLIENT_SECRET",
            "SF_USERNAME",
            "SF_PASSWORD"
        ]
    );

    let listened = run(
        sfstream()
            .envs(exports)
            .args(["listen", "--count", "3", "/event/Demo__e"]),
        Duration::from_secs(20),
    );
    assert_eq!(
        listened.status.code(),
        Some(0),
        "{}",
        text(&listened.stderr)
    );
    let lines = json_lines(&listened.stdout);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["kind"] == "platform_event"));

    signal(&emulator, "TERM");
    drop(out);
    let status = wait_status(&mut emulator, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_busy_port_is_one_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let out = run(
        sfstream().args(["emulator", "--port", &port]),
        Duration::from_secs(10),
    );
    let err = common::assert_clean_failure(&out, 1);
    assert!(err.contains(&port) && err.contains("--port 0"), "{err}");
}

#[test]
fn a_public_url_is_what_the_settings_name() {
    let mut emulator = sfstream()
        .args([
            "emulator",
            "--port",
            "0",
            "--pubsub-port",
            "0",
            "--public-url",
            "http://emulator.test:9999/",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(emulator.stdout.take().expect("stdout"));
    let printed = settings(&mut out);
    assert!(
        printed.starts_with("sfstream emulator listening on http://emulator.test:9999\n"),
        "{printed}"
    );
    assert!(
        printed.contains("export SF_LOGIN_URL=http://emulator.test:9999\n"),
        "{printed}"
    );
    // Where it really listens: both loopback addresses, on the port it picked.
    assert!(
        printed.contains("  addresses             127.0.0.1:"),
        "{printed}"
    );
    signal(&emulator, "TERM");
    drop(out);
    assert_eq!(
        wait_status(&mut emulator, Duration::from_secs(10)).code(),
        Some(0)
    );

    let out = run(
        sfstream().args([
            "emulator",
            "--port",
            "0",
            "--no-pubsub",
            "--public-url",
            "ftp://emulator",
        ]),
        Duration::from_secs(10),
    );
    let err = common::assert_clean_failure(&out, 2);
    assert!(
        err.contains("--public-url") && err.contains("http://"),
        "{err}"
    );
}
