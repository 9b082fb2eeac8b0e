//! Publishing: `Publish` (unary) and `PublishStream`, with the topic's current schema
//! (`GetTopic`, then `GetSchema`), Avro encoding of JSON or serde values, and a result per event.
//!
//! ```text
//!  publish ──▶ queued ──topic info, schema──▶ encoded into requests (≤ 200 events, ≤ 3 MiB)
//!                 │ topic not publishable           │ token valid
//!                 ▼                                 ▼
//!           PublishFailed                 sent ──results──▶ Published (one outcome per event)
//!                                           │ UNAUTHENTICATED: sent again with a new token
//!                                           └ other failures: the events' outcome is the failure
//! ```
//!
//! Every event carries a correlation key (the application's event id, or a generated UUID), by
//! which `PublishStream` results, whose order the server does not promise, find their event.
//! Events are never sent twice on the session's own initiative, except after
//! `UNAUTHENTICATED`, which the server answers before it reads anything.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::backoff::Backoff;
use crate::pubsub::proto::{ProducerEvent, TopicInfo};

use super::call::CallId;
use super::replay::ReplayId;

mod results;
mod send;

/// The most events the session puts in one `PublishRequest` (Salesforce's advice).
pub const MAX_EVENTS_PER_REQUEST: usize = 200;
/// The most payload bytes the session puts in one `PublishRequest` (Salesforce advises ≤ 3 MB; a
/// request over 4 MB fails as a whole).
pub const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;
/// The longest correlation key (event id) Salesforce accepts.
pub const MAX_EVENT_ID_LEN: usize = 36;

/// Identifies one [`PubSubSession::publish`](crate::pubsub::PubSubSession::publish) call; its
/// outcome comes as [`PubSubEvent::Published`](crate::pubsub::PubSubEvent::Published) or
/// [`PubSubEvent::PublishFailed`](crate::pubsub::PubSubEvent::PublishFailed) with this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublishId(pub(crate) u64);

impl PublishId {
    /// The number behind the id.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for PublishId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "publish#{}", self.0)
    }
}

/// One event to publish: its fields as JSON, encoded with the topic's current schema.
///
/// `CreatedDate` and `CreatedById`, which Salesforce requires, are filled in when the payload
/// lacks them and the schema has them: the current time in epoch milliseconds, and the user of
/// the token (known when the token response names it).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PublishEvent {
    /// The event's id, at most 36 characters (a UUID is advised), returned as the result's
    /// correlation key. `None`: the session generates a UUID.
    pub id: Option<String>,
    /// The fields.
    pub payload: Value,
}

impl PublishEvent {
    /// An event from its fields.
    #[must_use]
    pub fn new(payload: Value) -> Self {
        Self { id: None, payload }
    }

    /// An event from its fields, with its id.
    #[must_use]
    pub fn with_id(id: impl Into<String>, payload: Value) -> Self {
        Self {
            id: Some(id.into()),
            payload,
        }
    }

    /// An event from any serializable value (a struct whose fields are the event's).
    ///
    /// # Errors
    /// When the value cannot be serialized to JSON.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::new(serde_json::to_value(value)?))
    }
}

/// The outcome of one published event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishOutcome {
    /// The event's id as given, or the one generated for it.
    pub correlation_key: String,
    /// The new event's replay id, or why it was not published.
    pub result: Result<ReplayId, PublishFailure>,
}

/// Why one event was not published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishFailure {
    /// The server refused the event (`PublishResult.error`, e.g. an event over 1 MB).
    #[error("refused by the server (error code {code}): {message}")]
    Refused {
        /// `eventbus.v1.ErrorCode` (1 = PUBLISH).
        code: i32,
        /// The server's message.
        message: String,
    },
    /// The event does not fit the topic's schema.
    #[error("it does not fit the topic's schema: {0}")]
    Encode(String),
    /// The call that carried it failed: the server may or may not have taken it.
    #[error("the call that carried it failed ({0}); whether the server took it is unknown")]
    Call(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Unary,
    Stream,
}

#[derive(Debug)]
struct Queued {
    id: PublishId,
    topic: String,
    events: Vec<PublishEvent>,
    via: Via,
}

/// Events encoded into one request.
#[derive(Debug, Clone)]
struct Chunk {
    id: PublishId,
    topic: String,
    via: Via,
    /// The events' places in their publish.
    indices: Vec<usize>,
    events: Vec<ProducerEvent>,
}

#[derive(Debug)]
struct Batch {
    topic: String,
    keys: Vec<String>,
    results: Vec<Option<Result<ReplayId, PublishFailure>>>,
}

/// What is known of a topic, for publishing and for `get_topic`. `report`: the application
/// asked, and gets the answer as an event.
#[derive(Debug, Clone)]
enum Info {
    Wanted { at: Instant, report: bool },
    Fetching { call: CallId, report: bool },
    Known(TopicInfo),
}

#[derive(Debug)]
struct PublishStream {
    call: CallId,
    responses: u64,
    /// Outstanding events by correlation key, oldest first.
    keys: BTreeMap<String, VecDeque<(PublishId, usize)>>,
    /// The requests sent, to send again after a refused token.
    sent: Vec<Chunk>,
}

/// The publishing side of the session.
#[derive(Debug)]
pub(super) struct Publisher {
    next: u64,
    queue: VecDeque<Queued>,
    outbox: VecDeque<Chunk>,
    batches: BTreeMap<PublishId, Batch>,
    info: BTreeMap<String, Info>,
    unary: BTreeMap<CallId, Chunk>,
    streams: BTreeMap<String, PublishStream>,
    backoff: Backoff,
}

impl Publisher {
    pub(super) fn new(backoff: Backoff) -> Self {
        Self {
            next: 1,
            queue: VecDeque::new(),
            outbox: VecDeque::new(),
            batches: BTreeMap::new(),
            info: BTreeMap::new(),
            unary: BTreeMap::new(),
            streams: BTreeMap::new(),
            backoff,
        }
    }

    pub(super) fn next_wake(&self) -> Option<Instant> {
        self.info
            .values()
            .filter_map(|i| match i {
                Info::Wanted { at, .. } => Some(*at),
                _ => None,
            })
            .min()
    }
}
