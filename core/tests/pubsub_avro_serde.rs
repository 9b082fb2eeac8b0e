//! Decoding Avro datums straight into the application's serde types: structs by field name,
//! `["null", T]` unions as `Option`, enums as strings or unit variants, borrowed strings and
//! bytes, maps and arrays; fields the type does not name are skipped; mismatches are errors
//! that say where.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use sfstream_core::pubsub::avro::{DecodeErrorKind, Schema};

fn order_schema() -> Schema {
    Schema::parse(include_str!("data/pubsub/order_event.avsc")).unwrap()
}

fn cdc_schema() -> Schema {
    Schema::parse(include_str!("data/pubsub/account_change_event.avsc")).unwrap()
}

fn order_json() -> serde_json::Value {
    json!({
        "CreatedDate": 1_700_000_000_123_i64,
        "CreatedById": "005xx0000012345AAA",
        "Order_Number__c": "ORD-42",
        "Amount__c": 99.5,
        "Has_Shipped__c": true,
        "Notes__c": null
    })
}

#[derive(Debug, Deserialize, PartialEq)]
struct Order<'a> {
    #[serde(rename = "CreatedDate")]
    created_date: i64,
    #[serde(rename = "CreatedById")]
    created_by_id: &'a str,
    #[serde(rename = "Order_Number__c")]
    order_number: Option<Cow<'a, str>>,
    #[serde(rename = "Amount__c")]
    amount: Option<f64>,
    #[serde(rename = "Has_Shipped__c")]
    has_shipped: Option<bool>,
    #[serde(rename = "Ship_Date__c")]
    ship_date: Option<i64>,
}

#[test]
fn a_platform_event_into_a_struct_borrowing_its_strings() {
    let schema = order_schema();
    let payload = schema.encode_json(&order_json()).unwrap();
    let order: Order<'_> = schema.decode(&payload).unwrap();
    assert_eq!(
        order,
        Order {
            created_date: 1_700_000_000_123,
            created_by_id: "005xx0000012345AAA",
            order_number: Some(Cow::Borrowed("ORD-42")),
            amount: Some(99.5),
            has_shipped: Some(true),
            ship_date: None,
        }
    );
    // The borrowed string points into the payload.
    let range = payload.as_ptr_range();
    assert!(range.contains(&order.created_by_id.as_ptr()));
}

