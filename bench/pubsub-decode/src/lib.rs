//! The datums and decoders the Pub/Sub decode benchmark compares: a platform event and an
//! `AccountChangeEvent`, shaped as Salesforce's Pub/Sub API sends them, each decoded by
//! sfstream (to JSON, and straight into a serde type) and by a plain `apache-avro` decode (to its
//! own value, and on to JSON).

use serde::Deserialize;
use serde_json::{Value, json};
use sfstream_core::pubsub::avro::Schema;

/// The platform event's writer schema (`Order_Event__e`).
pub const ORDER_SCHEMA: &str = include_str!("../../../core/tests/data/pubsub/order_event.avsc");
/// The change event's writer schema (`AccountChangeEvent`, 40 top-level fields).
pub const ACCOUNT_CHANGE_SCHEMA: &str =
    include_str!("../../../core/tests/data/pubsub/account_change_event.avsc");

/// One payload to decode, with its schema parsed by both libraries.
pub struct Case {
    /// What it is, for the benchmark's name.
    pub name: &'static str,
    /// sfstream's parsed schema.
    pub schema: Schema,
    /// apache-avro's parsed schema.
    pub avro_schema: apache_avro::Schema,
    /// The raw Avro datum, as in `ConsumerEvent.event.payload`.
    pub datum: Vec<u8>,
}

/// A platform event with every field set.
#[must_use]
pub fn order_event() -> Value {
    json!({
        "CreatedDate": 1_733_475_000_123_i64,
        "CreatedById": "005xx000001X8UzAAK",
        "Order_Number__c": "ORD-000042",
        "Amount__c": 1249.99,
        "Has_Shipped__c": false,
        "Ship_Date__c": 1_733_561_400_000_i64,
        "Customer_Name__c": "Acme Industrial Supplies",
        "Quantity__c": 12.0,
        "Notes__c": "Leave at the loading dock; call ahead on arrival."
    })
}

/// An `UPDATE` change event as the Pub/Sub API delivers it: every field present, the unchanged
/// ones null, the changed ones set, bitmap-encoded field lists.
#[must_use]
pub fn account_change_event(schema: &Schema) -> Value {
    let mut event = serde_json::Map::new();
    for name in schema.field_names() {
        event.insert(name.to_owned(), Value::Null);
    }
    event.insert(
        "ChangeEventHeader".into(),
        json!({
            "entityName": "Account",
            "recordIds": ["001xx000003DGb2AAG"],
            "changeType": "UPDATE",
            "changeOrigin": "com/salesforce/api/soap/61.0;client=SfdcInternalAPI/",
            "transactionKey": "0002b7b3-6f4a-4c1e-bd3e-7a0b9f1d6c55",
            "sequenceNumber": 1,
            "commitTimestamp": 1_733_475_000_000_i64,
            "commitNumber": 11_589_541_658_372_i64,
            "commitUser": "005xx000001X8UzAAK",
            "nulledFields": [],
            "diffFields": [],
            "changedFields": ["0x650004E0", "5-0x2"]
        }),
    );
    event.insert("Name".into(), json!("Acme Industrial Supplies"));
    event.insert("Phone".into(), json!("+33 1 23 45 67 89"));
    event.insert("Fax".into(), json!("+33 1 23 45 67 90"));
    event.insert("Sic".into(), json!("5084"));
    event.insert(
        "ShippingAddress".into(),
        json!({"Street": "12 rue de la Paix", "City": "Paris", "PostalCode": "75002", "Country": "France"}),
    );
    event.insert("NumberOfEmployees".into(), json!(250));
    event.insert("LastModifiedDate".into(), json!(1_733_475_000_000_i64));
    Value::Object(event)
}

/// The two cases, encoded by sfstream's encoder; [`check`] verifies both libraries read them
/// the same.
///
/// # Panics
/// If a schema or value does not parse or encode (a broken fixture).
#[must_use]
pub fn cases() -> Vec<Case> {
    let order = Schema::parse(ORDER_SCHEMA).expect("order schema");
    let account = Schema::parse(ACCOUNT_CHANGE_SCHEMA).expect("account schema");
    let account_event = account_change_event(&account);
    vec![
        Case {
            name: "platform_event",
            datum: order.encode_json(&order_event()).expect("order event"),
            schema: order,
            avro_schema: apache_avro::Schema::parse_str(ORDER_SCHEMA).expect("order schema"),
        },
        Case {
            name: "change_event",
            datum: account.encode_json(&account_event).expect("change event"),
            schema: account,
            avro_schema: apache_avro::Schema::parse_str(&account_schema_for_apache_avro())
                .expect("account schema"),
        },
    ]
}

