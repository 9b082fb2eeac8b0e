//! Event message shapes per channel kind, as clients receive them.

mod common;

use common::{Bayeux, events};
use serde_json::{Value, json};

fn is_timestamp(v: &Value, millis: bool) -> bool {
    let Some(s) = v.as_str() else { return false };
    let len = if millis { 24 } else { 20 };
    s.len() == len && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[4] == b'-'
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn push_topic_events() {
    let emu = common::start().await;
    let ch = "/topic/AccountUpdates";
    let mut b = Bayeux::ready(emu.base_url(), &[(ch, None)]).await;
    let control = emu.control();
    let first = control
        .publish(
            ch,
            json!({"Id": "001D000000KneakIAB", "Name": "Blackbeard"}),
        )
        .expect("publish");
    let second = control
        .publish(
            ch,
            json!({"type": "updated", "sobject": {"Id": "001D000000KneakIAB"}}),
        )
        .expect("publish");
    let got = events(&b.connect().await);
    let cid = b.client_id.clone().expect("client id");
    assert_eq!(keys(&got[0]), ["channel", "clientId", "data"]);
    assert_eq!(got[0]["clientId"], cid.as_str());
    assert_eq!(got[0]["channel"], ch);
    let event = &got[0]["data"]["event"];
    assert_eq!(keys(event), ["createdDate", "replayId", "type"]);
    assert!(is_timestamp(&event["createdDate"], true), "{event}");
    assert_eq!(event["replayId"], first);
    assert_eq!(event["type"], "created");
    assert_eq!(
        got[0]["data"]["sobject"],
        json!({"Id": "001D000000KneakIAB", "Name": "Blackbeard"})
    );
    assert_eq!(got[1]["data"]["event"]["type"], "updated");
    assert_eq!(got[1]["data"]["event"]["replayId"], second);
}

#[tokio::test]
async fn generic_streaming_events_carry_a_string_payload() {
    let emu = common::start().await;
    let ch = "/u/notifications";
    let mut b = Bayeux::ready(emu.base_url(), &[(ch, None)]).await;
    let id = emu
        .control()
        .publish(ch, json!("This is a message."))
        .expect("publish");
    let got = events(&b.connect().await);
    assert_eq!(keys(&got[0]), ["channel", "clientId", "data"]);
    assert_eq!(keys(&got[0]["data"]), ["event", "payload"]);
    assert_eq!(got[0]["data"]["payload"], "This is a message.");
    assert_eq!(keys(&got[0]["data"]["event"]), ["createdDate", "replayId"]);
    assert_eq!(got[0]["data"]["event"]["replayId"], id);
}

#[tokio::test]
async fn platform_events() {
    let emu = common::start().await;
    let ch = "/event/Order__e";
    let mut b = Bayeux::ready(emu.base_url(), &[(ch, None)]).await;
    let id = emu
        .control()
        .publish(
            ch,
            json!({"Serial_Number__c": "12345", "Ink_Percentage__c": 0.2}),
        )
        .expect("publish");
    emu.control().publish_generated(ch, 1).expect("publish");
    let got = events(&b.connect().await);
    // No clientId on Platform Events.
    assert_eq!(keys(&got[0]), ["channel", "data"]);
    let data = &got[0]["data"];
    assert_eq!(keys(data), ["event", "payload", "schema"]);
    assert!(data["schema"].as_str().is_some_and(|s| s.len() == 22));
    assert_eq!(data["payload"]["Serial_Number__c"], "12345");
    assert_eq!(data["payload"]["Ink_Percentage__c"], 0.2);
    assert!(is_timestamp(&data["payload"]["CreatedDate"], true));
    assert!(
        data["payload"]["CreatedById"]
            .as_str()
            .is_some_and(|s| s.starts_with("005"))
    );
    assert_eq!(keys(&data["event"]), ["EventUuid", "replayId"]);
    assert_eq!(data["event"]["replayId"], id);
    let uuid = data["event"]["EventUuid"].as_str().expect("uuid");
    assert_eq!(uuid.len(), 36);
    assert_ne!(got[1]["data"]["event"]["EventUuid"], uuid);
    assert_eq!(got[1]["data"]["schema"], data["schema"]);
}

#[tokio::test]
async fn change_data_capture_events_have_big_commit_numbers() {
    let emu = common::start().await;
    let ch = "/data/AccountChangeEvent";
    let mut b = Bayeux::ready(emu.base_url(), &[(ch, None)]).await;
    let ids = emu.control().publish_generated(ch, 2).expect("publish");
    let given = emu
        .control()
        .publish(ch, json!({"Name": "Acme", "ChangeEventHeader": {"changeType": "UPDATE", "commitNumber": 7}}))
        .expect("publish");
    let got = events(&b.connect().await);
    assert_eq!(keys(&got[0]), ["channel", "data"]);
    let data = &got[0]["data"];
    assert_eq!(keys(data), ["event", "payload", "schema"]);
    assert_eq!(keys(&data["event"]), ["replayId"]);
    assert_eq!(data["event"]["replayId"], ids[0]);
    let header = &data["payload"]["ChangeEventHeader"];
    for field in [
        "entityName",
        "recordIds",
        "changeType",
        "changeOrigin",
        "transactionKey",
        "sequenceNumber",
        "isTransactionEnd",
        "commitTimestamp",
        "commitNumber",
        "commitUser",
        "nulledFields",
        "diffFields",
        "changedFields",
    ] {
        assert!(header.get(field).is_some(), "missing {field}: {header}");
    }
    assert_eq!(header["entityName"], "Account");
    assert_eq!(header["changeType"], "CREATE");
    assert!(
        header["commitTimestamp"]
            .as_u64()
            .is_some_and(|t| t > 1_600_000_000_000)
    );
    // Above 2^53: parsed exactly as an integer, it keeps its last digit.
    assert_eq!(
        header["commitNumber"].as_u64(),
        Some(1_758_153_866_121_183_236)
    );
    assert!(
        got[1]["data"]["payload"]["ChangeEventHeader"]["commitNumber"]
            .as_u64()
            .is_some_and(|n| n < 1 << 53)
    );
    assert!(is_timestamp(&data["payload"]["CreatedDate"], false));
    assert_eq!(got[2]["data"]["event"]["replayId"], given);
    assert_eq!(
        got[2]["data"]["payload"]["ChangeEventHeader"]["changeType"],
        "UPDATE"
    );
    assert_eq!(got[2]["data"]["payload"]["Name"], "Acme");
}

#[tokio::test]
async fn every_subscriber_gets_each_event_and_stats_count_deliveries() {
    let emu = common::start().await;
    let ch = "/event/Order__e";
    let mut a = Bayeux::ready(emu.base_url(), &[(ch, None)]).await;
    let mut b = Bayeux::ready(emu.base_url(), &[(ch, None)]).await;
    let ids = emu.control().publish_generated(ch, 3).expect("publish");
    assert_eq!(common::replay_ids(&a.connect().await), ids);
    assert_eq!(common::replay_ids(&b.connect().await), ids);
    let stats = emu.control().stats();
    for c in [&a, &b] {
        let s = &stats.clients[c.client_id.as_deref().unwrap_or_default()];
        assert_eq!(s.delivered, 3);
        assert_eq!(s.last_replay_ids[ch], ids[2]);
        assert!(s.active);
    }
    assert_eq!(stats.totals.events_published, 3);
}
