//! `sfstream listen` against the emulator: one JSON line per event, the stop conditions, the
//! status output on stderr, and no secret anywhere in the output.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Emu, EmuCli, json_lines, keys, run, text};
use serde_json::json;

const CHANNELS: [&str; 4] = [
    "/topic/AccountUpdates",
    "/event/Order__e",
    "/data/ChangeEvents",
    "/u/notifications",
];

#[test]
fn prints_one_json_line_per_event_of_each_kind() {
    let emu = Emu::start();
    let c = &emu.control;
    let topic = c
        .publish(
            CHANNELS[0],
            json!({"type": "updated", "sobject": {"Id": "001A", "Name": "Acme"}}),
        )
        .expect("publish");
    let event = c
        .publish(CHANNELS[1], json!({"Quantity__c": 3}))
        .expect("publish");
    let change = c
        .publish(CHANNELS[2], json!({"Name": "Acme Corp"}))
        .expect("publish");
    let generic = c
        .publish(CHANNELS[3], json!("the truck left"))
        .expect("publish");

    let out = run(
        emu.listen()
            .args(["--replay", "all", "--count", "4"])
            .args(CHANNELS),
        Duration::from_secs(20),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    let raw = text(&out.stdout);
    for line in raw.lines() {
        assert!(
            line.starts_with(r#"{"channel":"#) && line.contains(r#","replayId":"#),
            "keys in the documented order: {line}"
        );
    }
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 4, "{raw}");
    let got: BTreeSet<_> = keys(&lines).into_iter().collect();
    let want: BTreeSet<_> = [
        (CHANNELS[0].to_owned(), topic),
        (CHANNELS[1].to_owned(), event),
        (CHANNELS[2].to_owned(), change),
        (CHANNELS[3].to_owned(), generic),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    for line in &lines {
        let keys: Vec<&str> = line
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "channel",
                "createdDate",
                "eventType",
                "eventUuid",
                "kind",
                "payload",
                "replayId"
            ]
        );
        assert!(
            line["createdDate"]
                .as_str()
                .is_some_and(|d| d.starts_with("20") && d.ends_with('Z')),
            "an RFC 3339 date: {line}"
        );
        match line["channel"].as_str().expect("channel") {
            "/topic/AccountUpdates" => {
                assert_eq!(line["kind"], "pushtopic");
                assert_eq!(line["eventType"], "updated");
                assert_eq!(line["payload"], json!({"Id": "001A", "Name": "Acme"}));
            }
            "/event/Order__e" => {
                assert_eq!(line["kind"], "platform_event");
                assert_eq!(line["payload"]["Quantity__c"], 3);
                assert!(line["eventUuid"].as_str().is_some_and(|u| u.len() == 36));
                assert!(line["eventType"].is_null());
            }
            "/data/ChangeEvents" => {
                assert_eq!(line["kind"], "change_event");
                assert_eq!(line["payload"]["Name"], "Acme Corp");
                assert!(line["payload"]["ChangeEventHeader"]["changeType"].is_string());
            }
            "/u/notifications" => {
                assert_eq!(line["kind"], "generic");
                assert_eq!(line["payload"], "the truck left");
            }
            other => panic!("unexpected channel {other}"),
        }
    }
    // Human status on stderr.
    assert!(err.contains("sfstream: connected"), "{err}");
    assert!(
        err.contains("sfstream: subscribed /event/Order__e from -2 (all retained events)"),
        "{err}"
    );
    assert!(err.contains("--count reached"), "{err}");
}

#[test]
fn duration_stops_an_idle_listener() {
    let emu = Emu::start();
    let started = Instant::now();
    let out = run(
        emu.listen().args(["--duration", "1s", "/event/Order__e"]),
        Duration::from_secs(20),
    );
    let elapsed = started.elapsed();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    assert!(out.stdout.is_empty());
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    assert!(err.contains("--duration reached"), "{err}");
    assert!(err.contains("disconnected"), "{err}");
}

#[test]
fn events_published_while_listening_arrive() {
    let emu = Emu::start();
    let child = emu
        .listen()
        .args(["--count", "5", "/event/Order__e"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Publish until the listener has subscribed (replay "new" skips earlier events).
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu
        .control
        .stats()
        .clients
        .values()
        .all(|c| !c.active || c.subscriptions.is_empty())
    {
        assert!(Instant::now() < deadline, "the listener never subscribed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ids = emu.publish("/event/Order__e", 5);
    let out = common::wait_output(child, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got: Vec<i64> = keys(&json_lines(&out.stdout))
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(got, ids, "in order, each once");
}

#[test]
fn json_status_lines_and_no_secret_in_any_output() {
    let emu = Emu::start();
    emu.publish("/event/Order__e", 2);
    let out = run(
        emu.listen().args([
            "--log-format",
            "json",
            "-vv",
            "--replay",
            "all",
            "--count",
            "2",
            "/event/Order__e",
        ]),
        Duration::from_secs(20),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    let mut messages = Vec::new();
    for line in err.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["time"].is_string() && v["level"].is_string(), "{line}");
        messages.push(v["message"].as_str().unwrap_or_default().to_owned());
    }
    assert!(messages.iter().any(|m| m == "connected"), "{err}");
    assert!(messages.iter().any(|m| m == "subscribed"), "{err}");
    let all = format!("{}{err}", text(&out.stdout));
    let c = emu.control.credentials();
    for secret in [
        c.client_secret.clone(),
        format!("{}{}", c.password, c.security_token),
    ] {
        assert!(!all.contains(&secret), "a secret was printed:\n{all}");
    }
}
