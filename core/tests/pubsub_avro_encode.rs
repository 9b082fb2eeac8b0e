//! Encoding JSON and serde values as Avro datums for publishing: the bytes match the
//! specification, unions take the branch the value fits, missing fields take their default (or
//! fail when required), and every misfit is an error naming the field.

use serde::Serialize;
use serde_json::{Value, json};
use sfstream_core::pubsub::avro::Schema;

fn schema(json: &str) -> Schema {
    Schema::parse(json).unwrap()
}

fn order_schema() -> Schema {
    schema(include_str!("data/pubsub/order_event.avsc"))
}

fn encode_error(schema_json: &str, value: Value) -> String {
    schema(schema_json)
        .encode_json(&value)
        .unwrap_err()
        .to_string()
}

#[test]
fn bytes_follow_the_specification() {
    assert_eq!(
        schema(r#""long""#).encode_json(&json!(64)).unwrap(),
        [0x80, 0x01]
    );
    assert_eq!(schema(r#""long""#).encode_json(&json!(-1)).unwrap(), [0x01]);
    assert_eq!(
        schema(r#""string""#).encode_json(&json!("foo")).unwrap(),
        [6, b'f', b'o', b'o']
    );
    assert_eq!(
        schema(r#""boolean""#).encode_json(&json!(true)).unwrap(),
        [1]
    );
    assert_eq!(
        schema(r#""float""#).encode_json(&json!(1.5)).unwrap(),
        1.5f32.to_le_bytes()
    );
    assert_eq!(
        schema(r#""double""#).encode_json(&json!(0.1)).unwrap(),
        0.1f64.to_le_bytes()
    );
    assert_eq!(
        schema(r#""bytes""#)
            .encode_json(&json!("\u{0}\u{ff}"))
            .unwrap(),
        [4, 0, 0xff]
    );
    // Arrays in one block, then the end; an empty array is just the end.
    assert_eq!(
        schema(r#"{"type": "array", "items": "int"}"#)
            .encode_json(&json!([1, 2]))
            .unwrap(),
        [4, 2, 4, 0]
    );
    assert_eq!(
        schema(r#"{"type": "array", "items": "int"}"#)
            .encode_json(&json!([]))
            .unwrap(),
        [0]
    );
    assert_eq!(
        schema(r#"{"type": "enum", "name": "E", "symbols": ["A", "B"]}"#)
            .encode_json(&json!("B"))
            .unwrap(),
        [2]
    );
}

#[test]
fn a_platform_event_with_defaults() {
    let schema = order_schema();
    let payload = schema
        .encode_json(
            &json!({"CreatedDate": 1_700_000_000_000_i64, "CreatedById": "005xx", "Amount__c": 10}),
        )
        .unwrap();
    let decoded = schema.decode_json(&payload).unwrap();
    assert_eq!(decoded["CreatedDate"], 1_700_000_000_000_i64);
    // An integer given for a ["null", "double"] field is written as a double.
    assert_eq!(decoded["Amount__c"], json!(10.0));
    assert_eq!(decoded["Order_Number__c"], Value::Null);
}

#[test]
fn missing_required_fields_are_named() {
    let error = order_schema()
        .encode_json(&json!({"CreatedDate": 1}))
        .unwrap_err();
    assert_eq!(error.path(), "CreatedById");
    let shown = error.to_string();
    assert!(
        shown.contains("the required field CreatedById (string) of record com.sforce.eventbus.Order_Event__e is missing"),
        "{shown}"
    );
}

#[test]
fn a_misspelt_field_is_an_error_not_a_silent_drop() {
    let error = order_schema()
        .encode_json(&json!({"CreatedDate": 1, "CreatedById": "005", "Amount_c": 3.0}))
        .unwrap_err()
        .to_string();
    assert!(error.contains("has no field Amount_c"), "{error}");
    assert!(error.contains("Amount__c"), "lists the fields: {error}");
}

#[test]
fn unions_take_the_branch_the_value_fits() {
    let s = schema(r#"["null", "long", "double", "string", {"type": "array", "items": "long"}]"#);
    let branch = |v: Value| s.encode_json(&v).unwrap()[0];
    assert_eq!(branch(Value::Null), 0);
    assert_eq!(branch(json!(5)), 2, "an integer is a long"); // zigzag of 1
    assert_eq!(branch(json!(5.5)), 4, "a fraction is a double"); // zigzag of 2
    assert_eq!(branch(json!("x")), 6);
    assert_eq!(branch(json!([1])), 8);
    // An exact match beats an earlier branch it could be converted to.
    let s = schema(r#"["double", "long"]"#);
    assert_eq!(s.encode_json(&json!(7)).unwrap()[0], 2, "long, not double");
    // Without an exact match, a conversion is fine.
    let s = schema(r#"["null", "long"]"#);
    let bytes = s.encode_json(&json!(2.0)).unwrap();
    assert_eq!(s.decode_json(&bytes).unwrap(), json!(2));
    // Records: the first whose fields the object fits.
    let s = schema(
        r#"["null",
            {"type": "record", "name": "A", "fields": [{"name": "a", "type": "long"}]},
            {"type": "record", "name": "B", "fields": [{"name": "b", "type": "string"}]}]"#,
    );
    assert_eq!(s.encode_json(&json!({"b": "x"})).unwrap()[0], 4);
    assert_eq!(s.encode_json(&json!({"a": 1})).unwrap()[0], 2);
}

#[test]
fn a_branch_can_be_named_as_in_avro_json() {
    // `["long", "double"]`: a plain 1 is a long; `{"double": 1}` asks for the double.
    let s = schema(r#"["null", "long", "double"]"#);
    let bytes = s.encode_json(&json!({"double": 1})).unwrap();
    assert_eq!(bytes[0], 4, "branch 2");
    assert_eq!(&bytes[1..], 1.0f64.to_le_bytes());
    assert_eq!(s.encode_json(&json!({"long": 1})).unwrap(), [2, 2]);
    assert_eq!(s.encode_json(&json!({"null": null})).unwrap(), [0]);
    // Salesforce's switchable person name: `["string", Name]`, the record by full or short name.
    let s = schema(
        r#"["null", "string", {"type": "record", "name": "Name", "namespace": "com.sforce.eventbus",
            "fields": [{"name": "FirstName", "type": ["null", "string"]}, {"name": "LastName", "type": "string"}]}]"#,
    );
    let plain = s
        .encode_json(&json!({"FirstName": null, "LastName": "Doe"}))
        .unwrap();
    for wrapped in [
        json!({"Name": {"FirstName": null, "LastName": "Doe"}}),
        json!({"com.sforce.eventbus.Name": {"FirstName": null, "LastName": "Doe"}}),
    ] {
        assert_eq!(s.encode_json(&wrapped).unwrap(), plain, "{wrapped}");
    }
    assert_eq!(s.encode_json(&json!({"string": "Doe"})).unwrap()[0], 2);
    // A named branch whose value does not fit says so, under the branch's name.
    let error = s
        .encode_json(&json!({"Name": {"FirstName": "Jo"}}))
        .unwrap_err();
    assert_eq!(error.path(), "Name.LastName", "{error}");
    assert!(
        error.to_string().contains("required field LastName"),
        "{error}"
    );
    // A map branch takes a one-entry object as it is: the plain value wins over the wrapper.
    let s = schema(r#"["null", "double", {"type": "map", "values": "string"}]"#);
    let bytes = s.encode_json(&json!({"double": "x"})).unwrap();
    assert_eq!(bytes[0], 4, "the map branch");
    // An object naming no branch is no branch.
    let error = encode_error(r#"["null", "long"]"#, json!({"int": 1}));
    assert!(error.contains("fits no branch"), "{error}");
}

#[test]
fn a_value_that_fits_no_branch() {
    let error = encode_error(r#"["null", "long"]"#, json!("12"));
    assert!(
        error.contains("the string \"12\" fits no branch of union [null, long]"),
        "{error}"
    );
    let error = encode_error(r#"["string", "long"]"#, Value::Null);
    assert!(error.contains("does not accept null"), "{error}");
}

#[test]
fn numbers_out_of_range_or_of_the_wrong_kind() {
    let error = encode_error(r#""int""#, json!(1u64 << 40));
    assert!(error.contains("does not fit an int"), "{error}");
    let error = encode_error(r#""long""#, json!(u64::MAX));
    assert!(
        error.contains("expected long, got the number 18446744073709551615"),
        "{error}"
    );
    let error = encode_error(r#""long""#, json!(1.5));
    assert!(error.contains("expected long"), "{error}");
    let error = encode_error(r#""long""#, json!("1700000000000"));
    assert!(error.contains("expected long, got the string"), "{error}");
    // Integral floats are accepted where a long is the only choice (JavaScript sends 1e12 so).
    assert_eq!(
        schema(r#""long""#).encode_json(&json!(1e12)).unwrap(),
        schema(r#""long""#)
            .encode_json(&json!(1_000_000_000_000_i64))
            .unwrap()
    );
}

#[test]
fn strings_for_enums_bytes_and_fixed() {
    let error = encode_error(
        r#"{"type": "enum", "name": "E", "symbols": ["A", "B"]}"#,
        json!("C"),
    );
    assert!(
        error.contains("\"C\" is not a symbol of enum E (A, B)"),
        "{error}"
    );
    let error = encode_error(r#""bytes""#, json!("€"));
    assert!(error.contains("above U+00FF"), "{error}");
    let error = encode_error(r#"{"type": "fixed", "name": "F", "size": 4}"#, json!("abc"));
    assert!(
        error.contains("fixed F takes exactly 4 bytes, got 3"),
        "{error}"
    );
}

#[test]
fn errors_inside_nested_values_say_where() {
    let s = r#"{"type": "record", "name": "R", "fields": [
        {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "I", "fields": [
            {"name": "qty", "type": "int"}]}}},
        {"name": "tags", "type": {"type": "map", "values": "string"}}]}"#;
    let error = schema(s)
        .encode_json(&json!({"items": [{"qty": 1}, {"qty": "two"}], "tags": {}}))
        .unwrap_err();
    assert_eq!(error.path(), "items[1].qty");
    let error = schema(s)
        .encode_json(&json!({"items": [], "tags": {"k": 3}}))
        .unwrap_err();
    assert_eq!(error.path(), "tags[\"k\"]");
}

#[test]
fn a_failed_encode_leaves_the_buffer_as_it_was() {
    let schema = order_schema();
    let mut out = vec![9, 9];
    assert!(
        schema
            .encode_json_into(&json!({"CreatedDate": 1}), &mut out)
            .is_err()
    );
    assert_eq!(out, [9, 9]);
    schema
        .encode_json_into(&json!({"CreatedDate": 1, "CreatedById": "x"}), &mut out)
        .unwrap();
    assert_eq!(&out[..2], &[9, 9]);
    assert_eq!(schema.decode_json(&out[2..]).unwrap()["CreatedById"], "x");
}

#[test]
fn serializable_types_encode_through_their_json() {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Order<'a> {
        created_date: i64,
        created_by_id: &'a str,
        #[serde(rename = "Has_Shipped__c")]
        shipped: Option<bool>,
    }
    let schema = order_schema();
    let payload = schema
        .encode(&Order {
            created_date: 5,
            created_by_id: "005",
            shipped: Some(false),
        })
        .unwrap();
    let decoded = schema.decode_json(&payload).unwrap();
    assert_eq!(decoded["Has_Shipped__c"], json!(false));
    assert_eq!(decoded["CreatedDate"], json!(5));
}

#[test]
fn a_missing_nullable_field_without_default_is_null() {
    let s = schema(
        r#"{"type": "record", "name": "R", "fields": [{"name": "opt", "type": ["null", "string"]}]}"#,
    );
    let payload = s.encode_json(&json!({})).unwrap();
    assert_eq!(payload, [0]);
}

#[test]
fn a_default_that_does_not_fit_is_reported() {
    let s = r#"{"type": "record", "name": "R", "fields": [{"name": "n", "type": "long", "default": "x"}]}"#;
    let error = encode_error(s, json!({}));
    assert!(
        error.contains("its default in the schema does not fit"),
        "{error}"
    );
}

#[test]
fn a_union_takes_float_only_for_values_a_float_holds_exactly() {
    let float_or_double = schema(r#"["float", "double"]"#);
    // 1.5 is exact in a float: the first branch.
    assert_eq!(float_or_double.encode_json(&json!(1.5)).unwrap()[0], 0);
    // 0.1 and 1e-60 are not: the double branch keeps them.
    for value in [json!(0.1), json!(1e-60)] {
        let bytes = float_or_double.encode_json(&value).unwrap();
        assert_eq!(bytes[0], 2, "{value} takes the double branch");
        assert_eq!(float_or_double.decode_json(&bytes).unwrap(), value);
    }
    // With no double to go to, a float takes the value rounded, as for a plain float field.
    let nullable_float = schema(r#"["null", "float"]"#);
    let bytes = nullable_float.encode_json(&json!(0.1)).unwrap();
    assert_eq!(&bytes[1..], 0.1f32.to_le_bytes());
}

#[test]
fn a_number_beyond_a_floats_range_is_refused_with_the_fix() {
    let error = encode_error(r#""float""#, json!(1e300));
    assert!(error.contains("beyond a float's range"), "{error}");
    assert!(error.contains("use a double"), "{error}");
}
