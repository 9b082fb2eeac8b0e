//! An event as the application takes it from the Pub/Sub session.

use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::message::EventKind;
use crate::pubsub::avro::{DecodeError, DecodeErrorKind, Schema};
use crate::pubsub::cdc;
use crate::pubsub::proto::EventHeader;

use super::replay::ReplayId;

/// One event of a topic: where it is in the stream, what wrote it, and its payload.
///
/// The payload is decoded to JSON in the session ([`PubSubMessage::payload`]; Avro longs stay
/// exact `i64`s, and a change event's `changedFields`, `nulledFields` and `diffFields` are field
/// names, not bitmaps), unless the configuration turned that off. The raw Avro datum and its
/// schema come along for [`PubSubMessage::decode`], which reads it straight into a serde type.
#[derive(Clone)]
pub struct PubSubMessage {
    pub(super) topic: String,
    pub(super) replay_id: ReplayId,
    pub(super) schema_id: String,
    pub(super) event_id: String,
    pub(super) payload: Value,
    pub(super) raw: Bytes,
    pub(super) schema: Option<Schema>,
    pub(super) headers: Vec<EventHeader>,
    pub(super) decode_error: Option<String>,
    /// The event's place among the topic's events in this session, for commits.
    pub(super) seq: u64,
    /// Which subscription of the topic it came on (a topic unsubscribed and subscribed again
    /// starts a new one, whose bookkeeping the old events must not touch).
    pub(super) subscription: u64,
}

impl PubSubMessage {
    /// The topic, e.g. `/event/Order_Event__e` or `/data/AccountChangeEvent`.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The kind of event, by its topic.
    #[must_use]
    pub fn kind(&self) -> EventKind {
        EventKind::of_channel(&self.topic)
    }

    /// Where the event is in the topic's stream: commit it, store it, resume after it.
    #[must_use]
    pub fn replay_id(&self) -> &ReplayId {
        &self.replay_id
    }

    /// The id of the schema the payload was written with.
    #[must_use]
    pub fn schema_id(&self) -> &str {
        &self.schema_id
    }

    /// The event's id (a UUID; the same event delivered twice, after a reconnect, has the same
    /// id: deduplicate by it).
    #[must_use]
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// The payload decoded to JSON, change-event field lists as names. `Null` when decoding was
    /// turned off or failed ([`PubSubMessage::decode_error`] says why).
    #[must_use]
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The payload as a serde type, through its JSON form (so change-event field lists are
    /// names).
    ///
    /// # Errors
    /// When the JSON does not fit `T`.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }

    /// Decodes the raw Avro datum straight into `T` (the fast path: no JSON in between; strings
    /// may borrow from the message). Change-event field lists come out as Salesforce sent them
    /// (bitmaps); turn them into names with [`PubSubMessage::field_names`].
    ///
    /// # Errors
    /// When the datum does not fit `T`, or the event's schema could not be had.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Result<T, DecodeError> {
        match &self.schema {
            Some(schema) => schema.decode(&self.raw),
            None => Err(DecodeError::new(
                DecodeErrorKind::Custom(format!(
                    "the schema {} of this event could not be fetched: {}",
                    self.schema_id,
                    self.decode_error.as_deref().unwrap_or("unknown reason")
                )),
                0,
            )),
        }
    }

    /// A change event's bitmap-encoded field list (as [`PubSubMessage::decode`] yields it) as
    /// field names.
    ///
    /// # Errors
    /// When an entry cannot be read, or the schema is missing.
    pub fn field_names<S: AsRef<str>>(
        &self,
        entries: &[S],
    ) -> Result<Vec<String>, cdc::BitmapError> {
        match &self.schema {
            Some(schema) => cdc::field_names(schema, entries),
            None => Err(cdc::BitmapError {
                entry: String::new(),
                detail: format!("the schema {} of this event is not known", self.schema_id),
            }),
        }
    }

    /// The raw Avro datum.
    #[must_use]
    pub fn raw_payload(&self) -> &Bytes {
        &self.raw
    }

    /// The writer schema, when it could be fetched.
    #[must_use]
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// The event's headers (reserved by Salesforce; empty today).
    #[must_use]
    pub fn headers(&self) -> &[EventHeader] {
        &self.headers
    }

    /// Why the payload is not decoded, if it is not (the event is delivered anyway).
    #[must_use]
    pub fn decode_error(&self) -> Option<&str> {
        self.decode_error.as_deref()
    }
}

impl fmt::Debug for PubSubMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSubMessage")
            .field("topic", &self.topic)
            .field("replay_id", &self.replay_id)
            .field("schema_id", &self.schema_id)
            .field("event_id", &self.event_id)
            .field("payload", &self.payload)
            .field("raw_bytes", &self.raw.len())
            .field("decode_error", &self.decode_error)
            .finish_non_exhaustive()
    }
}

/// An event as it came off the wire, before its schema is known.
#[derive(Debug, Clone)]
pub(super) struct RawEvent {
    pub(super) topic: String,
    pub(super) replay_id: ReplayId,
    pub(super) schema_id: String,
    pub(super) event_id: String,
    pub(super) payload: Bytes,
    pub(super) headers: Vec<EventHeader>,
    /// A problem found on arrival (no event in the `ConsumerEvent`, no replay id).
    pub(super) problem: Option<String>,
    pub(super) seq: u64,
    pub(super) subscription: u64,
}

impl RawEvent {
    /// The message, decoded with `schema` (or with the reason there is none).
    pub(super) fn into_message(
        self,
        schema: Result<&Schema, &str>,
        decode_json: bool,
    ) -> PubSubMessage {
        let mut decode_error = self.problem;
        let (payload, schema) = match schema {
            Ok(schema) => {
                let payload = if decode_json && decode_error.is_none() {
                    let (value, problem) = decode(schema, &self.payload);
                    decode_error = problem;
                    value
                } else {
                    Value::Null
                };
                (payload, Some(schema.clone()))
            }
            Err(why) => {
                decode_error.get_or_insert_with(|| why.to_owned());
                (Value::Null, None)
            }
        };
        PubSubMessage {
            topic: self.topic,
            replay_id: self.replay_id,
            schema_id: self.schema_id,
            event_id: self.event_id,
            payload,
            raw: self.payload,
            schema,
            headers: self.headers,
            decode_error,
            seq: self.seq,
            subscription: self.subscription,
        }
    }
}

/// The datum as JSON with change-event field lists as names; a list that cannot be read stays
/// as sent, and the problem is given beside the value.
fn decode(schema: &Schema, datum: &[u8]) -> (Value, Option<String>) {
    let mut value = match schema.decode_json(datum) {
        Ok(value) => value,
        Err(e) => {
            let path = e.path();
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" (in {path})")
            };
            return (
                Value::Null,
                Some(format!("{} at byte {}{at}", e.kind(), e.offset())),
            );
        }
    };
    let problem = cdc::expand_field_lists(schema, &mut value)
        .err()
        .map(|e| e.to_string());
    (value, problem)
}
