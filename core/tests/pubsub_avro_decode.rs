//! Decoding Avro binary datums to JSON, checked against bytes written by hand from the Avro
//! specification (not by this crate's encoder); and every kind of malformed datum is an error
//! that names the problem, never a panic.

use serde_json::{Value, json};
use sfstream_core::pubsub::avro::{DecodeErrorKind, MAX_DEPTH, Schema};

/// Avro's zigzag varint, written out here for the test data.
fn zz(v: i64) -> Vec<u8> {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        if n < 0x80 {
            out.push(n as u8);
            return out;
        }
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
}

fn string(s: &str) -> Vec<u8> {
    let mut out = zz(s.len() as i64);
    out.extend_from_slice(s.as_bytes());
    out
}

fn schema(json: &str) -> Schema {
    Schema::parse(json).unwrap()
}

fn decode(schema_json: &str, datum: &[u8]) -> Value {
    schema(schema_json).decode_json(datum).unwrap()
}

fn kind(schema_json: &str, datum: &[u8]) -> DecodeErrorKind {
    schema(schema_json)
        .decode_json(datum)
        .unwrap_err()
        .kind()
        .clone()
}

#[test]
fn zigzag_varints_from_the_specification() {
    // The table in the Avro specification.
    for (bytes, value) in [
        (&[0x00][..], 0),
        (&[0x01][..], -1),
        (&[0x02][..], 1),
        (&[0x03][..], -2),
        (&[0x04][..], 2),
        (&[0x7f][..], -64),
        (&[0x80, 0x01][..], 64),
    ] {
        assert_eq!(decode(r#""long""#, bytes), json!(value));
        assert_eq!(decode(r#""int""#, bytes), json!(value));
    }
    assert_eq!(zz(64), [0x80, 0x01]);
}

#[test]
fn longs_are_exact_to_64_bits() {
    for v in [
        i64::MAX,
        i64::MIN,
        (1 << 53) + 1,
        -(1 << 53) - 1,
        1_700_000_000_123,
    ] {
        let decoded = decode(r#""long""#, &zz(v));
        assert_eq!(decoded.as_i64(), Some(v), "{v}");
    }
    // i64::MAX takes ten bytes, the last carrying one bit.
    assert_eq!(zz(i64::MIN).len(), 10);
}

#[test]
fn ints_outside_32_bits_are_an_error() {
    assert_eq!(
        decode(r#""int""#, &zz(i64::from(i32::MIN))),
        json!(i32::MIN)
    );
    assert_eq!(
        kind(r#""int""#, &zz(i64::from(i32::MAX) + 1)),
        DecodeErrorKind::IntOutOfRange(i64::from(i32::MAX) + 1)
    );
}

#[test]
fn primitives() {
    assert_eq!(decode(r#""null""#, &[]), Value::Null);
    assert_eq!(decode(r#""boolean""#, &[1]), json!(true));
    assert_eq!(decode(r#""boolean""#, &[0]), json!(false));
    assert_eq!(decode(r#""float""#, &1.5f32.to_le_bytes()), json!(1.5));
    assert_eq!(
        decode(r#""double""#, &(-0.25f64).to_le_bytes()),
        json!(-0.25)
    );
    assert_eq!(decode(r#""string""#, &string("héllo")), json!("héllo"));
    assert_eq!(
        decode(r#""bytes""#, &[6, 0x00, 0x7f, 0xff][..]),
        json!("\u{0}\u{7f}\u{ff}")
    );
    assert_eq!(
        decode(
            r#"{"type": "fixed", "name": "F", "size": 2}"#,
            &[0x41, 0xe9]
        ),
        json!("Aé")
    );
    // JSON has no NaN: it becomes null.
    assert_eq!(decode(r#""double""#, &f64::NAN.to_le_bytes()), Value::Null);
    // A primitive with attributes, as Salesforce and logical types write them.
    assert_eq!(
        decode(
            r#"{"type": "long", "logicalType": "timestamp-millis"}"#,
            &zz(1_000)
        ),
        json!(1_000)
    );
}

#[test]
fn unions_decode_to_the_plain_value_of_their_branch() {
    let s = r#"["null", "string", "long"]"#;
    assert_eq!(decode(s, &[0]), Value::Null);
    let mut datum = zz(1);
    datum.extend(string("x"));
    assert_eq!(decode(s, &datum), json!("x"));
    let mut datum = zz(2);
    datum.extend(zz(-5));
    assert_eq!(decode(s, &datum), json!(-5));
    assert_eq!(
        kind(s, &zz(3)),
        DecodeErrorKind::UnionIndex {
            index: 3,
            branches: 3
        }
    );
    assert_eq!(
        kind(s, &zz(-1)),
        DecodeErrorKind::UnionIndex {
            index: -1,
            branches: 3
        }
    );
}

#[test]
fn enums_decode_to_their_symbol() {
    let s = r#"{"type": "enum", "name": "ChangeType", "symbols": ["CREATE", "UPDATE", "DELETE"]}"#;
    assert_eq!(decode(s, &zz(1)), json!("UPDATE"));
    assert_eq!(
        kind(s, &zz(3)),
        DecodeErrorKind::EnumIndex {
            index: 3,
            symbols: 3
        }
    );
}

#[test]
fn arrays_and_maps_in_blocks() {
    let array = r#"{"type": "array", "items": "long"}"#;
    // Two blocks: [1, 2] then [3], then the end.
    let mut datum = zz(2);
    datum.extend(zz(1));
    datum.extend(zz(2));
    datum.extend(zz(1));
    datum.extend(zz(3));
    datum.push(0);
    assert_eq!(decode(array, &datum), json!([1, 2, 3]));
    // A negative count is followed by the block's size in bytes.
    let mut datum = zz(-2);
    datum.extend(zz(2));
    datum.extend(zz(7));
    datum.extend(zz(8));
    datum.push(0);
    assert_eq!(decode(array, &datum), json!([7, 8]));
    assert_eq!(decode(array, &[0]), json!([]));

    let map = r#"{"type": "map", "values": ["null", "string"]}"#;
    let mut datum = zz(2);
    datum.extend(string("a"));
    datum.extend(zz(1));
    datum.extend(string("x"));
    datum.extend(string("b"));
    datum.extend(zz(0));
    datum.push(0);
    assert_eq!(decode(map, &datum), json!({"a": "x", "b": null}));
}

#[test]
fn records_nested_and_named_references() {
    let s = r#"{"type": "record", "name": "Outer", "namespace": "com.example", "fields": [
        {"name": "a", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "x", "type": "int"}]}},
        {"name": "b", "type": "Inner"},
        {"name": "c", "type": "com.example.Inner"},
        {"name": "d", "type": ["null", "Inner"]}
    ]}"#;
    let mut datum = zz(1);
    datum.extend(zz(2));
    datum.extend(zz(3));
    datum.extend(zz(1));
    datum.extend(zz(4));
    assert_eq!(
        decode(s, &datum),
        json!({"a": {"x": 1}, "b": {"x": 2}, "c": {"x": 3}, "d": {"x": 4}})
    );
    assert_eq!(schema(s).name(), Some("com.example.Outer"));
}

#[test]
fn a_recursive_schema_decodes_until_its_depth_limit() {
    let s = r#"{"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "long"},
        {"name": "next", "type": ["null", "Node"]}
    ]}"#;
    let list = |n: usize| {
        let mut datum = Vec::new();
        for i in 0..n {
            datum.extend(zz(i as i64));
            datum.extend(zz(if i + 1 < n { 1 } else { 0 }));
        }
        datum
    };
    let three = decode(s, &list(3));
    assert_eq!(
        three,
        json!({"value": 0, "next": {"value": 1, "next": {"value": 2, "next": null}}})
    );
    decode(s, &list(MAX_DEPTH as usize));
    let error = schema(s)
        .decode_json(&list(MAX_DEPTH as usize + 1))
        .unwrap_err();
    assert_eq!(error.kind(), &DecodeErrorKind::TooDeep);
}

#[test]
fn salesforce_namespaces_reset_by_an_empty_namespace() {
    // Salesforce's change events declare `Address` with `"namespace": ""` inside
    // `com.sforce.eventbus`, then refer to it by its bare name.
    let cdc = schema(include_str!("data/pubsub/account_change_event.avsc"));
    assert_eq!(cdc.name(), Some("com.sforce.eventbus.AccountChangeEvent"));
    assert_eq!(cdc.field_names().len(), 40);
    assert_eq!(cdc.nested_field_names(5).unwrap()[1], "City");
    assert_eq!(cdc.nested_field_names(1), None);
}

#[test]
fn a_change_event_decodes_with_its_header() {
    let cdc = schema(include_str!("data/pubsub/account_change_event.avsc"));
    let mut datum = Vec::new();
    datum.extend(string("Account"));
    datum.extend(zz(1));
    datum.extend(string("001xx000003DGb2AAG"));
    datum.push(0);
    datum.extend(zz(1)); // UPDATE
    datum.extend(string("com/salesforce/api/soap/62.0;client=x"));
    datum.extend(string("0002343d-9d90-e395-ed20-cf416ba652ad"));
    datum.extend(zz(1));
    datum.extend(zz(1_700_000_000_000));
    datum.extend(zz(10_231_993_685_631_i64 * 1000 + 7)); // over 2^53
    datum.extend(string("005xx000001SwnYAAS"));
    datum.push(0); // nulledFields
    datum.push(0); // diffFields
    datum.extend(zz(1));
    datum.extend(string("0x2"));
    datum.push(0);
    // Name set, the 38 other fields null.
    datum.extend(zz(1));
    datum.extend(string("Acme"));
    datum.extend(std::iter::repeat_n(0u8, 38));
    let event = cdc.decode_json(&datum).unwrap();
    let header = &event["ChangeEventHeader"];
    assert_eq!(header["changeType"], "UPDATE");
    assert_eq!(header["recordIds"], json!(["001xx000003DGb2AAG"]));
    assert_eq!(
        header["commitNumber"].as_i64(),
        Some(10_231_993_685_631_007)
    );
    assert_eq!(header["changedFields"], json!(["0x2"]));
    assert_eq!(event["Name"], "Acme");
    assert_eq!(event["BillingAddress"], Value::Null);
    assert_eq!(event.as_object().unwrap().len(), 40);
}

#[test]
fn truncated_datums_fail_at_every_cut() {
    let order = schema(include_str!("data/pubsub/order_event.avsc"));
    let mut datum = zz(1_700_000_000_123);
    datum.extend(string("005xx0000012345AAA"));
    datum.extend(zz(1));
    datum.extend(string("ORD-1"));
    datum.extend(zz(1));
    datum.extend(12.5f64.to_le_bytes());
    datum.extend(zz(1));
    datum.push(1);
    datum.extend([0; 4]);
    order.decode_json(&datum).unwrap();
    for cut in 0..datum.len() {
        let error = order.decode_json(&datum[..cut]).unwrap_err();
        assert!(
            matches!(
                error.kind(),
                DecodeErrorKind::Truncated | DecodeErrorKind::LengthPastEnd { .. }
            ),
            "cut at {cut}: {error}"
        );
        assert!(error.offset() <= cut, "cut at {cut}: {error}");
    }
}

#[test]
fn errors_say_where() {
    let order = schema(include_str!("data/pubsub/order_event.avsc"));
    let mut datum = zz(1);
    datum.extend(string("005"));
    datum.extend(zz(1));
    datum.extend([2, 0xff, 0xfe]); // not UTF-8
    let error = order.decode_json(&datum).unwrap_err();
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidUtf8);
    assert_eq!(error.path(), "Order_Number__c");
    assert_eq!(error.offset(), 6);
    let shown = error.to_string();
    assert!(
        shown.contains("at byte 6") && shown.contains("Order_Number__c"),
        "{shown}"
    );

    let array = r#"{"type": "record", "name": "R", "fields": [
        {"name": "ids", "type": {"type": "array", "items": "string"}}]}"#;
    let mut datum = zz(2);
    datum.extend(string("a"));
    datum.extend(zz(9));
    let error = schema(array).decode_json(&datum).unwrap_err();
    assert_eq!(error.path(), "ids[1]");
}

#[test]
fn overlong_varints_are_an_error() {
    // Eleven bytes, or a tenth byte with more than the 64th bit.
    assert_eq!(
        kind(r#""long""#, &[0xff; 11]),
        DecodeErrorKind::VarintOverflow
    );
    let mut ten = vec![0xff; 9];
    ten.push(0x02);
    assert_eq!(kind(r#""long""#, &ten), DecodeErrorKind::VarintOverflow);
    let mut ten = vec![0xfe];
    ten.extend([0xff; 8]);
    ten.push(0x01);
    assert_eq!(zz(i64::MAX), ten);
    assert_eq!(decode(r#""long""#, &ten), json!(i64::MAX));
}

#[test]
fn lengths_are_checked_before_anything_is_allocated() {
    // A string claiming 2^62 bytes, an array claiming 2^62 items: errors, not allocations.
    let error = kind(r#""string""#, &zz(1 << 62));
    assert_eq!(
        error,
        DecodeErrorKind::LengthPastEnd {
            length: 1 << 62,
            remaining: 0
        }
    );
    assert_eq!(
        kind(r#""bytes""#, &zz(-3)),
        DecodeErrorKind::NegativeLength(-3)
    );
    let mut datum = zz(1 << 62);
    datum.extend(zz(1));
    assert!(matches!(
        kind(r#"{"type": "array", "items": "long"}"#, &datum),
        DecodeErrorKind::LengthPastEnd { .. }
    ));
    // A map claiming more entries than bytes left.
    assert!(matches!(
        kind(r#"{"type": "map", "values": "null"}"#, &zz(5)),
        DecodeErrorKind::LengthPastEnd { .. }
    ));
    // The most negative count has no positive counterpart in i64: still an error, no overflow.
    let mut datum = zz(i64::MIN);
    datum.extend(zz(1));
    assert!(
        schema(r#"{"type": "array", "items": "long"}"#)
            .decode_json(&datum)
            .is_err()
    );
}

#[test]
fn items_that_take_no_bytes_have_a_budget() {
    let nulls = r#"{"type": "array", "items": "null"}"#;
    let mut datum = zz(1000);
    datum.push(0);
    assert_eq!(decode(nulls, &datum).as_array().unwrap().len(), 1000);
    let mut datum = zz(1 << 40);
    datum.push(0);
    assert_eq!(kind(nulls, &datum), DecodeErrorKind::TooManyZeroWidthItems);
    // Many small blocks add up.
    let mut datum = Vec::new();
    for _ in 0..100 {
        datum.extend(zz(1000));
    }
    datum.push(0);
    assert_eq!(kind(nulls, &datum), DecodeErrorKind::TooManyZeroWidthItems);
}

#[test]
fn a_block_must_take_the_byte_size_its_header_gives() {
    // Writers may give a block's byte size (a negative count) so that readers can skip it.
    let longs = r#"{"type": "array", "items": "long"}"#;
    let mut datum = zz(-2);
    datum.extend(zz(2));
    datum.extend(zz(5));
    datum.extend(zz(-7));
    datum.push(0);
    assert_eq!(decode(longs, &datum), json!([5, -7]));
    // A size that does not match the items is refused, too small or too large, since skipping
    // would land elsewhere than reading.
    for size in [1, 3] {
        let mut datum = zz(-2);
        datum.extend(zz(size));
        datum.extend(zz(5));
        datum.extend(zz(-7));
        datum.extend([0, 0]);
        assert_eq!(
            kind(longs, &datum),
            DecodeErrorKind::BlockSize {
                declared: size as u64,
                read: 2
            },
            "size {size}"
        );
    }
    // The same for a map, and through serde.
    let map = r#"{"type": "map", "values": "long"}"#;
    let mut datum = zz(-1);
    datum.extend(zz(2));
    datum.extend(string("k"));
    datum.extend(zz(1));
    datum.push(0);
    let mismatch = DecodeErrorKind::BlockSize {
        declared: 2,
        read: 3,
    };
    assert_eq!(kind(map, &datum), mismatch);
    let error = schema(map)
        .decode::<std::collections::BTreeMap<String, i64>>(&datum)
        .unwrap_err();
    assert_eq!(error.kind(), &mismatch, "{error}");
    assert!(
        error
            .to_string()
            .contains("a block of 2 bytes (by its header) whose items take 3"),
        "{error}"
    );
}

#[test]
fn other_malformed_values() {
    assert_eq!(
        kind(r#""boolean""#, &[2]),
        DecodeErrorKind::InvalidBoolean(2)
    );
    assert_eq!(kind(r#""double""#, &[0; 7]), DecodeErrorKind::Truncated);
    assert_eq!(
        kind(r#""long""#, &[1, 2]),
        DecodeErrorKind::TrailingBytes(1)
    );
    let error = schema(r#""long""#).decode_json(&[1, 2, 3]).unwrap_err();
    assert!(
        error.to_string().contains("2 bytes left after the datum"),
        "{error}"
    );
}

#[test]
fn garbage_never_panics() {
    let schemas = [
        include_str!("data/pubsub/order_event.avsc"),
        include_str!("data/pubsub/account_change_event.avsc"),
        r#"{"type": "record", "name": "N", "fields": [{"name": "n", "type": ["null", "N"]},
            {"name": "m", "type": {"type": "map", "values": {"type": "array", "items": "N"}}}]}"#,
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for s in schemas {
        let s = schema(s);
        for len in 0..200 {
            for _ in 0..20 {
                let datum: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                let _ = s.decode_json(&datum);
                let _ = s.decode::<serde::de::IgnoredAny>(&datum);
            }
        }
    }
}
