//! Topic kinds and the Avro schemas of their events, shaped like Salesforce's: a top-level record
//! in namespace `com.sforce.eventbus`; Platform Events with `CreatedDate` (long, epoch ms) and
//! `CreatedById` (string) and custom fields `["null", T]`; change events with a full
//! `ChangeEventHeader` first and every object field `["null", T]`, compound fields (Address,
//! Name) as nested records. Schema ids are 22-character base64url fingerprints of the JSON.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The kind of a topic, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TopicKind {
    /// `/event/<Name>` (Platform Events, standard or custom): publishable.
    PlatformEvent,
    /// `/data/<Object>ChangeEvent`: Change Data Capture for one object; not publishable by
    /// clients.
    ChangeEvent,
    /// `/data/ChangeEvents`: every change event of the other `/data/` topics, with its own
    /// replay ids; no schema of its own.
    AllChangeEvents,
}

impl TopicKind {
    /// The kind of `name`, or an error that says which names are served.
    pub fn of(name: &str) -> Result<Self, Error> {
        let bad = || {
            Error::InvalidArgument(format!(
                "{name:?} is not a Pub/Sub topic name: use /event/<Name> (Platform Events), \
                 /data/<Object>ChangeEvent or /data/ChangeEvents"
            ))
        };
        let valid = |rest: &str| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if let Some(rest) = name.strip_prefix("/event/") {
            return if valid(rest) {
                Ok(Self::PlatformEvent)
            } else {
                Err(bad())
            };
        }
        if name == "/data/ChangeEvents" {
            return Ok(Self::AllChangeEvents);
        }
        match name.strip_prefix("/data/") {
            Some(rest) if valid(rest) && rest.ends_with("ChangeEvent") && rest != "ChangeEvent" => {
                Ok(Self::ChangeEvent)
            }
            _ => Err(bad()),
        }
    }
}

/// The type of a field in a generated schema.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FieldType {
    /// Text, picklist, id, email …: Avro `string`.
    Text,
    /// Number, currency, percent: Avro `double`.
    Number,
    /// Integer: Avro `int`.
    Int,
    /// Checkbox: Avro `boolean`.
    Checkbox,
    /// Date/time: Avro `long`, epoch milliseconds.
    DateTime,
    /// The standard compound Address (record `Address`: Street, City, State, PostalCode,
    /// Country, StateCode, CountryCode, Latitude, Longitude, GeocodeAccuracy).
    Address,
    /// The standard compound person Name (record `Name`: Salutation, FirstName, LastName).
    Name,
}

/// One field of a generated schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The API name.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
}

impl Field {
    /// A field.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Self {
            name: name.into(),
            ty,
        }
    }
}

impl FieldType {
    /// Parses the control API's type names: `text`/`string`, `number`/`double`, `int`,
    /// `checkbox`/`boolean`, `datetime`/`long`, `address`, `name`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Ok(match text {
            "text" | "string" => Self::Text,
            "number" | "double" => Self::Number,
            "int" => Self::Int,
            "checkbox" | "boolean" => Self::Checkbox,
            "datetime" | "long" => Self::DateTime,
            "address" => Self::Address,
            "name" => Self::Name,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown field type {other:?}: use text, number, int, checkbox, datetime, \
                     address or name"
                )));
            }
        })
    }
}

/// The default fields of the topics that exist at start, by topic name.
pub(crate) fn default_fields(topic: &str) -> Vec<Field> {
    use FieldType::{Address, Checkbox, DateTime, Int, Name, Number, Text};
    let f = Field::new;
    match topic {
        "/event/Order__e" => vec![
            f("OrderNumber__c", Text),
            f("Amount__c", Number),
            f("Shipped__c", Checkbox),
            f("ShipDate__c", DateTime),
        ],
        "/data/AccountChangeEvent" => vec![
            f("Name", Text),
            f("Type", Text),
            f("Phone", Text),
            f("BillingAddress", Address),
            f("ShippingAddress", Address),
            f("AnnualRevenue", Number),
            f("NumberOfEmployees", Int),
            f("Description", Text),
            f("OwnerId", Text),
            f("CreatedDate", DateTime),
            f("CreatedById", Text),
            f("LastModifiedDate", DateTime),
            f("LastModifiedById", Text),
        ],
        "/data/ContactChangeEvent" => vec![
            f("AccountId", Text),
            f("Name", Name),
            f("Email", Text),
            f("Phone", Text),
            f("MailingAddress", Address),
            f("DoNotCall", Checkbox),
            f("CreatedDate", DateTime),
            f("LastModifiedDate", DateTime),
        ],
        _ => Vec::new(),
    }
}

/// The topics that exist when the emulator starts (unless replaced by the builder).
pub const DEFAULT_TOPICS: &[&str] = &[
    "/event/Order__e",
    "/data/AccountChangeEvent",
    "/data/ContactChangeEvent",
    "/data/ChangeEvents",
];

const NAMESPACE: &str = "com.sforce.eventbus";

/// The record name of a topic's events: `/event/Order__e` → `Order__e`.
pub(crate) fn record_name(topic: &str) -> &str {
    topic.rsplit('/').next().unwrap_or(topic)
}

/// The object of a change-event topic: `AccountChangeEvent` → `Account`, `Foo__ChangeEvent` →
/// `Foo__c`.
pub(crate) fn entity_name(topic: &str) -> String {
    let base = record_name(topic).trim_end_matches("ChangeEvent");
    if base.ends_with("__") {
        format!("{base}c")
    } else {
        base.to_owned()
    }
}

