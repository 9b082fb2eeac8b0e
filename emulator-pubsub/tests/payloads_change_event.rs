//! Change event payloads: a full `ChangeEventHeader`, every other field present and null when
//! unchanged, `changedFields` / `nulledFields` bitmaps in upper-case hex with compound `N-0x…`
//! entries (and a `nulledFields` without a top-level bitmap), `GAP_*` events, and the fan-in to
//! `/data/ChangeEvents`.

mod common;

use apache_avro::types::Value;
use common::*;
use serde_json::json;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::{ConsumerEvent, ReplayPreset, SchemaRequest};

const T: &str = "/data/AccountChangeEvent";

async fn decode(
    client: &mut Client,
    emulator: &PubSubEmulator,
    event: &ConsumerEvent,
) -> (Vec<String>, Vec<(String, Value)>) {
    let e = event.event.as_ref().unwrap();
    let info = client
        .get_schema(auth(
            emulator,
            SchemaRequest {
                schema_id: e.schema_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let json: serde_json::Value = serde_json::from_str(&info.schema_json).unwrap();
    let names = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let schema = apache_avro::Schema::parse_str(&info.schema_json).unwrap();
    let Value::Record(fields) =
        apache_avro::from_avro_datum(&schema, &mut &e.payload[..], None).unwrap()
    else {
        panic!("a record")
    };
    (names, fields)
}

fn header(fields: &[(String, Value)]) -> Vec<(String, Value)> {
    match &fields[0] {
        (name, Value::Record(h)) if name == "ChangeEventHeader" => h.clone(),
        other => panic!("field 0 is the header, not {other:?}"),
    }
}

fn strings(header: &[(String, Value)], name: &str) -> Vec<String> {
    match header.iter().find(|(k, _)| k == name).map(|(_, v)| v) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("{name}: {other:?}"),
    }
}

fn value<'a>(header: &'a [(String, Value)], name: &str) -> &'a Value {
    &header.iter().find(|(k, _)| k == name).unwrap().1
}

#[tokio::test]
async fn updates_carry_bitmaps_with_compound_entries() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    emulator
        .control()
        .publish(
            T,
            json!({
                "ChangeEventHeader": {"changeType": "UPDATE"},
                "Name": "Acme",
                "Phone": null,
                "BillingAddress": {"City": "Paris", "Street": null},
            }),
        )
        .unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 1),
    )
    .await
    .unwrap();
    let event = events(&mut sub, 1).await.remove(0);
    let (names, fields) = decode(&mut client, &emulator, &event).await;
    let h = header(&fields);
    assert_eq!(value(&h, "entityName"), &Value::String("Account".into()));
    assert!(matches!(value(&h, "changeType"), Value::Enum(_, s) if s == "UPDATE"));
    let ids = strings(&h, "recordIds");
    assert!(
        ids.len() == 1 && ids[0].starts_with("001") && ids[0].len() == 18,
        "{ids:?}"
    );
    assert!(matches!(value(&h, "commitNumber"), Value::Long(_)));
    assert!(matches!(value(&h, "commitTimestamp"), Value::Long(ms) if *ms > 1_600_000_000_000));
    let index = |n: &str| names.iter().position(|x| x == n).unwrap();
    let (name, phone, billing) = (index("Name"), index("Phone"), index("BillingAddress"));
    let top = format!("0x{:X}", (1u64 << name) | (1u64 << phone));
    // Address fields: Street = 0, City = 1.
    assert_eq!(
        strings(&h, "changedFields"),
        vec![top, format!("{billing}-0x3")]
    );
    assert_eq!(
        strings(&h, "nulledFields"),
        vec![format!("0x{:X}", 1u64 << phone), format!("{billing}-0x1")]
    );
    assert!(strings(&h, "diffFields").is_empty());
    // Every field is present; the unchanged ones are null.
    assert_eq!(fields.len(), names.len());
    let field = |n: &str| &fields[index(n)].1;
    assert_eq!(field("Type"), &Value::Union(0, Box::new(Value::Null)));
    assert_eq!(
        field("ShippingAddress"),
        &Value::Union(0, Box::new(Value::Null))
    );
    assert_eq!(
        field("Name"),
        &Value::Union(1, Box::new(Value::String("Acme".into())))
    );
    let Value::Union(1, address) = field("BillingAddress") else {
        panic!("an address")
    };
    let Value::Record(parts) = address.as_ref() else {
        panic!("a record")
    };
    assert_eq!(
        parts[1],
        (
            "City".to_owned(),
            Value::Union(1, Box::new(Value::String("Paris".into())))
        )
    );
}

