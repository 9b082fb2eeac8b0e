//! An event as one JSON object: what `sfstream listen` prints and what the bridge publishes.
//!
//! Keys in this order: `{"channel","replayId","kind","createdDate","eventUuid","eventType",
//! "payload"}`. `createdDate` is RFC 3339 in UTC with milliseconds for every kind (Change Data
//! Capture: the commit timestamp). `payload` is the event's content, byte for byte as the server sent it:
//! `data.sobject` for PushTopic, `data.payload` for Platform Events, Change Data Capture and
//! generic events, `data` for plain Bayeux messages. `eventType` is the PushTopic
//! `data.event.type` (`created`, `updated`, …), else null.

use serde::Serialize;
use serde_json::value::RawValue;
use sfstream_tokio::Message;

/// The JSON object of one event.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventJson<'a> {
    channel: &'a str,
    replay_id: Option<i64>,
    kind: &'static str,
    created_date: Option<String>,
    event_uuid: Option<&'a str>,
    event_type: Option<&'a str>,
    payload: Option<&'a RawValue>,
}

impl EventJson<'_> {
    /// The creation date as RFC 3339, if the event has one.
    #[must_use]
    pub fn created_date(&self) -> Option<&str> {
        self.created_date.as_deref()
    }
}

/// The JSON object of `message`, borrowing from it.
#[must_use]
pub fn event_json(message: &Message) -> EventJson<'_> {
    EventJson {
        channel: message.channel(),
        replay_id: message.replay_id(),
        kind: message.kind().as_str(),
        created_date: message.created_date().map(|t| t.to_string()),
        event_uuid: message.event_uuid(),
        event_type: message.pushtopic_event_type(),
        payload: message.payload_json(),
    }
}

/// Appends the JSON object of `message` (no newline) to `buf`.
pub fn write_event_json(buf: &mut Vec<u8>, message: &Message) {
    write_json(buf, &event_json(message));
}

/// Appends an already built object to `buf`.
pub fn write_json(buf: &mut Vec<u8>, json: &EventJson<'_>) {
    // Serialising into a Vec cannot fail: every field is a string, a number or raw JSON.
    let _ = serde_json::to_writer(&mut *buf, json);
}
