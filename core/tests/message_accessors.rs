//! The message accessors on every channel kind, with the wire shapes Salesforce documents (the
//! examples of the protocol reference): `payload::<T>()` reads each kind's content, `payload_json`
//! borrows it as written, `created_date` is one typed value whatever the kind writes.
mod common;

use common::*;
use serde::Deserialize;
use serde_json::Value;
use sfstream_core::{Config, EventKind, Message, RequestKind, Timestamp};

/// The one message `event` (its JSON text, byte for byte) delivered on `channel` by a connected
/// session.
fn delivered(config: Config, channel: &str, event: &str) -> Message {
    let mut sc = Scenario::connected(config, &[channel]);
    let poll = sc.next(RequestKind::Connect);
    let body = format!("[{event},{}]", connect_ok());
    sc.reply_raw(&poll, 200, body.into_bytes());
    let mut messages = sc.messages();
    assert_eq!(messages.len(), 1, "{:?}", sc.events);
    messages.remove(0)
}

fn at(millis: i64) -> Option<Timestamp> {
    Timestamp::from_unix_millis(millis)
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Account {
    id: String,
    name: String,
    phone: String,
}

#[test]
fn pushtopic_payload_is_the_sobject() {
    let m = delivered(
        token_config(),
        "/topic/AccountUpdates",
        r#"{"clientId":"lxdl9o32njygi1gj47kgfaga4k","data":{"event":{"createdDate":"2016-09-16T19:45:27.454Z","replayId":1,"type":"created"},"sobject":{"Phone":"(415) 555-1212","Id":"001D000000KneakIAB","Name":"Blackbeard"}},"channel":"/topic/AccountUpdates"}"#,
    );
    assert_eq!(m.kind(), EventKind::PushTopic);
    assert_eq!(
        m.payload::<Account>().unwrap(),
        Account {
            id: "001D000000KneakIAB".into(),
            name: "Blackbeard".into(),
            phone: "(415) 555-1212".into(),
        }
    );
    assert_eq!(
        m.payload_json().unwrap().get(),
        r#"{"Phone":"(415) 555-1212","Id":"001D000000KneakIAB","Name":"Blackbeard"}"#
    );
    assert_eq!(m.created_date(), at(1_474_055_127_454));
    assert_eq!(
        m.created_date().unwrap().to_string(),
        "2016-09-16T19:45:27.454Z"
    );
    assert_eq!(m.pushtopic_event_type(), Some("created"));
}

#[test]
fn generic_payload_is_the_string() {
    let m = delivered(
        token_config(),
        "/u/TestStreaming",
        r#"{"clientId":"a1ps4wpe52qytvcvbsko09tapc","data":{"event":{"createdDate":"2016-03-29T19:05:28.334Z","replayId":55},"payload":"This is a message."},"channel":"/u/TestStreaming"}"#,
    );
    assert_eq!(m.kind(), EventKind::Generic);
    assert_eq!(m.payload::<String>().unwrap(), "This is a message.");
    assert_eq!(m.payload_json().unwrap().get(), r#""This is a message.""#);
    assert_eq!(m.created_date(), at(1_459_278_328_334));
}

#[derive(Debug, Deserialize)]
struct LowInk {
    #[serde(rename = "Printer_Model__c")]
    model: String,
    #[serde(rename = "Ink_Percentage__c")]
    ink: f64,
}

#[test]
fn platform_event_payload_and_its_created_date() {
    let m = delivered(
        token_config(),
        "/event/Low_Ink__e",
        r#"{"data":{"schema":"dffQ2QLzDNHqwB8_sHMxdA","payload":{"CreatedDate":"2023-04-09T18:31:40.517Z","CreatedById":"005D0000001cSZs","Printer_Model__c":"XZO-5","Serial_Number__c":"12345","Ink_Percentage__c":0.2},"event":{"EventUuid":"2ec0e371-1395-457f-9275-be1b527a72f7","replayId":2112}},"channel":"/event/Low_Ink__e"}"#,
    );
    assert_eq!(m.kind(), EventKind::PlatformEvent);
    let ink: LowInk = m.payload().unwrap();
    assert_eq!((ink.model.as_str(), ink.ink), ("XZO-5", 0.2));
    let raw = m.payload_json().unwrap().get();
    assert!(
        raw.starts_with(r#"{"CreatedDate":"2023-04-09T18:31:40.517Z""#),
        "{raw}"
    );
    assert_eq!(m.created_date(), at(1_681_065_100_517));
}

#[test]
fn change_event_payload_and_its_commit_timestamp() {
    let m = delivered(
        token_config(),
        "/data/ChangeEvents",
        r#"{"data":{"schema":"IeRuaY6cbI_HsV8Rv1Mc5g","payload":{"ChangeEventHeader":{"entityName":"Account","recordIds":["001xx"],"changeType":"CREATE","changeOrigin":"com.salesforce.core","transactionKey":"001b7375-0086-250e-e6ca-b99bc3a8b69f","sequenceNumber":1,"isTransactionEnd":true,"commitTimestamp":1501010206653,"commitNumber":92847272780,"commitUser":"005xx"},"Name":"Acme","CreatedDate":"2017-07-25T19:16:44Z"},"event":{"replayId":6421}},"channel":"/data/ChangeEvents"}"#,
    );
    assert_eq!(m.kind(), EventKind::ChangeDataCapture);
    // The commit time, not the record's CreatedDate: when the change happened.
    assert_eq!(m.created_date(), at(1_501_010_206_653));
    assert_eq!(
        m.created_date().unwrap().to_string(),
        "2017-07-25T19:16:46.653Z"
    );
    #[derive(Deserialize)]
    struct Change {
        #[serde(rename = "Name")]
        name: String,
    }
    assert_eq!(m.payload::<Change>().unwrap().name, "Acme");
    assert!(
        m.payload_json()
            .unwrap()
            .get()
            .starts_with(r#"{"ChangeEventHeader":{"entityName":"Account""#)
    );
    assert_eq!(
        m.change_event_header().unwrap().commit_number,
        Some(92_847_272_780)
    );
}

#[test]
fn plain_bayeux_payload_is_the_data() {
    let m = delivered(
        Config::bayeux("http://127.0.0.1:8000/bayeux"),
        "/chat/room",
        r#"{"channel":"/chat/room","data":{"text":"hi"},"id":"m1"}"#,
    );
    assert_eq!(m.kind(), EventKind::Bayeux);
    assert_eq!(m.payload::<Value>().unwrap()["text"], "hi");
    assert_eq!(m.payload_json().unwrap().get(), r#"{"text":"hi"}"#);
    assert_eq!(m.created_date(), None);
}

#[test]
fn a_missing_or_unreadable_date_is_none_and_a_missing_payload_an_error() {
    let m = delivered(
        token_config(),
        "/topic/T",
        r#"{"channel":"/topic/T","data":{"event":{"createdDate":"yesterday","replayId":3}}}"#,
    );
    assert_eq!(m.created_date(), None);
    assert!(m.payload_json().is_none());
    let e = m.payload::<Value>().unwrap_err();
    assert!(e.to_string().contains("sobject"), "{e}");
}
