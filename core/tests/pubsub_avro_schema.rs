//! Parsing Avro schemas: what Salesforce serves parses, with named types resolved through
//! namespaces; what is not a valid schema is an error that says why.

use serde_json::json;
use sfstream_core::pubsub::avro::Schema;

fn error(json: &str) -> String {
    Schema::parse(json).unwrap_err().to_string()
}

#[test]
fn salesforce_schemas_parse() {
    let order = Schema::parse(include_str!("data/pubsub/order_event.avsc")).unwrap();
    assert_eq!(order.name(), Some("com.sforce.eventbus.Order_Event__e"));
    assert_eq!(order.field_names()[..2], ["CreatedDate", "CreatedById"]);
    let cdc: Schema = include_str!("data/pubsub/account_change_event.avsc")
        .parse()
        .unwrap();
    assert_eq!(cdc.field_names()[0], "ChangeEventHeader");
    assert_eq!(
        cdc.nested_field_names(4),
        cdc.nested_field_names(5),
        "one Address type"
    );
    // Cheap to share: a clone is the same parsed schema.
    let copy = cdc.clone();
    assert_eq!(copy.field_names(), cdc.field_names());
    assert!(format!("{cdc:?}").contains("record com.sforce.eventbus.AccountChangeEvent"));
}

#[test]
fn from_a_json_value() {
    let value = json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]});
    let schema = Schema::from_value(&value).unwrap();
    assert_eq!(schema.field_names(), ["a"]);
    assert_eq!(
        Schema::from_value(&json!("string")).unwrap().field_names(),
        Vec::<&str>::new()
    );
}

#[test]
fn namespaces_resolve_short_and_full_names() {
    let s = r#"{"type": "record", "name": "a.b.Outer", "fields": [
        {"name": "x", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
        {"name": "y", "type": "E"},
        {"name": "z", "type": "a.b.E"},
        {"name": "w", "type": {"type": "fixed", "name": "c.F", "size": 1}},
        {"name": "v", "type": "c.F"}
    ]}"#;
    let schema = Schema::parse(s).unwrap();
    assert_eq!(schema.name(), Some("a.b.Outer"));
    assert!(
        error(r#"{"type": "record", "name": "R", "fields": [{"name": "f", "type": "F"}]}"#)
            .contains("unknown type `F`")
    );
}

#[test]
fn invalid_schemas_are_explained() {
    for (json, expected) in [
        ("{", "not JSON"),
        ("42", "a type must be a name"),
        (r#""nope""#, "unknown type `nope`"),
        (
            r#"{"type": "record", "fields": []}"#,
            "needs a non-empty \"name\"",
        ),
        (
            r#"{"type": "record", "name": "R"}"#,
            "needs a \"fields\" array",
        ),
        (
            r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}"#,
            "declares the field a twice",
        ),
        (
            r#"{"type": "record", "name": "R", "fields": [{"name": "a"}]}"#,
            "field R.a has no \"type\"",
        ),
        (
            r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "record", "name": "R", "fields": []}}]}"#,
            "`R` is defined twice",
        ),
        (
            r#"["null", ["string"]]"#,
            "may not directly contain another union",
        ),
        (r#"["string", "string"]"#, "the same type twice"),
        ("[]", "at least one branch"),
        (
            r#"{"type": "enum", "name": "E", "symbols": ["A", "A"]}"#,
            "lists the symbol A twice",
        ),
        (r#"{"type": "enum", "name": "E"}"#, "needs \"symbols\""),
        (
            r#"{"type": "fixed", "name": "F", "size": -1}"#,
            "non-negative \"size\"",
        ),
        (r#"{"type": "array"}"#, "needs \"items\""),
        (r#"{"type": "map"}"#, "needs \"values\""),
        (r#"{"name": "x"}"#, "needs a \"type\""),
    ] {
        let shown = error(json);
        assert!(shown.starts_with("invalid Avro schema: "), "{shown}");
        assert!(shown.contains(expected), "{json}: {shown}");
    }
}

#[test]
fn the_field_of_a_nested_error_is_named() {
    let shown = error(
        r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "array"}}]}"#,
    );
    assert!(shown.contains("in field R.a"), "{shown}");
}

#[test]
fn very_deep_schemas_are_refused_not_overflowed() {
    let mut value = json!("string");
    for _ in 0..200 {
        value = json!({"type": "array", "items": value});
    }
    let error = Schema::from_value(&value).unwrap_err().to_string();
    assert!(error.contains("nested deeper than"), "{error}");
}