#[tokio::test]
async fn nulled_compound_parts_alone_have_no_top_level_bitmap() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    emulator
        .control()
        .publish(
            "/data/ContactChangeEvent",
            json!({"ChangeEventHeader": {"changeType": "UPDATE"}, "Name": {"Salutation": null}}),
        )
        .unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch("/data/ContactChangeEvent", ReplayPreset::Earliest, None, 1),
    )
    .await
    .unwrap();
    let event = events(&mut sub, 1).await.remove(0);
    let (names, fields) = decode(&mut client, &emulator, &event).await;
    let h = header(&fields);
    let name = names.iter().position(|x| x == "Name").unwrap();
    assert_eq!(strings(&h, "nulledFields"), vec![format!("{name}-0x1")]);
    assert_eq!(strings(&h, "changedFields"), vec![format!("{name}-0x1")]);
}

#[tokio::test]
async fn bitmaps_are_upper_case_hex() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    // Account fields 9 (OwnerId) and 11 (CreatedById) make the hex digit A.
    emulator
        .control()
        .publish(T, json!({"ChangeEventHeader": {"changeType": "UPDATE"}, "OwnerId": "005x", "CreatedById": "005y"}))
        .unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 1),
    )
    .await
    .unwrap();
    let event = events(&mut sub, 1).await.remove(0);
    let (_, fields) = decode(&mut client, &emulator, &event).await;
    let changed = strings(&header(&fields), "changedFields");
    assert_eq!(changed, vec!["0xA00".to_owned()]);
}

#[tokio::test]
async fn gap_events_have_a_header_and_no_values() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    control
        .publish(
            T,
            json!({"ChangeEventHeader": {"changeType": "GAP_UPDATE"}}),
        )
        .unwrap();
    control
        .publish(
            T,
            json!({"ChangeEventHeader": {"changeType": "GAP_OVERFLOW"}}),
        )
        .unwrap();
    assert!(
        control
            .publish(
                T,
                json!({"ChangeEventHeader": {"changeType": "GAP_CREATE"}, "Name": "x"})
            )
            .is_err()
    );
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 2),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 2).await;
    let (_, gap) = decode(&mut client, &emulator, &got[0]).await;
    assert!(matches!(value(&header(&gap), "changeType"), Value::Enum(_, s) if s == "GAP_UPDATE"));
    assert!(
        gap[1..]
            .iter()
            .all(|(_, v)| v == &Value::Union(0, Box::new(Value::Null)))
    );
    let (_, overflow) = decode(&mut client, &emulator, &got[1]).await;
    assert_eq!(
        strings(&header(&overflow), "recordIds"),
        vec!["001*".to_owned()]
    );
}

#[tokio::test]
async fn change_events_also_reach_the_all_change_events_topic() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    control.publish(T, json!({"Name": "A"})).unwrap();
    control
        .publish("/data/ContactChangeEvent", json!({"Email": "a@b.c"}))
        .unwrap();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch("/data/ChangeEvents", ReplayPreset::Earliest, None, 2),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 2).await;
    let (_, account) = decode(&mut client, &emulator, &got[0]).await;
    let (_, contact) = decode(&mut client, &emulator, &got[1]).await;
    assert_eq!(
        value(&header(&account), "entityName"),
        &Value::String("Account".into())
    );
    assert_eq!(
        value(&header(&contact), "entityName"),
        &Value::String("Contact".into())
    );
    assert!(matches!(value(&header(&account), "changeType"), Value::Enum(_, s) if s == "CREATE"));
    assert_ne!(
        got[0].event.as_ref().unwrap().schema_id,
        got[1].event.as_ref().unwrap().schema_id
    );
}
