//! The `data` objects of event messages, one shape per channel kind.
//!
//! A published payload is fitted into the kind's shape; a missing payload is generated. The
//! envelope (`{"clientId":…,"data":…,"channel":…}`) is added at delivery, because PushTopic and
//! generic events carry the receiving client's id.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::channels::{Channel, ChannelKind};
use crate::util::{self, Rng};

/// What an event needs besides its payload.
pub(crate) struct EventContext<'a> {
    pub(crate) replay_id: i64,
    pub(crate) now_ms: u64,
    /// 1-based sequence number of the event in its channel.
    pub(crate) seq: u64,
    pub(crate) user_id: &'a str,
}

#[derive(Serialize)]
struct TopicEvent {
    #[serde(rename = "createdDate")]
    created_date: String,
    #[serde(rename = "replayId")]
    replay_id: i64,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
}

#[derive(Serialize)]
struct PushTopicData {
    event: TopicEvent,
    sobject: Value,
}

#[derive(Serialize)]
struct GenericData {
    event: TopicEvent,
    payload: String,
}

#[derive(Serialize)]
struct PlatformEventMeta {
    #[serde(rename = "EventUuid")]
    event_uuid: String,
    #[serde(rename = "replayId")]
    replay_id: i64,
}

#[derive(Serialize)]
struct PlatformEventData {
    schema: String,
    payload: Map<String, Value>,
    event: PlatformEventMeta,
}

#[derive(Serialize)]
struct CdcHeader {
    #[serde(rename = "entityName")]
    entity_name: String,
    #[serde(rename = "recordIds")]
    record_ids: [String; 1],
    #[serde(rename = "changeType")]
    change_type: &'static str,
    #[serde(rename = "changeOrigin")]
    change_origin: &'static str,
    #[serde(rename = "transactionKey")]
    transaction_key: String,
    #[serde(rename = "sequenceNumber")]
    sequence_number: u32,
    #[serde(rename = "isTransactionEnd")]
    is_transaction_end: bool,
    #[serde(rename = "commitTimestamp")]
    commit_timestamp: u64,
    #[serde(rename = "commitNumber")]
    commit_number: u64,
    #[serde(rename = "commitUser")]
    commit_user: String,
    #[serde(rename = "nulledFields")]
    nulled_fields: [String; 0],
    #[serde(rename = "diffFields")]
    diff_fields: [String; 0],
    #[serde(rename = "changedFields")]
    changed_fields: Vec<String>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Header {
    Made(Box<CdcHeader>),
    Given(Value),
}

#[derive(Serialize)]
struct CdcPayload {
    #[serde(rename = "ChangeEventHeader")]
    header: Header,
    #[serde(flatten)]
    fields: Map<String, Value>,
}

#[derive(Serialize)]
struct CdcMeta {
    #[serde(rename = "replayId")]
    replay_id: i64,
}

#[derive(Serialize)]
struct CdcData {
    schema: String,
    payload: CdcPayload,
    event: CdcMeta,
}

/// The object an `/data/…` channel reports on.
pub(crate) fn cdc_entity(channel: &str) -> String {
    let rest = channel.strip_prefix("/data/").unwrap_or(channel);
    if let Some(custom) = rest.strip_suffix("__ChangeEvent") {
        format!("{custom}__c")
    } else if let Some(standard) = rest.strip_suffix("ChangeEvent").filter(|s| !s.is_empty()) {
        standard.to_owned()
    } else {
        "Account".to_owned()
    }
}

/// A commit number; every other one is above 2^53 so that clients that go through `f64` lose
/// precision visibly.
pub(crate) fn commit_number(seq: u64) -> u64 {
    if seq % 2 == 1 {
        1_758_153_866_121_183_235u64.saturating_add(seq)
    } else {
        92_847_272_780u64.saturating_add(seq)
    }
}

/// An 18-character record id with the given 3-character key prefix.
pub(crate) fn record_id(prefix: &str, rng: &mut Rng) -> String {
    format!("{prefix}EM{}", util::alnum(rng, 13))
}

fn topic_event(ctx: &EventContext<'_>, kind: Option<String>) -> TopicEvent {
    TopicEvent {
        created_date: util::timestamp(ctx.now_ms, true),
        replay_id: ctx.replay_id,
        kind,
    }
}

fn object_or_wrapped(value: Value, field: &str) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert(field.to_owned(), other);
            map
        }
    }
}

fn cdc_header(channel: &Channel, ctx: &EventContext<'_>, rng: &mut Rng) -> CdcHeader {
    let entity = cdc_entity(&channel.name);
    let prefix = if entity == "Account" { "001" } else { "a00" };
    CdcHeader {
        record_ids: [record_id(prefix, rng)],
        entity_name: entity,
        change_type: "CREATE",
        change_origin: "com/salesforce/api/soap/64.0;client=sfstream-emulator",
        transaction_key: util::uuid(rng),
        sequence_number: 1,
        is_transaction_end: true,
        commit_timestamp: ctx.now_ms,
        commit_number: commit_number(ctx.seq),
        commit_user: ctx.user_id.to_owned(),
        nulled_fields: [],
        diff_fields: [],
        changed_fields: Vec::new(),
    }
}

