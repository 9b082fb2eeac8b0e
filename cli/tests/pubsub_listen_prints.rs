//! `sfstream listen --api pubsub` prints each event as a JSON line, in order: the topic, the
//! replay id in base64, the schema id and the decoded payload (change events' field lists as
//! names), and stores the last printed replay id.

mod common;

use std::time::Duration;

use common::pubsub::{PubSubEmu, replay_ids};
use common::{json_lines, run, scratch_dir, text};

const ORDERS: &str = "/event/Order__e";
const ACCOUNTS: &str = "/data/AccountChangeEvent";

#[test]
fn events_print_in_order_decoded_and_stored() {
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, 5);
    let changes = emu.publish(ACCOUNTS, 2);
    let store = scratch_dir("pubsub-prints").join("store.json");
    let out = run(
        emu.listen()
            .args(["--replay", "all", "--count", "7", "--store"])
            .arg(&store)
            .args([ORDERS, ACCOUNTS]),
        Duration::from_secs(60),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 7, "{lines:?}");
    let orders: Vec<_> = lines
        .iter()
        .filter(|l| l["channel"] == ORDERS)
        .cloned()
        .collect();
    assert_eq!(replay_ids(&orders), published, "in order, as base64");
    for line in &orders {
        assert_eq!(line["kind"], "platform_event", "{line}");
        assert!(
            line["schemaId"].as_str().is_some_and(|s| !s.is_empty()),
            "{line}"
        );
        assert!(
            line["payload"]["OrderNumber__c"].is_string(),
            "decoded: {line}"
        );
        assert!(
            line["eventUuid"].as_str().is_some_and(|s| !s.is_empty()),
            "{line}"
        );
    }
    let accounts: Vec<_> = lines
        .iter()
        .filter(|l| l["channel"] == ACCOUNTS)
        .cloned()
        .collect();
    assert_eq!(replay_ids(&accounts), changes);
    for line in &accounts {
        let fields = &line["payload"]["ChangeEventHeader"]["changedFields"];
        assert!(
            fields
                .as_array()
                .is_some_and(|f| f.iter().all(serde_json::Value::is_string)),
            "field names, not a bitmap: {line}"
        );
    }
    assert!(err.contains(&format!("subscribed to {ORDERS}")), "{err}");
    let subscribed = err.lines().filter(|l| l.contains("subscribed")).count();
    assert_eq!(subscribed, 2, "one status line per topic:\n{err}");

    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&store).expect("the store file"))
            .expect("JSON");
    assert_eq!(stored["topics"][ORDERS], published[4].as_str(), "{stored}");
    assert_eq!(stored["topics"][ACCOUNTS], changes[1].as_str(), "{stored}");
}
