//! Platform Event payloads: raw Avro datums (no header, no fingerprint) of the schema `GetSchema`
//! returns, with `CreatedDate` (long, epoch ms) and `CreatedById`, custom fields `["null", T]`.

mod common;

use apache_avro::types::Value;
use common::*;
use serde_json::json;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::{ReplayPreset, SchemaRequest};

const T: &str = "/event/Order__e";

/// Reads one zigzag varint (an Avro long) from the front of `bytes`.
fn avro_long(bytes: &[u8]) -> i64 {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

#[tokio::test]
async fn payloads_are_raw_datums_with_salesforce_system_fields() {
    let (emulator, mut client) =
        start(PubSubEmulator::builder().user_id("005000000000001AAA")).await;
    let control = emulator.control();
    let before = control.now_ms();
    control
        .publish(
            T,
            json!({"OrderNumber__c": "A-1", "Amount__c": 12.5, "Shipped__c": true}),
        )
        .unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 1),
    )
    .await
    .unwrap();
    let event = events(&mut sub, 1).await.remove(0).event.unwrap();
    assert_eq!(event.id.len(), 36, "a UUID identifies the event");
    let info = client
        .get_schema(auth(
            &emulator,
            SchemaRequest {
                schema_id: event.schema_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let json: serde_json::Value = serde_json::from_str(&info.schema_json).unwrap();
    let fields = json["fields"].as_array().unwrap();
    assert_eq!(
        fields[0],
        json!({"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"})
    );
    assert_eq!(
        fields[1],
        json!({"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"})
    );
    for custom in &fields[2..] {
        assert_eq!(custom["type"][0], "null");
        assert_eq!(custom["default"], serde_json::Value::Null);
    }
    // The datum starts with CreatedDate: epoch milliseconds, not seconds.
    let created = avro_long(&event.payload);
    assert!(
        created >= i64::try_from(before).unwrap()
            && created < i64::try_from(before).unwrap() + 60_000,
        "{created}"
    );
    let schema = apache_avro::Schema::parse_str(&info.schema_json).unwrap();
    let mut reader = &event.payload[..];
    let value = apache_avro::from_avro_datum(&schema, &mut reader, None).unwrap();
    assert!(reader.is_empty(), "exactly one datum, nothing after it");
    let Value::Record(fields) = value else {
        panic!("a record")
    };
    let get = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        get("CreatedById"),
        Value::String("005000000000001AAA".into())
    );
    assert_eq!(
        get("OrderNumber__c"),
        Value::Union(1, Box::new(Value::String("A-1".into())))
    );
    assert_eq!(
        get("Amount__c"),
        Value::Union(1, Box::new(Value::Double(12.5)))
    );
    assert_eq!(
        get("Shipped__c"),
        Value::Union(1, Box::new(Value::Boolean(true)))
    );
    assert_eq!(
        get("ShipDate__c"),
        Value::Union(0, Box::new(Value::Null)),
        "unset custom fields are null"
    );
}

#[tokio::test]
async fn control_publishing_refuses_values_that_do_not_fit_the_schema() {
    let (emulator, _client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let err = control
        .publish(T, json!({"Amount__c": "twelve"}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("Amount__c"), "{err}");
    let err = control
        .publish(T, json!({"Nope__c": 1}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Nope__c") && err.contains("OrderNumber__c"),
        "{err}"
    );
}
