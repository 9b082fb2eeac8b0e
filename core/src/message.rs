//! Delivered messages: the raw JSON as the server sent it, plus the typed envelope fields of the
//! four Salesforce event kinds, decoded without losing precision.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

mod batch;
mod data;
mod timestamp;

pub use batch::{Batch, Committable};
pub(crate) use data::Data;
use data::{DataEnvelope, ReplayIdField};
pub use timestamp::Timestamp;

/// Which kind of Salesforce event a channel carries, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `/topic/…`: a PushTopic record change (`data.event.type`, `data.sobject`).
    PushTopic,
    /// `/event/…`: a Platform Event (`data.payload`, `data.event.EventUuid`).
    PlatformEvent,
    /// `/data/…`: a Change Data Capture event (`data.payload.ChangeEventHeader`).
    ChangeDataCapture,
    /// `/u/…`: a generic streaming event (`data.payload` is a string).
    Generic,
    /// Any other channel: a plain Bayeux message (for example from faye).
    Bayeux,
}

impl EventKind {
    /// The kind a channel name implies.
    #[must_use]
    pub fn of_channel(channel: &str) -> Self {
        if channel.starts_with("/topic/") {
            Self::PushTopic
        } else if channel.starts_with("/event/") {
            Self::PlatformEvent
        } else if channel.starts_with("/data/") {
            Self::ChangeDataCapture
        } else if channel.starts_with("/u/") {
            Self::Generic
        } else {
            Self::Bayeux
        }
    }

    /// A short name: `pushtopic`, `platform_event`, `change_event`, `generic`, `bayeux`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PushTopic => "pushtopic",
            Self::PlatformEvent => "platform_event",
            Self::ChangeDataCapture => "change_event",
            Self::Generic => "generic",
            Self::Bayeux => "bayeux",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event delivered on a channel.
///
/// One allocation per message: the raw JSON. The envelope strings (`EventUuid`, `schema` …) are
/// spans of it, and the channel name is shared with the other messages of the channel.
#[derive(Clone)]
pub struct Message {
    channel: Arc<str>,
    kind: EventKind,
    replay_id: Option<i64>,
    event_uuid: Text,
    event_date: Text,
    event_type: Text,
    schema: Text,
    raw: Box<str>,
}

/// An envelope string of a message: a span of its raw JSON, or (when the JSON escaped it) the
/// unescaped text.
#[derive(Clone, Debug, Default)]
enum Text {
    #[default]
    None,
    Span(u32, u32),
    Owned(Box<str>),
}

impl Text {
    /// `s` as a span of `raw` when it is one (it was borrowed from it), else a copy.
    fn of(s: Option<Cow<'_, str>>, raw: &str) -> Self {
        match s {
            None => Self::None,
            Some(Cow::Borrowed(b)) => {
                let start = (b.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
                match (u32::try_from(start), u32::try_from(b.len())) {
                    (Ok(start), Ok(len)) if start as usize + b.len() <= raw.len() => {
                        Self::Span(start, len)
                    }
                    _ => Self::Owned(b.into()),
                }
            }
            Some(Cow::Owned(o)) => Self::Owned(o.into_boxed_str()),
        }
    }

    fn get<'a>(&'a self, raw: &'a str) -> Option<&'a str> {
        match self {
            Self::None => None,
            Self::Span(start, len) => raw.get(*start as usize..(*start + *len) as usize),
            Self::Owned(s) => Some(s),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("replay_id", &self.replay_id)
            .field("bytes", &self.raw.len())
            .finish()
    }
}

/// Why an event could not be decoded into a [`Message`] with a replay id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeProblem {
    /// `data.event.replayId` is present but not an integer: delivered without a replay id.
    BadReplayId,
    /// `data` is not an object of the expected shape.
    BadData(String),
}

impl Message {
    /// Decodes an event message. `raw` is the whole message, `data` its `data` member as read
    /// in the same pass; `channel` the message's channel name.
    pub(crate) fn decode(
        channel: Arc<str>,
        raw: &str,
        data: Option<&Data<'_>>,
        uses_replay: bool,
    ) -> (Self, Option<DecodeProblem>) {
        let kind = EventKind::of_channel(&channel);
        let mut msg = Self {
            channel,
            kind,
            replay_id: None,
            event_uuid: Text::None,
            event_date: Text::None,
            event_type: Text::None,
            schema: Text::None,
            raw: raw.into(),
        };
        let Some(data) = data else {
            return (msg, None);
        };
        if !data.object {
            // Plain Bayeux data may be anything; Salesforce data is always an object.
            let problem = (kind != EventKind::Bayeux)
                .then(|| DecodeProblem::BadData("`data` is not a JSON object".to_owned()));
            return (msg, problem);
        }
        if data.malformed {
            // Not the expected shape: read it again strictly, for the exact error.
            let problem = msg.decode_strictly(uses_replay);
            return (msg, problem);
        }
        let mut problem = None;
        let raw = &*msg.raw;
        if let Some(ev) = &data.event {
            match ev.replay_id {
                ReplayIdField::Id(id) => msg.replay_id = Some(id),
                ReplayIdField::Invalid => problem = Some(DecodeProblem::BadReplayId),
                ReplayIdField::Missing => {}
            }
            msg.event_uuid = Text::of(ev.event_uuid.clone(), raw);
            msg.event_date = Text::of(ev.created_date.clone(), raw);
            msg.event_type = Text::of(ev.event_type.clone(), raw);
        }
        msg.schema = Text::of(data.schema.clone(), raw);
        let problem = msg.missing_replay_id(uses_replay, problem);
        (msg, problem)
    }