/// The change event's schema as apache-avro accepts it. Salesforce declares `Address` with
/// `"namespace": ""` inside `com.sforce.eventbus` and then refers to it by its bare name, which
/// Java's Avro (and sfstream) resolve by falling back to the empty namespace; apache-avro follows
/// the specification's letter and looks for `com.sforce.eventbus.Address`. Putting `Address` in
/// that namespace changes no byte of the encoding.
#[must_use]
pub fn account_schema_for_apache_avro() -> String {
    ACCOUNT_CHANGE_SCHEMA.replacen(
        r#""namespace": "","#,
        r#""namespace": "com.sforce.eventbus","#,
        1,
    )
}

/// sfstream: the datum to JSON.
///
/// # Panics
/// If the datum does not decode.
#[must_use]
pub fn sfstream_json(case: &Case) -> Value {
    case.schema
        .decode_json(&case.datum)
        .expect("sfstream decodes")
}

/// apache-avro: the datum to its `Value` (the plain decode).
///
/// # Panics
/// If the datum does not decode.
#[must_use]
pub fn apache_avro_value(case: &Case) -> apache_avro::types::Value {
    apache_avro::from_avro_datum(&case.avro_schema, &mut case.datum.as_slice(), None)
        .expect("apache-avro decodes")
}

/// apache-avro: the datum to its `Value`, then to JSON (what a client that hands JSON to its
/// application does).
///
/// # Panics
/// If the datum does not decode or convert.
#[must_use]
pub fn apache_avro_json(case: &Case) -> Value {
    Value::try_from(apache_avro_value(case)).expect("apache-avro converts to JSON")
}

/// The platform event as an application type.
#[derive(Debug, Deserialize, PartialEq)]
#[allow(
    dead_code,
    reason = "the fields are read by the decoder; the benchmark keeps the value"
)]
pub struct OrderEvent<'a> {
    #[serde(rename = "CreatedDate")]
    created_date: i64,
    #[serde(rename = "CreatedById")]
    created_by_id: &'a str,
    #[serde(rename = "Order_Number__c")]
    order_number: Option<&'a str>,
    #[serde(rename = "Amount__c")]
    amount: Option<f64>,
    #[serde(rename = "Has_Shipped__c")]
    has_shipped: Option<bool>,
    #[serde(rename = "Ship_Date__c")]
    ship_date: Option<i64>,
    #[serde(rename = "Customer_Name__c")]
    customer_name: Option<&'a str>,
    #[serde(rename = "Quantity__c")]
    quantity: Option<f64>,
    #[serde(rename = "Notes__c")]
    notes: Option<&'a str>,
}

/// The change event's header and a few fields, as an application that syncs them reads it.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
#[allow(
    dead_code,
    reason = "the fields are read by the decoder; the benchmark keeps the value"
)]
pub struct AccountChange<'a> {
    #[serde(borrow)]
    change_event_header: ChangeEventHeader<'a>,
    name: Option<&'a str>,
    phone: Option<&'a str>,
    shipping_address: Option<Address<'a>>,
    number_of_employees: Option<i64>,
}

/// `ChangeEventHeader`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[allow(
    dead_code,
    reason = "the fields are read by the decoder; the benchmark keeps the value"
)]
pub struct ChangeEventHeader<'a> {
    entity_name: &'a str,
    #[serde(borrow)]
    record_ids: Vec<&'a str>,
    change_type: ChangeType,
    commit_timestamp: i64,
    commit_number: i64,
    #[serde(borrow)]
    changed_fields: Vec<&'a str>,
}

/// `ChangeEventHeader.changeType` (an Avro enum: its symbols live in the schema, not in the
/// datum, so they cannot be borrowed; a unit-variant enum costs no allocation).
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs, reason = "Salesforce's change types, named as they are")]
pub enum ChangeType {
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

/// A compound address field.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
#[allow(
    dead_code,
    reason = "the fields are read by the decoder; the benchmark keeps the value"
)]
pub struct Address<'a> {
    street: Option<&'a str>,
    city: Option<&'a str>,
    postal_code: Option<&'a str>,
    country: Option<&'a str>,
}

/// Checks that both libraries read the same values from the datums, so that the benchmark
/// compares equal work.
///
/// # Panics
/// If they disagree.
pub fn check(cases: &[Case]) {
    for case in cases {
        assert_eq!(sfstream_json(case), apache_avro_json(case), "{}", case.name);
    }
    let order: OrderEvent<'_> = cases[0].schema.decode(&cases[0].datum).expect("order");
    assert_eq!(order.customer_name, Some("Acme Industrial Supplies"));
    let change: AccountChange<'_> = cases[1].schema.decode(&cases[1].datum).expect("change");
    assert_eq!(
        change.change_event_header.changed_fields,
        ["0x650004E0", "5-0x2"]
    );
    assert_eq!(change.shipping_address.and_then(|a| a.city), Some("Paris"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_decoders_agree() {
        super::check(&super::cases());
    }
}
