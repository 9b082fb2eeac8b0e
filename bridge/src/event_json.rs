//! An event as one JSON object: what `sfstream listen` prints and what the bridge publishes.
//!
//! Keys in this order: `{"channel","replayId","kind","createdDate","eventUuid","eventType",
//! "payload"}`. `createdDate` is RFC 3339 for every kind (Change Data Capture: the commit
//! timestamp). `payload` is the event's content, byte for byte as the server sent it:
//! `data.sobject` for PushTopic, `data.payload` for Platform Events, Change Data Capture and
//! generic events, `data` for plain Bayeux messages. `eventType` is the PushTopic
//! `data.event.type` (`created`, `updated`, …), else null.

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sfstream_tokio::{EventKind, Message};

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

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    sobject: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// The JSON object of `message`, borrowing from it.
#[must_use]
pub fn event_json(message: &Message) -> EventJson<'_> {
    let data = serde_json::from_str::<Envelope<'_>>(message.raw_json())
        .ok()
        .and_then(|e| e.data);
    let payload = match message.kind() {
        EventKind::Bayeux => data,
        kind => data
            .and_then(|d| serde_json::from_str::<Data<'_>>(d.get()).ok())
            .and_then(|d| match kind {
                EventKind::PushTopic => d.sobject,
                _ => d.payload,
            }),
    };
    EventJson {
        channel: message.channel(),
        replay_id: message.replay_id(),
        kind: message.kind().as_str(),
        created_date: message.created_date().map(rfc3339),
        event_uuid: message.event_uuid(),
        event_type: message.pushtopic_event_type(),
        payload,
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

/// Change Data Capture events carry their commit time as epoch milliseconds; write it like the
/// other kinds' dates (RFC 3339, UTC).
fn rfc3339(date: String) -> String {
    match date.parse::<u64>() {
        Ok(ms) => {
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
        }
        Err(_) => date,
    }
}
