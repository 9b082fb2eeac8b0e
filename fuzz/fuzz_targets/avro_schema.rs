//! Avro schemas as `GetSchema` returns them: arbitrary text up to the first NUL byte parsed as a
//! schema, the bytes after it decoded as a datum of that schema. Nothing may panic: not the
//! parser (deep nesting, recursive and dangling references, odd attributes), not the decoders
//! over whatever types the schema declares. A datum that decodes is read the same by serde's
//! path (skipping everything), and a decoded value that encodes again decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use sfstream_core::pubsub::avro::Schema;
use sfstream_core::pubsub::cdc;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let Ok(text) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let datum = data.get(split + 1..).unwrap_or_default();
    let schema = match Schema::parse(text) {
        Ok(schema) => schema,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let _ = format!("{schema:?}");
    let _ = schema.name();
    let top = schema.field_names();
    for index in 0..=top.len() {
        let _ = schema.nested_field_names(index);
    }
    let skipped = schema.decode::<IgnoredAny>(datum);
    if let Ok(value) = schema.decode_json(datum) {
        assert!(
            skipped.is_ok(),
            "skipping fails where decoding succeeds: {skipped:?}"
        );
        let mut expanded = value.clone();
        let _ = cdc::expand_field_lists(&schema, &mut expanded);
        if let Ok(again) = schema.encode_json(&value) {
            assert_eq!(
                schema
                    .decode_json(&again)
                    .expect("re-encoded datum decodes"),
                value
            );
        }
    }
});