    /// The strict (serde derive) reading of `data`, which names what is wrong with it.
    #[cold]
    fn decode_strictly(&mut self, uses_replay: bool) -> Option<DecodeProblem> {
        #[derive(Deserialize)]
        struct M<'a> {
            #[serde(borrow)]
            data: &'a RawValue,
        }
        let raw = &*self.raw;
        let data = match serde_json::from_str::<M<'_>>(raw) {
            Ok(m) => m.data,
            Err(e) => return Some(DecodeProblem::BadData(format!("`data`: {e}"))),
        };
        match serde_json::from_str::<DataEnvelope<'_>>(data.get()) {
            Ok(env) => {
                let mut problem = None;
                if let Some(ev) = env.event {
                    match ev.replay_id {
                        ReplayIdField::Id(id) => self.replay_id = Some(id),
                        ReplayIdField::Invalid => problem = Some(DecodeProblem::BadReplayId),
                        ReplayIdField::Missing => {}
                    }
                    self.event_uuid = Text::of(ev.event_uuid, raw);
                    self.event_date = Text::of(ev.created_date, raw);
                    self.event_type = Text::of(ev.event_type, raw);
                }
                self.schema = Text::of(env.schema, raw);
                self.missing_replay_id(uses_replay, problem)
            }
            Err(e) => Some(DecodeProblem::BadData(format!("`data`: {e}"))),
        }
    }

    pub(crate) fn missing_replay_id(
        &self,
        uses_replay: bool,
        problem: Option<DecodeProblem>,
    ) -> Option<DecodeProblem> {
        if uses_replay
            && self.replay_id.is_none()
            && problem.is_none()
            && self.kind != EventKind::Bayeux
        {
            return Some(DecodeProblem::BadData(
                "`data.event.replayId` is missing".to_owned(),
            ));
        }
        problem
    }

    /// The channel the event arrived on, as subscribed (with a filter query, if any).
    #[must_use]
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The event kind, judged by the channel name.
    #[must_use]
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// `data.event.replayId`, exact.
    #[must_use]
    pub fn replay_id(&self) -> Option<i64> {
        self.replay_id
    }

    /// `data.event.EventUuid` (Platform Events): the id to de-duplicate on.
    #[must_use]
    pub fn event_uuid(&self) -> Option<&str> {
        self.event_uuid.get(&self.raw)
    }

    /// `data.event.type` of a PushTopic event: `created`, `updated`, `deleted` or `undeleted`.
    #[must_use]
    pub fn pushtopic_event_type(&self) -> Option<&str> {
        self.event_type.get(&self.raw)
    }

    /// `data.schema` (Platform Events and Change Data Capture).
    #[must_use]
    pub fn schema(&self) -> Option<&str> {
        self.schema.get(&self.raw)
    }

    /// When the event was created, whatever the kind writes: `data.event.createdDate`
    /// (PushTopic, generic), `data.payload.CreatedDate` (Platform Event), both RFC 3339, or
    /// `ChangeEventHeader.commitTimestamp` (Change Data Capture, epoch milliseconds). `None`
    /// when the event carries none, or one that does not read as a date.
    #[must_use]
    pub fn created_date(&self) -> Option<Timestamp> {
        if let Some(d) = self.event_date.get(&self.raw) {
            return Timestamp::parse_rfc3339(d);
        }
        match self.kind {
            EventKind::ChangeDataCapture => self
                .change_event_header()
                .and_then(|h| h.commit_timestamp)
                .and_then(Timestamp::from_unix_millis),
            _ => {
                #[derive(Deserialize)]
                struct P<'a> {
                    #[serde(rename = "CreatedDate", borrow)]
                    created_date: Option<Cow<'a, str>>,
                }
                let json = self.payload_json()?;
                let p = serde_json::from_str::<P<'_>>(json.get()).ok()?;
                Timestamp::parse_rfc3339(&p.created_date?)
            }
        }
    }

    /// The message exactly as the server sent it.
    #[must_use]
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The whole `data` member as a JSON value.
    pub fn data(&self) -> Result<serde_json::Value, serde_json::Error> {
        #[derive(Deserialize)]
        struct M {
            #[serde(default)]
            data: serde_json::Value,
        }
        serde_json::from_str::<M>(&self.raw).map(|m| m.data)
    }

    /// The event's content deserialized into `T`, for every kind: `data.sobject` of a PushTopic
    /// event (the record's fields the PushTopic selects), `data.payload` of a Platform Event, a
    /// Change Data Capture event (its fields and `ChangeEventHeader`) or a generic event (a
    /// string), and `data` of a plain Bayeux message. One reading of the message, straight
    /// into `T`.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self.kind {
            EventKind::PushTopic => {
                #[derive(Deserialize)]
                struct D<T> {
                    sobject: T,
                }
                #[derive(Deserialize)]
                struct M<T> {
                    data: D<T>,
                }
                serde_json::from_str::<M<T>>(&self.raw).map(|m| m.data.sobject)
            }
            EventKind::Bayeux => {
                #[derive(Deserialize)]
                struct M<T> {
                    data: T,
                }
                serde_json::from_str::<M<T>>(&self.raw).map(|m| m.data)
            }
            _ => {
                #[derive(Deserialize)]
                struct D<T> {
                    payload: T,
                }
                #[derive(Deserialize)]
                struct M<T> {
                    data: D<T>,
                }
                serde_json::from_str::<M<T>>(&self.raw).map(|m| m.data.payload)
            }
        }
    }

    /// The same as [`payload`](Self::payload), under its former name.
    #[deprecated(since = "0.2.0", note = "use `payload`, which now reads every kind")]
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.payload()
    }

    /// The JSON text of the event's content (the part [`payload`](Self::payload) reads),
    /// borrowed from the message as the server wrote it: nothing is copied or parsed into a
    /// `Value`. `None` when the message has no such part. `.get()` gives the text; hand it to
    /// another parser, store it, or forward it as is.
    #[must_use]
    pub fn payload_json(&self) -> Option<&RawValue> {
        #[derive(Deserialize)]
        struct M<'a> {
            #[serde(borrow)]
            data: Option<&'a RawValue>,
        }
        #[derive(Deserialize)]
        struct D<'a> {
            #[serde(borrow)]
            sobject: Option<&'a RawValue>,
            #[serde(borrow)]
            payload: Option<&'a RawValue>,
        }
        let data = serde_json::from_str::<M<'_>>(&self.raw).ok()?.data?;
        if self.kind == EventKind::Bayeux {
            return Some(data);
        }
        let d = serde_json::from_str::<D<'_>>(data.get()).ok()?;
        match self.kind {
            EventKind::PushTopic => d.sobject,
            _ => d.payload,
        }
    }

    /// The `ChangeEventHeader` of a Change Data Capture event.
    #[must_use]
    pub fn change_event_header(&self) -> Option<ChangeEventHeader> {
        #[derive(Deserialize)]
        struct P {
            #[serde(rename = "ChangeEventHeader")]
            header: ChangeEventHeader,
        }
        self.payload::<P>().ok().map(|p| p.header)
    }
}