#[test]
fn the_same_event_into_json_through_serde() {
    // serde_json's own Value, built by the serde path, equals the direct JSON decoder's output.
    let schema = order_schema();
    let payload = schema.encode_json(&order_json()).unwrap();
    let via_serde: serde_json::Value = schema.decode(&payload).unwrap();
    assert_eq!(via_serde, schema.decode_json(&payload).unwrap());
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum ChangeType {
    Create,
    Update,
    Delete,
    Undelete,
    GapCreate,
    GapUpdate,
    GapDelete,
    GapUndelete,
    GapOverflow,
    Snapshot,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header<'a> {
    entity_name: &'a str,
    record_ids: Vec<&'a str>,
    change_type: ChangeType,
    sequence_number: i32,
    commit_number: i64,
    changed_fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Address {
    #[serde(rename = "City")]
    city: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountChange<'a> {
    #[serde(borrow)]
    change_event_header: Header<'a>,
    name: Option<&'a str>,
    billing_address: Option<Address>,
    number_of_employees: Option<i64>,
}

fn account_change() -> serde_json::Value {
    let mut event = serde_json::Map::new();
    for name in cdc_schema().field_names() {
        event.insert(name.to_owned(), serde_json::Value::Null);
    }
    event.insert(
        "ChangeEventHeader".into(),
        json!({
            "entityName": "Account",
            "recordIds": ["001xx000003DGb2AAG", "001xx000003DGb3AAG"],
            "changeType": "GAP_UPDATE",
            "changeOrigin": "",
            "transactionKey": "0002343d",
            "sequenceNumber": 3,
            "commitTimestamp": 1_700_000_000_000_i64,
            "commitNumber": 9_007_199_254_740_993_i64,
            "commitUser": "005xx",
            "nulledFields": [],
            "diffFields": [],
            "changedFields": ["0x12", "4-0x2"]
        }),
    );
    event.insert("Name".into(), json!("Acme"));
    event.insert(
        "BillingAddress".into(),
        json!({"City": "Paris", "Street": null}),
    );
    event.insert("NumberOfEmployees".into(), json!(250));
    event.insert("Description".into(), json!("skipped, with a long text"));
    serde_json::Value::Object(event)
}

#[test]
fn a_change_event_into_a_struct_that_names_a_few_fields() {
    let schema = cdc_schema();
    let payload = schema.encode_json(&account_change()).unwrap();
    let event: AccountChange<'_> = schema.decode(&payload).unwrap();
    let h = &event.change_event_header;
    assert_eq!(h.entity_name, "Account");
    assert_eq!(h.record_ids, ["001xx000003DGb2AAG", "001xx000003DGb3AAG"]);
    assert_eq!(h.change_type, ChangeType::GapUpdate);
    assert_eq!(h.sequence_number, 3);
    assert_eq!(h.commit_number, 9_007_199_254_740_993);
    assert_eq!(h.changed_fields, ["0x12", "4-0x2"]);
    assert_eq!(event.name, Some("Acme"));
    assert_eq!(
        event.billing_address.unwrap().city.as_deref(),
        Some("Paris")
    );
    // An Avro int into an i64 field.
    assert_eq!(event.number_of_employees, Some(250));
}

#[test]
fn enum_symbols_into_strings_too() {
    #[derive(Deserialize)]
    struct Header {
        #[serde(rename = "changeType")]
        change_type: String,
    }
    #[derive(Deserialize)]
    struct Event {
        #[serde(rename = "ChangeEventHeader")]
        header: Header,
    }
    let schema = cdc_schema();
    let payload = schema.encode_json(&account_change()).unwrap();
    let event: Event = schema.decode(&payload).unwrap();
    assert_eq!(event.header.change_type, "GAP_UPDATE");
}

#[test]
fn skipped_fields_are_read_past_including_sized_blocks() {
    // The writer gave block sizes (negative counts): skipping jumps over them.
    let schema = Schema::parse(
        r#"{"type": "record", "name": "R", "fields": [
            {"name": "skip_array", "type": {"type": "array", "items": "string"}},
            {"name": "skip_map", "type": {"type": "map", "values": "long"}},
            {"name": "skip_record", "type": {"type": "record", "name": "S", "fields": [
                {"name": "f", "type": "float"}, {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
                {"name": "x", "type": {"type": "fixed", "name": "X", "size": 3}},
                {"name": "b", "type": "bytes"}, {"name": "t", "type": "boolean"}, {"name": "d", "type": "double"}]}},
            {"name": "keep", "type": "string"}
        ]}"#,
    )
    .unwrap();
    // Array: a block of one item with its size (count -1 = 0x01, size 2 = 0x04, "a"), then a
    // plain block of one ("b"), then the end.
    let mut datum = Vec::new();
    datum.extend([0x01, 0x04, 0x02, b'a']);
    // A plain block of one: "b".
    datum.extend([0x02, 0x02, b'b']);
    datum.push(0x00);
    // Map with a sized block: count -1, size 3, key "k", value 5.
    datum.extend([0x01, 0x06, 0x02, b'k', 0x0a, 0x00]);
    // Record S.
    datum.extend(1.0f32.to_le_bytes());
    datum.push(0x00);
    datum.extend(*b"xyz");
    datum.extend([0x02, 0xff]);
    datum.push(1);
    datum.extend(2.0f64.to_le_bytes());
    // keep = "ok"
    datum.extend([0x04, b'o', b'k']);

    #[derive(Deserialize)]
    struct Keep<'a> {
        keep: &'a str,
    }
    let keep: Keep<'_> = schema.decode(&datum).unwrap();
    assert_eq!(keep.keep, "ok");
    // The JSON decoder reads everything and agrees.
    let full = schema.decode_json(&datum).unwrap();
    assert_eq!(full["skip_array"], json!(["a", "b"]));
    assert_eq!(full["skip_map"], json!({"k": 5}));
    assert_eq!(full["skip_record"]["x"], "xyz");
    assert_eq!(full["keep"], "ok");
    // And a value can be ignored whole.
    schema.decode::<serde::de::IgnoredAny>(&datum).unwrap();
}

#[test]
fn maps_bytes_and_tuples_of_arrays() {
    let schema = Schema::parse(
        r#"{"type": "record", "name": "R", "fields": [
            {"name": "m", "type": {"type": "map", "values": "int"}},
            {"name": "raw", "type": "bytes"},
            {"name": "list", "type": {"type": "array", "items": ["null", "double"]}}
        ]}"#,
    )
    .unwrap();
    let payload = schema
        .encode_json(&json!({"m": {"a": 1, "b": -2}, "raw": "\u{1}\u{ff}", "list": [1.5, null]}))
        .unwrap();
    #[derive(Deserialize)]
    struct R<'a> {
        m: HashMap<&'a str, i32>,
        #[serde(borrow)]
        raw: &'a [u8],
        list: Vec<Option<f64>>,
    }
    let r: R<'_> = schema.decode(&payload).unwrap();
    assert_eq!(r.m, HashMap::from([("a", 1), ("b", -2)]));
    assert_eq!(r.raw, &[1, 0xff]);
    assert_eq!(r.list, [Some(1.5), None]);
}

