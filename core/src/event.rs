//! Delivered messages: the raw JSON as the server sent it, plus the typed envelope fields of the
//! four Salesforce event kinds, decoded without losing precision.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

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
#[derive(Clone)]
pub struct Message {
    channel: String,
    kind: EventKind,
    replay_id: Option<i64>,
    event_uuid: Option<String>,
    event_date: Option<String>,
    event_type: Option<String>,
    schema: Option<String>,
    raw: Box<RawValue>,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("replay_id", &self.replay_id)
            .field("bytes", &self.raw.get().len())
            .finish()
    }
}

/// The `data.event` object.
#[derive(Deserialize)]
struct EventInfo<'a> {
    #[serde(rename = "replayId", default, deserialize_with = "replay_id_field")]
    replay_id: ReplayIdField,
    #[serde(rename = "createdDate", borrow)]
    created_date: Option<Cow<'a, str>>,
    #[serde(rename = "EventUuid", borrow)]
    event_uuid: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    event_type: Option<Cow<'a, str>>,
}

#[derive(Default)]
enum ReplayIdField {
    #[default]
    Missing,
    Id(i64),
    Invalid,
}

fn replay_id_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ReplayIdField, D::Error> {
    // Read as a number token without going through f64; a string of digits is accepted too.
    let n = serde_json::Value::deserialize(d)?;
    Ok(match n {
        serde_json::Value::Number(n) => {
            n.as_i64().map_or(ReplayIdField::Invalid, ReplayIdField::Id)
        }
        serde_json::Value::String(s) => s.parse().map_or(ReplayIdField::Invalid, ReplayIdField::Id),
        serde_json::Value::Null => ReplayIdField::Missing,
        _ => ReplayIdField::Invalid,
    })
}

#[derive(Deserialize)]
struct DataEnvelope<'a> {
    #[serde(borrow)]
    event: Option<EventInfo<'a>>,
    #[serde(borrow)]
    schema: Option<Cow<'a, str>>,
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
    /// Decodes an event message. `raw` is the whole message, `data` its `data` member.
    pub(crate) fn decode(
        channel: &str,
        raw: &RawValue,
        data: Option<&RawValue>,
        uses_replay: bool,
    ) -> (Self, Option<DecodeProblem>) {
        let kind = EventKind::of_channel(channel);
        let mut msg = Self {
            channel: channel.to_owned(),
            kind,
            replay_id: None,
            event_uuid: None,
            event_date: None,
            event_type: None,
            schema: None,
            raw: raw.to_owned(),
        };
        let Some(data) = data else {
            return (msg, None);
        };
        if !data.get().starts_with('{') {
            // Plain Bayeux data may be anything; Salesforce data is always an object.
            let problem = (kind != EventKind::Bayeux)
                .then(|| DecodeProblem::BadData("`data` is not a JSON object".to_owned()));
            return (msg, problem);
        }
        match serde_json::from_str::<DataEnvelope<'_>>(data.get()) {
            Ok(env) => {
                msg.schema = env.schema.map(Cow::into_owned);
                let mut problem = None;
                if let Some(ev) = env.event {
                    match ev.replay_id {
                        ReplayIdField::Id(id) => msg.replay_id = Some(id),
                        ReplayIdField::Invalid => problem = Some(DecodeProblem::BadReplayId),
                        ReplayIdField::Missing => {}
                    }
                    msg.event_uuid = ev.event_uuid.map(Cow::into_owned);
                    msg.event_date = ev.created_date.map(Cow::into_owned);
                    msg.event_type = ev.event_type.map(Cow::into_owned);
                }
                if uses_replay
                    && msg.replay_id.is_none()
                    && problem.is_none()
                    && kind != EventKind::Bayeux
                {
                    problem = Some(DecodeProblem::BadData(
                        "`data.event.replayId` is missing".to_owned(),
                    ));
                }
                (msg, problem)
            }
            Err(e) => (msg, Some(DecodeProblem::BadData(format!("`data`: {e}")))),
        }
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
        self.event_uuid.as_deref()
    }

    /// `data.event.type` of a PushTopic event: `created`, `updated`, `deleted` or `undeleted`.
    #[must_use]
    pub fn pushtopic_event_type(&self) -> Option<&str> {
        self.event_type.as_deref()
    }

    /// `data.schema` (Platform Events and Change Data Capture).
    #[must_use]
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// When the event was created: `data.event.createdDate` (PushTopic, generic),
    /// `data.payload.CreatedDate` (Platform Event) or `ChangeEventHeader.commitTimestamp`
    /// (Change Data Capture, epoch milliseconds as a string).
    #[must_use]
    pub fn created_date(&self) -> Option<String> {
        if let Some(d) = &self.event_date {
            return Some(d.clone());
        }
        match self.kind {
            EventKind::ChangeDataCapture => self
                .change_event_header()
                .and_then(|h| h.commit_timestamp)
                .map(|t| t.to_string()),
            _ => {
                #[derive(Deserialize)]
                struct P {
                    #[serde(rename = "CreatedDate")]
                    created_date: Option<String>,
                }
                self.payload::<P>().ok().and_then(|p| p.created_date)
            }
        }
    }

    /// The message exactly as the server sent it.
    #[must_use]
    pub fn raw_json(&self) -> &str {
        self.raw.get()
    }

    /// The whole `data` member as a JSON value.
    pub fn data(&self) -> Result<serde_json::Value, serde_json::Error> {
        #[derive(Deserialize)]
        struct M {
            #[serde(default)]
            data: serde_json::Value,
        }
        serde_json::from_str::<M>(self.raw.get()).map(|m| m.data)
    }

    /// `data.payload` (Platform Event, Change Data Capture, generic) deserialized into `T`.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        #[derive(Deserialize)]
        struct D<T> {
            payload: T,
        }
        #[derive(Deserialize)]
        struct M<T> {
            data: D<T>,
        }
        serde_json::from_str::<M<T>>(self.raw.get()).map(|m| m.data.payload)
    }

    /// The event's content deserialized into a user type: `data.sobject` for PushTopic events,
    /// `data.payload` for Platform Events, Change Data Capture and generic events, and `data`
    /// for plain Bayeux messages.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
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
                serde_json::from_str::<M<T>>(self.raw.get()).map(|m| m.data.sobject)
            }
            EventKind::Bayeux => {
                #[derive(Deserialize)]
                struct M<T> {
                    data: T,
                }
                serde_json::from_str::<M<T>>(self.raw.get()).map(|m| m.data)
            }
            _ => self.payload(),
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
