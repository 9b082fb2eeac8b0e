//! Avro datums: arbitrary bytes decoded with one of a few fixed schemas (the first byte picks:
//! a platform event, a change event, a recursive record with maps and arrays, a record of every
//! type). Nothing may panic. A datum the JSON decoder accepts is also read by serde's path
//! (skipping everything, and into serde_json's Value where the schema has no bytes, with the
//! same result); a decoded value that encodes again decodes to itself; a change event's field
//! lists expand to names or fail cleanly.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use sfstream_core::pubsub::avro::Schema;
use sfstream_core::pubsub::cdc;

const RECURSIVE: &str = r#"{"type": "record", "name": "Node", "fields": [
    {"name": "value", "type": ["null", "long", "string"]},
    {"name": "children", "type": {"type": "array", "items": "Node"}},
    {"name": "attrs", "type": {"type": "map", "values": ["null", "Node"]}}
]}"#;

const EVERY_TYPE: &str = r#"{"type": "record", "name": "All", "fields": [
    {"name": "n", "type": "null"},
    {"name": "b", "type": "boolean"},
    {"name": "i", "type": "int"},
    {"name": "l", "type": "long"},
    {"name": "f", "type": "float"},
    {"name": "d", "type": "double"},
    {"name": "s", "type": "string"},
    {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}},
    {"name": "nulls", "type": {"type": "array", "items": "null"}},
    {"name": "u", "type": ["null", "int", "double", "string", {"type": "array", "items": "E"}]}
]}"#;

const BYTES: &str = r#"{"type": "record", "name": "Raw", "fields": [
    {"name": "x", "type": "bytes"},
    {"name": "fx", "type": {"type": "fixed", "name": "Fx", "size": 4}},
    {"name": "m", "type": {"type": "map", "values": "bytes"}}
]}"#;

struct Case {
    schema: Schema,
    has_bytes: bool,
}

static SCHEMAS: LazyLock<Vec<Case>> = LazyLock::new(|| {
    [
        (
            include_str!("../../core/tests/data/pubsub/order_event.avsc"),
            false,
        ),
        (
            include_str!("../../core/tests/data/pubsub/account_change_event.avsc"),
            false,
        ),
        (RECURSIVE, false),
        (EVERY_TYPE, false),
        (BYTES, true),
    ]
    .into_iter()
    .map(|(json, has_bytes)| Case {
        schema: Schema::parse(json).expect("a valid schema"),
        has_bytes,
    })
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, datum)) = data.split_first() else {
        return;
    };
    let case = &SCHEMAS[usize::from(selector) % SCHEMAS.len()];
    let schema = &case.schema;
    let skipped = schema.decode::<IgnoredAny>(datum);
    match schema.decode_json(datum) {
        Ok(value) => {
            assert!(
                skipped.is_ok(),
                "skipping fails where decoding succeeds: {skipped:?}"
            );
            if !case.has_bytes {
                let via_serde: serde_json::Value = schema
                    .decode(datum)
                    .expect("serde's path reads what the JSON decoder reads");
                assert_eq!(via_serde, value);
            }
            // A change event's bitmap-encoded field lists, whatever strings they hold, turn into
            // names or an error.
            let mut expanded = value.clone();
            if cdc::expand_field_lists(schema, &mut expanded).is_err() {
                assert_eq!(
                    expanded, value,
                    "a failed expansion leaves the event as it was"
                );
            }
            // NaN decodes to null, which a float field does not take back: only values that
            // encode again are compared.
            if let Ok(again) = schema.encode_json(&value) {
                assert_eq!(
                    schema
                        .decode_json(&again)
                        .expect("re-encoded datum decodes"),
                    value
                );
            }
        }
        Err(error) => {
            let _ = error.to_string();
            let _ = error.path();
        }
    }
});