#[test]
fn a_value_that_does_not_fit_the_type_says_where() {
    let schema = order_schema();
    let payload = schema.encode_json(&order_json()).unwrap();
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the error matters")]
    struct Wrong {
        #[serde(rename = "CreatedById")]
        created_by_id: i64,
    }
    let error = schema.decode::<Wrong>(&payload).unwrap_err();
    assert!(matches!(error.kind(), DecodeErrorKind::Custom(_)));
    assert_eq!(error.path(), "CreatedById");
    assert!(error.offset() > 0, "{error}");
    assert!(
        error.to_string().contains("invalid type: string"),
        "{error}"
    );

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the error matters")]
    struct Missing {
        #[serde(rename = "NoSuchField")]
        x: i64,
    }
    let error = schema.decode::<Missing>(&payload).unwrap_err();
    assert!(
        error.to_string().contains("missing field `NoSuchField`"),
        "{error}"
    );

    // A null into a non-optional field.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the error matters")]
    struct NotOptional {
        #[serde(rename = "Ship_Date__c")]
        ship_date: i64,
    }
    let error = schema.decode::<NotOptional>(&payload).unwrap_err();
    assert_eq!(error.path(), "Ship_Date__c");
}

#[test]
fn malformed_bytes_fail_the_same_way_through_serde() {
    let schema = order_schema();
    let payload = schema.encode_json(&order_json()).unwrap();
    for cut in 0..payload.len() {
        let error = schema.decode::<Order<'_>>(&payload[..cut]).unwrap_err();
        assert!(
            matches!(
                error.kind(),
                DecodeErrorKind::Truncated | DecodeErrorKind::LengthPastEnd { .. }
            ),
            "cut at {cut}: {error}"
        );
    }
    let mut longer = payload.clone();
    longer.push(0);
    assert_eq!(
        schema.decode::<Order<'_>>(&longer).unwrap_err().kind(),
        &DecodeErrorKind::TrailingBytes(1)
    );
}

#[test]
fn a_type_that_stops_early_never_shifts_the_next_value() {
    let schema = Schema::parse(
        r#"{"type": "record", "name": "R", "fields": [
            {"name": "list", "type": {"type": "array", "items": "long"}},
            {"name": "inner", "type": {"type": "record", "name": "I", "fields": [
                {"name": "a", "type": "long"}, {"name": "b", "type": "string"}]}},
            {"name": "tags", "type": {"type": "map", "values": "long"}},
            {"name": "after", "type": "string"}
        ]}"#,
    )
    .unwrap();
    let payload = schema
        .encode_json(&json!({"list": [1, 2, 3], "inner": {"a": 7, "b": "bee"},
                             "tags": {"x": 1, "y": 2}, "after": "tail"}))
        .unwrap();

    // A tuple shorter than the array does not fit, as with serde_json.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the error matters")]
    struct Pair {
        list: (i64, i64),
    }
    let error = schema.decode::<Pair>(&payload).unwrap_err();
    assert_eq!(error.path(), "list", "{error}");
    assert!(
        error
            .to_string()
            .contains("more items than the Rust type takes (2 read)"),
        "{error}"
    );
    // A tuple of the right length fits.
    #[derive(Debug, Deserialize)]
    struct Triple {
        list: (i64, i64, i64),
        after: String,
    }
    let triple: Triple = schema.decode(&payload).unwrap();
    assert_eq!((triple.list, triple.after.as_str()), ((1, 2, 3), "tail"));

    // A hand-written visitor that takes only the first field of a record and the first entry of
    // a map: what it leaves is skipped (record) or refused (map), never read as the next field.
    struct FirstOnly;
    impl<'de> serde::de::Visitor<'de> for FirstOnly {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a record or map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<i64, A::Error> {
            let (_, value): (String, i64) = map.next_entry()?.expect("one entry");
            Ok(value)
        }
    }
    #[derive(Debug)]
    struct First(i64);
    impl<'de> Deserialize<'de> for First {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(FirstOnly).map(First)
        }
    }
    #[derive(Debug, Deserialize)]
    struct Partial {
        inner: First,
        after: String,
    }
    let partial: Partial = schema.decode(&payload).unwrap();
    assert_eq!(partial.inner.0, 7);
    assert_eq!(partial.after, "tail", "the skipped field `b` was read past");

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the error matters")]
    struct OneTag {
        tags: First,
    }
    let error = schema.decode::<OneTag>(&payload).unwrap_err();
    assert_eq!(error.path(), "tags", "{error}");
    assert!(
        error
            .to_string()
            .contains("more entries than the Rust type takes (1 read)"),
        "{error}"
    );
}
