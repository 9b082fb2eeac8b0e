//! `sfstream publish --api pubsub TOPIC`: one JSON object a line on stdin (or `--json`), one
//! result a line on stdout with the replay id in base64; a line that is not a JSON object is
//! named by its number and nothing else is lost; `listen` then prints the published events.

mod common;

use std::io::Write as _;
use std::process::Stdio;
use std::time::Duration;

use common::pubsub::{PubSubEmu, replay_ids};
use common::{assert_clean_failure, json_lines, run, text, wait_output};

const ORDERS: &str = "/event/Order__e";

#[test]
fn published_from_stdin_then_listened_to() {
    let emu = PubSubEmu::start();
    let mut child = emu
        .command("publish")
        .arg(ORDERS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"OrderNumber__c\":\"A-1\"}\n[1,2]\n\n{\"OrderNumber__c\":\"A-3\",\"Amount__c\":3.5}\n")
        .expect("write stdin");
    let out = wait_output(child, Duration::from_secs(60));
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("line 2: not a JSON object"), "{err}");
    let results = json_lines(&out.stdout);
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0]["line"], 1);
    assert_eq!(results[1]["line"], 2);
    assert!(
        results[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("line 2")),
        "{results:?}"
    );
    assert_eq!(results[2]["line"], 4);
    let published: Vec<String> = [&results[0], &results[2]]
        .iter()
        .map(|r| {
            r["replayId"]
                .as_str()
                .unwrap_or_else(|| panic!("{r}"))
                .to_owned()
        })
        .collect();

    let out = run(
        emu.listen()
            .args(["--replay", "all", "--count", "2", ORDERS]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(replay_ids(&lines), published);
    assert_eq!(lines[0]["payload"]["OrderNumber__c"], "A-1");
    assert_eq!(lines[1]["payload"]["OrderNumber__c"], "A-3");
    assert_eq!(lines[1]["payload"]["Amount__c"], 3.5);
}

#[test]
fn published_from_json_flags() {
    let emu = PubSubEmu::start();
    let out = run(
        emu.command("publish").args([
            "--json",
            "{\"OrderNumber__c\":\"B-1\"}",
            "--json",
            "{\"OrderNumber__c\":\"B-2\"}",
            ORDERS,
        ]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let results = json_lines(&out.stdout);
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results.iter().all(|r| r["replayId"].is_string()),
        "{results:?}"
    );
}