fn simple(ty: &FieldType) -> Option<&'static str> {
    Some(match ty {
        FieldType::Text => "string",
        FieldType::Number => "double",
        FieldType::Int => "int",
        FieldType::Checkbox => "boolean",
        FieldType::DateTime => "long",
        FieldType::Address | FieldType::Name => return None,
    })
}

fn nullable(name: &str, doc: &str, ty: Value) -> Value {
    json!({"name": name, "type": ["null", ty], "doc": doc, "default": null})
}

fn compound_record(ty: &FieldType, defined: &mut Vec<&'static str>) -> Value {
    let (name, fields): (&'static str, &[(&str, &str)]) = match ty {
        FieldType::Address => (
            "Address",
            &[
                ("Street", "string"),
                ("City", "string"),
                ("State", "string"),
                ("PostalCode", "string"),
                ("Country", "string"),
                ("StateCode", "string"),
                ("CountryCode", "string"),
                ("Latitude", "double"),
                ("Longitude", "double"),
                ("GeocodeAccuracy", "string"),
            ],
        ),
        _ => (
            "Name",
            &[
                ("Salutation", "string"),
                ("FirstName", "string"),
                ("LastName", "string"),
            ],
        ),
    };
    // Avro names a record once; later fields of the same compound type refer to it by name.
    if defined.contains(&name) {
        return json!(format!("{NAMESPACE}.{name}"));
    }
    defined.push(name);
    let fields: Vec<Value> = fields
        .iter()
        .map(|(f, t)| nullable(f, &format!("Data:{t}"), json!(t)))
        .collect();
    json!({"type": "record", "name": name, "namespace": NAMESPACE, "fields": fields})
}

fn field_json(field: &Field, defined: &mut Vec<&'static str>) -> Value {
    match simple(&field.ty) {
        Some(t) => nullable(&field.name, &format!("Data:{t}"), json!(t)),
        None => nullable(
            &field.name,
            "Data:Compound",
            compound_record(&field.ty, defined),
        ),
    }
}

/// The `ChangeEventHeader` record.
fn change_event_header() -> Value {
    let strings = json!({"type": "array", "items": "string"});
    json!({
        "type": "record", "name": "ChangeEventHeader", "namespace": NAMESPACE,
        "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": strings},
            {"name": "changeType", "type": {"type": "enum", "name": "ChangeType", "namespace": NAMESPACE,
                "symbols": ["CREATE", "DELETE", "UNDELETE", "UPDATE", "GAP_CREATE", "GAP_DELETE",
                            "GAP_UNDELETE", "GAP_UPDATE", "GAP_OVERFLOW", "SNAPSHOT"]}},
            {"name": "changeOrigin", "type": "string"},
            {"name": "transactionKey", "type": "string"},
            {"name": "sequenceNumber", "type": "int"},
            {"name": "commitTimestamp", "type": "long"},
            {"name": "commitNumber", "type": "long"},
            {"name": "commitUser", "type": "string"},
            {"name": "nulledFields", "type": strings},
            {"name": "diffFields", "type": strings},
            {"name": "changedFields", "type": strings},
        ]
    })
}

/// The schema JSON (compact, as Salesforce serves it) for a topic with these custom fields.
pub(crate) fn generate(topic: &str, kind: TopicKind, fields: &[Field]) -> String {
    let mut defined = Vec::new();
    let mut all = Vec::new();
    match kind {
        TopicKind::PlatformEvent => {
            all.push(json!({"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"}));
            all.push(json!({"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"}));
        }
        TopicKind::ChangeEvent | TopicKind::AllChangeEvents => {
            all.push(
                json!({"name": "ChangeEventHeader", "type": change_event_header(),
                            "doc": "Data:ComplexValueType"}),
            );
        }
    }
    all.extend(fields.iter().map(|f| field_json(f, &mut defined)));
    json!({
        "type": "record",
        "name": record_name(topic),
        "namespace": NAMESPACE,
        "doc": "",
        "fields": all,
    })
    .to_string()
}

/// A schema id: the first 128 bits of the SHA-256 of the schema JSON, base64url (22 chars).
pub(crate) fn schema_id(json: &str) -> String {
    let digest = Sha256::digest(json.as_bytes());
    crate::util::base64url(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_salesforce_topic_names() {
        assert_eq!(
            TopicKind::of("/event/Order__e").ok(),
            Some(TopicKind::PlatformEvent)
        );
        assert_eq!(
            TopicKind::of("/event/LoginEventStream").ok(),
            Some(TopicKind::PlatformEvent)
        );
        assert_eq!(
            TopicKind::of("/data/AccountChangeEvent").ok(),
            Some(TopicKind::ChangeEvent)
        );
        assert_eq!(
            TopicKind::of("/data/ChangeEvents").ok(),
            Some(TopicKind::AllChangeEvents)
        );
        assert!(TopicKind::of("/topic/Foo").is_err());
        assert!(TopicKind::of("/data/Account").is_err());
        assert!(TopicKind::of("/event/").is_err());
        assert_eq!(entity_name("/data/Foo__ChangeEvent"), "Foo__c");
    }

    #[test]
    fn generated_schemas_parse_and_ids_are_22_base64url_chars() {
        for topic in DEFAULT_TOPICS {
            let kind = TopicKind::of(topic).unwrap();
            let json = generate(topic, kind, &default_fields(topic));
            apache_avro::Schema::parse_str(&json).unwrap();
            let id = schema_id(&json);
            assert_eq!(id.len(), 22);
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
        }
    }
}