/// The header of a Change Data Capture event. Numbers are exact (`commitNumber` can exceed 2^53).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ChangeEventHeader {
    /// The object, e.g. `Account`.
    pub entity_name: Option<String>,
    /// The changed records.
    #[serde(default)]
    pub record_ids: Vec<String>,
    /// `CREATE`, `UPDATE`, `DELETE`, `UNDELETE`, or a `GAP_…` / `GAP_OVERFLOW` type.
    pub change_type: Option<String>,
    /// What made the change.
    pub change_origin: Option<String>,
    /// The transaction's key.
    pub transaction_key: Option<String>,
    /// Position within the transaction.
    pub sequence_number: Option<i64>,
    /// Whether this is the transaction's last event.
    pub is_transaction_end: Option<bool>,
    /// Epoch milliseconds of the commit.
    pub commit_timestamp: Option<i64>,
    /// The commit's system change number, exact.
    pub commit_number: Option<u64>,
    /// Who committed.
    pub commit_user: Option<String>,
    /// Fields set to null.
    #[serde(default)]
    pub nulled_fields: Vec<String>,
    /// Fields whose diff is sent instead of the value.
    #[serde(default)]
    pub diff_fields: Vec<String>,
    /// Fields that changed (UPDATE).
    #[serde(default)]
    pub changed_fields: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a decoded message says, to compare two decodings.
    fn summary(m: &Message, p: Option<DecodeProblem>) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {p:?}",
            m.replay_id(),
            m.event_uuid(),
            m.schema(),
            m.pushtopic_event_type(),
            m.event_date.get(&m.raw),
            m.raw_json(),
        )
    }

    /// The lenient one-pass reading of `data` gives what the strict serde derive reading gives.
    #[test]
    fn lenient_envelope_matches_the_strict_one() {
        let messages = [
            r#"{"channel":"/event/E__e","data":{"schema":"s1","payload":{"x":[1,{"y":"}"}]},"event":{"EventUuid":"u-1","replayId":42}}}"#,
            r#"{"channel":"/event/E__e","data":{"schema":"s\u0031","event":{"EventUuid":"u\"1","replayId":"43"}}}"#,
            r#"{"channel":"/topic/T","data":{"event":{"createdDate":"2024-01-01T00:00:00Z","replayId":7,"type":"updated"},"sobject":{"Id":"001"}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":18446744073709551615}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":-3}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":2.0}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":true}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":null}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":{"a":1}}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":null,"schema":null}}"#,
            r#"{"channel":"/event/E__e","data":{}}"#,
            r#"{"channel":"/event/E__e","data":{"event":[5,"date","uuid"]}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":1,"EventUuid":5}}}"#,
            r#"{"channel":"/event/E__e","data":{"event":{"replayId":1,"replayId":2}}}"#,
            r#"{"channel":"/event/E__e","data":{"schema":"a","schema":"b"}}"#,
            r#"{"channel":"/event/E__e","data":{"ev\u0065nt":{"replayId":9}}}"#,
            r#"{"channel":"/event/E__e","data":"a string"}"#,
            r#"{"channel":"/u/notifications","data":{"event":{"replayId":3},"payload":"p"}}"#,
            r#"{"channel":"/custom","data":[1]}"#,
        ];
        for raw in messages {
            let m: crate::bayeux::Incoming<'_> = serde_json::from_str(raw).unwrap();
            let channel: Arc<str> = Arc::from(&*m.channel);
            for uses_replay in [true, false] {
                let (fast, p) = Message::decode(channel.clone(), raw, m.data.as_ref(), uses_replay);
                let strict = m.data.as_ref().map(|d| Data {
                    object: d.object,
                    malformed: true,
                    ..Data::default()
                });
                let (slow, q) = Message::decode(channel.clone(), raw, strict.as_ref(), uses_replay);
                assert_eq!(summary(&fast, p), summary(&slow, q), "{raw}");
            }
        }
    }
}