/// The serialised `data` object of one event on `channel`.
///
/// Payload rules per kind (a missing payload is generated):
/// - PushTopic: `{"type": "updated", "sobject": {...}}` sets the event type, any other value
///   is the `sobject` itself (type `created`).
/// - generic: a string is the payload; any other value is sent as its JSON text.
/// - Platform Event: the payload object (a non-object goes into `Message__c`); `CreatedDate`
///   and `CreatedById` are added when missing.
/// - CDC: the payload object; a `ChangeEventHeader` is generated when missing.
pub(crate) fn build_data(
    channel: &Channel,
    ctx: &EventContext<'_>,
    payload: Option<Value>,
    rng: &mut Rng,
) -> String {
    let seq = ctx.seq;
    let result = match channel.kind {
        ChannelKind::PushTopic => {
            let (kind, sobject) = match payload {
                Some(Value::Object(mut map)) if map.contains_key("sobject") => {
                    let kind = match map.remove("type") {
                        Some(Value::String(s)) => s,
                        _ => "created".to_owned(),
                    };
                    (kind, map.remove("sobject").unwrap_or(Value::Null))
                }
                Some(other) => ("created".to_owned(), other),
                None => {
                    const TYPES: [&str; 4] = ["created", "updated", "deleted", "undeleted"];
                    let kind = TYPES[((seq - 1) % 4) as usize].to_owned();
                    let sobject = serde_json::json!({
                        "Id": record_id("001", rng),
                        "Name": format!("Generated Account {seq}"),
                    });
                    (kind, sobject)
                }
            };
            serde_json::to_string(&PushTopicData {
                event: topic_event(ctx, Some(kind)),
                sobject,
            })
        }
        ChannelKind::Generic => {
            let payload = match payload {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => format!("Generated message {seq}"),
            };
            serde_json::to_string(&GenericData {
                event: topic_event(ctx, None),
                payload,
            })
        }
        ChannelKind::PlatformEvent => {
            let mut map = match payload {
                Some(value) => object_or_wrapped(value, "Message__c"),
                None => {
                    let mut map = Map::new();
                    map.insert(
                        "Message__c".into(),
                        Value::String(format!("Generated event {seq}")),
                    );
                    map.insert("Sequence__c".into(), Value::from(seq));
                    map
                }
            };
            map.entry("CreatedDate")
                .or_insert_with(|| Value::String(util::timestamp(ctx.now_ms, true)));
            map.entry("CreatedById")
                .or_insert_with(|| Value::String(ctx.user_id.to_owned()));
            serde_json::to_string(&PlatformEventData {
                schema: channel.schema.clone(),
                payload: map,
                event: PlatformEventMeta {
                    event_uuid: util::uuid(rng),
                    replay_id: ctx.replay_id,
                },
            })
        }
        ChannelKind::ChangeDataCapture => {
            let (header, fields) = match payload {
                Some(value) => {
                    let mut map = object_or_wrapped(value, "Name");
                    match map.remove("ChangeEventHeader") {
                        Some(given) => (Header::Given(given), map),
                        None => (Header::Made(Box::new(cdc_header(channel, ctx, rng))), map),
                    }
                }
                None => {
                    let date = Value::String(util::timestamp(ctx.now_ms, false));
                    let user = Value::String(ctx.user_id.to_owned());
                    let mut map = Map::new();
                    map.insert(
                        "Name".into(),
                        Value::String(format!("Generated Account {seq}")),
                    );
                    map.insert("OwnerId".into(), user.clone());
                    map.insert("CreatedDate".into(), date.clone());
                    map.insert("CreatedById".into(), user.clone());
                    map.insert("LastModifiedDate".into(), date);
                    map.insert("LastModifiedById".into(), user);
                    (Header::Made(Box::new(cdc_header(channel, ctx, rng))), map)
                }
            };
            serde_json::to_string(&CdcData {
                schema: channel.schema.clone(),
                payload: CdcPayload { header, fields },
                event: CdcMeta {
                    replay_id: ctx.replay_id,
                },
            })
        }
    };
    // Serialising maps with string keys cannot fail; an empty object keeps the stream valid.
    result.unwrap_or_else(|_| "{}".to_owned())
}

/// The full event message delivered to `client_id`.
pub(crate) fn message(kind: ChannelKind, channel: &str, data: &str, client_id: &str) -> String {
    let channel = serde_json::to_string(channel).unwrap_or_else(|_| "\"\"".to_owned());
    if kind.carries_client_id() {
        format!(r#"{{"clientId":"{client_id}","data":{data},"channel":{channel}}}"#)
    } else {
        format!(r#"{{"data":{data},"channel":{channel}}}"#)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdc_entities_follow_the_channel_name() {
        assert_eq!(cdc_entity("/data/AccountChangeEvent"), "Account");
        assert_eq!(cdc_entity("/data/Thing__ChangeEvent"), "Thing__c");
        assert_eq!(cdc_entity("/data/ChangeEvents"), "Account");
        assert!(commit_number(1) > 1u64 << 53);
        assert!(commit_number(2) < 1u64 << 53);
    }
}
