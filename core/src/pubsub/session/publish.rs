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

use prost::Message as _;
use serde::Serialize;
use serde_json::Value;

use crate::backoff::Backoff;
use crate::pubsub::PubSubErrorClass;
use crate::pubsub::avro::Schema;
use crate::pubsub::frame::encode_message;
use crate::pubsub::proto::{
    ProducerEvent, PublishRequest, PublishResponse, TopicInfo, TopicRequest,
};

use super::call::{CallEnd, CallId, CallKind, Route};
use super::error::PubSubError;
use super::event::PubSubEvent;
use super::replay::ReplayId;
use super::request::{call_head, uuid_v4};
use super::schema::Lookup;
use super::{PubSubSession, check_topic};

/// The most events the session puts in one `PublishRequest` (Salesforce's advice).
pub const MAX_EVENTS_PER_REQUEST: usize = 200;
/// The most payload bytes the session puts in one `PublishRequest` (Salesforce advises ≤ 3 MB; a
/// request over 4 MB fails as a whole).
pub const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;
/// The longest correlation key (event id) Salesforce accepts.
pub const MAX_EVENT_ID_LEN: usize = 36;

/// Identifies one [`PubSubSession::publish`] call; its outcome comes as
/// [`PubSubEvent::Published`] or [`PubSubEvent::PublishFailed`] with this id.
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

impl PubSubSession {
    /// Publishes events to a topic with one `Publish` call per request (several requests when
    /// the events are many or large). Their outcome comes as [`PubSubEvent::Published`] (one
    /// result per event) or [`PubSubEvent::PublishFailed`]. Allowed before
    /// [`PubSubSession::open`].
    ///
    /// # Errors
    /// [`PubSubError::InvalidOperation`] for no events, an event id over 36 characters, or a
    /// name that is no topic; [`PubSubError::Closed`] after close.
    pub fn publish(
        &mut self,
        topic: &str,
        events: Vec<PublishEvent>,
        now: Instant,
    ) -> Result<PublishId, PubSubError> {
        self.queue_publish(topic, events, Via::Unary, now)
    }

    /// [`PubSubSession::publish`] on the topic's `PublishStream`, opened on first use and kept
    /// (the server closes it after 70 s without a request; it is opened again when needed).
    ///
    /// # Errors
    /// As [`PubSubSession::publish`].
    pub fn publish_on_stream(
        &mut self,
        topic: &str,
        events: Vec<PublishEvent>,
        now: Instant,
    ) -> Result<PublishId, PubSubError> {
        self.queue_publish(topic, events, Via::Stream, now)
    }

    /// Asks for a topic's information (`GetTopic`): whether the user may publish and subscribe,
    /// and its current schema id. The answer comes as [`PubSubEvent::TopicInfo`] or
    /// [`PubSubEvent::TopicInfoFailed`].
    ///
    /// # Errors
    /// [`PubSubError::InvalidOperation`] for a name that is no topic; [`PubSubError::Closed`].
    pub fn get_topic(&mut self, topic: &str, now: Instant) -> Result<(), PubSubError> {
        self.tick(now);
        self.check_usable()?;
        check_topic(topic)?;
        match self.publisher.info.get_mut(topic) {
            Some(Info::Fetching { report, .. }) => *report = true,
            _ => {
                self.publisher.info.insert(
                    topic.to_owned(),
                    Info::Wanted {
                        at: now,
                        report: true,
                    },
                );
            }
        }
        self.drive(now);
        Ok(())
    }

    fn queue_publish(
        &mut self,
        topic: &str,
        mut events: Vec<PublishEvent>,
        via: Via,
        now: Instant,
    ) -> Result<PublishId, PubSubError> {
        self.tick(now);
        self.check_usable()?;
        check_topic(topic)?;
        if events.is_empty() {
            return Err(PubSubError::InvalidOperation(
                "nothing to publish: give at least one event".into(),
            ));
        }
        for event in &mut events {
            match &event.id {
                Some(id) if id.chars().count() > MAX_EVENT_ID_LEN || id.is_empty() => {
                    return Err(PubSubError::InvalidOperation(format!(
                        "the event id {id:?} must have 1 to {MAX_EVENT_ID_LEN} characters (a \
                         UUID is advised), or be left out to have one generated"
                    )));
                }
                Some(_) => {}
                None => event.id = Some(uuid_v4(&mut self.rng)),
            }
        }
        let id = PublishId(self.publisher.next);
        self.publisher.next += 1;
        self.publisher.queue.push_back(Queued {
            id,
            topic: topic.to_owned(),
            events,
            via,
        });
        self.drive(now);
        Ok(id)
    }

    fn request_topic_info(&mut self, topic: &str, report: bool, now: Instant) {
        let request = TopicRequest {
            topic_name: topic.to_owned(),
        };
        if let Some(call) = self.open_unary(Route::Topic(topic.to_owned()), &request, now) {
            self.stats.topic_requests += 1;
            self.publisher
                .info
                .insert(topic.to_owned(), Info::Fetching { call, report });
        }
    }

    /// Encodes what can be encoded, then sends what is encoded.
    pub(super) fn drive_publishes(&mut self, now: Instant) {
        // Topic information first, for every topic publishes wait on (and `get_topic`s that
        // wait for a token).
        for queued in &self.publisher.queue {
            if !self.publisher.info.contains_key(&queued.topic) {
                self.publisher.info.insert(
                    queued.topic.clone(),
                    Info::Wanted {
                        at: now,
                        report: false,
                    },
                );
            }
        }
        let due: Vec<(String, bool)> = self
            .publisher
            .info
            .iter()
            .filter_map(|(t, i)| match i {
                Info::Wanted { at, report } if *at <= now => Some((t.clone(), *report)),
                _ => None,
            })
            .collect();
        for (topic, report) in due {
            self.request_topic_info(&topic, report, now);
        }
        let mut still = VecDeque::new();
        while let Some(queued) = self.publisher.queue.pop_front() {
            let Some(Info::Known(info)) = self.publisher.info.get(&queued.topic) else {
                still.push_back(queued);
                continue;
            };
            if !info.can_publish {
                let error = PubSubError::InvalidOperation(format!(
                    "{} cannot be published to by this user (change event topics never can)",
                    queued.topic
                ));
                self.events.push_back(PubSubEvent::PublishFailed {
                    id: queued.id,
                    topic: queued.topic,
                    error,
                });
                continue;
            }
            let schema_id = info.schema_id.clone();
            match self.schemas.lookup(&schema_id) {
                Lookup::Pending => {
                    self.schemas.want(&schema_id);
                    still.push_back(queued);
                }
                Lookup::Unusable(why) => {
                    let error = PubSubError::InvalidOperation(format!(
                        "the schema {schema_id} of {} cannot be had: {why}",
                        queued.topic
                    ));
                    self.events.push_back(PubSubEvent::PublishFailed {
                        id: queued.id,
                        topic: queued.topic,
                        error,
                    });
                }
                Lookup::Ready(schema) => {
                    let schema = schema.clone();
                    self.encode(queued, &schema, &schema_id, now);
                }
            }
        }
        self.publisher.queue = still;
        self.drive_schemas(now);
        self.send_outbox(now);
    }

    fn encode(&mut self, queued: Queued, schema: &Schema, schema_id: &str, now: Instant) {
        let fields = schema.field_names();
        let created_date = fields.contains(&"CreatedDate");
        let created_by = fields.contains(&"CreatedById");
        let now_ms = self
            .wall(now)
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let user_id = self.auth.user_id().map(str::to_owned);
        let mut keys = Vec::with_capacity(queued.events.len());
        let mut results = Vec::with_capacity(queued.events.len());
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut size = 0;
        for (index, event) in queued.events.into_iter().enumerate() {
            let key = event.id.unwrap_or_default();
            keys.push(key.clone());
            let mut payload = event.payload;
            if let Value::Object(map) = &mut payload {
                if created_date && map.get("CreatedDate").is_none_or(Value::is_null) {
                    map.insert("CreatedDate".into(), Value::from(now_ms));
                }
                if let (true, Some(user)) = (created_by, &user_id) {
                    if map.get("CreatedById").is_none_or(Value::is_null) {
                        map.insert("CreatedById".into(), Value::from(user.clone()));
                    }
                }
            }
            let datum = match schema.encode_json(&payload) {
                Ok(d) => d,
                Err(e) => {
                    self.stats.events_refused += 1;
                    results.push(Some(Err(PublishFailure::Encode(e.to_string()))));
                    continue;
                }
            };
            results.push(None);
            let start_new = chunks.last().is_none_or(|c| {
                c.events.len() >= MAX_EVENTS_PER_REQUEST || size + datum.len() > MAX_REQUEST_BYTES
            });
            if start_new {
                size = 0;
                chunks.push(Chunk {
                    id: queued.id,
                    topic: queued.topic.clone(),
                    via: queued.via,
                    indices: Vec::new(),
                    events: Vec::new(),
                });
            }
            size += datum.len();
            if let Some(chunk) = chunks.last_mut() {
                chunk.indices.push(index);
                chunk.events.push(ProducerEvent {
                    id: key,
                    schema_id: schema_id.to_owned(),
                    payload: datum.into(),
                    headers: Vec::new(),
                });
            }
        }
        self.publisher.batches.insert(
            queued.id,
            Batch {
                topic: queued.topic,
                keys,
                results,
            },
        );
        self.publisher.outbox.extend(chunks);
        self.complete_if_done(queued.id);
    }

    fn send_outbox(&mut self, now: Instant) {
        while self.auth.is_valid() {
            let Some(chunk) = self.publisher.outbox.pop_front() else {
                return;
            };
            let request = PublishRequest {
                topic_name: chunk.topic.clone(),
                events: chunk.events.clone(),
                auth_refresh: String::new(),
            };
            match chunk.via {
                Via::Unary => {
                    let Some(call) = self.open_unary(Route::Publish(chunk.id), &request, now)
                    else {
                        self.publisher.outbox.push_front(chunk);
                        return;
                    };
                    self.publisher.unary.insert(call, chunk);
                }
                Via::Stream => {
                    if !self.send_on_stream(&chunk, &request, now) {
                        self.publisher.outbox.push_front(chunk);
                        return;
                    }
                }
            }
            self.stats.publish_requests += 1;
        }
    }

    fn send_on_stream(&mut self, chunk: &Chunk, request: &PublishRequest, now: Instant) -> bool {
        let Ok(message) = encode_message(request) else {
            return false;
        };
        let call = match self.publisher.streams.get(&chunk.topic) {
            Some(stream) => {
                self.calls.send(stream.call, message);
                stream.call
            }
            None => {
                let Some(metadata) = self.auth.metadata().cloned() else {
                    return false;
                };
                let trace_id = self.trace_id();
                let head = match call_head(
                    &self.endpoint,
                    CallKind::PublishStream,
                    &metadata,
                    trace_id,
                    None,
                ) {
                    Ok(h) => h,
                    Err(e) => {
                        self.fatal(e);
                        return false;
                    }
                };
                let generation = self.auth.generation();
                let call = self.calls.open(
                    Route::PublishStream(chunk.topic.clone()),
                    head,
                    message,
                    None,
                    generation,
                    now,
                );
                self.publisher.streams.insert(
                    chunk.topic.clone(),
                    PublishStream {
                        call,
                        responses: 0,
                        keys: BTreeMap::new(),
                        sent: Vec::new(),
                    },
                );
                call
            }
        };
        if let Some(stream) = self.publisher.streams.get_mut(&chunk.topic) {
            debug_assert_eq!(stream.call, call);
            for (event, index) in chunk.events.iter().zip(&chunk.indices) {
                stream
                    .keys
                    .entry(event.id.clone())
                    .or_default()
                    .push_back((chunk.id, *index));
            }
            stream.sent.push(chunk.clone());
        }
        true
    }

    /// A `GetTopic` call ended.
    pub(super) fn on_topic_end(&mut self, topic: String, end: CallEnd, now: Instant) {
        let Some(Info::Fetching { call, report }) = self.publisher.info.get(&topic).cloned() else {
            return;
        };
        if call != end.call {
            return;
        }
        let outcome = if end.status.is_ok() {
            match end.reply.as_deref().map(TopicInfo::decode) {
                Some(Ok(info)) => Ok(info),
                _ => Err(PubSubError::Protocol {
                    kind: CallKind::GetTopic,
                    target: topic.clone(),
                    detail: "TopicInfo does not decode".into(),
                }),
            }
        } else {
            Err(PubSubError::Call {
                kind: CallKind::GetTopic,
                target: topic.clone(),
                status: end.status.clone(),
            })
        };
        match outcome {
            Ok(info) => {
                self.auth.healthy(end.token_generation);
                self.publisher.backoff.reset();
                if report {
                    self.events.push_back(PubSubEvent::TopicInfo {
                        topic: topic.clone(),
                        info: info.clone(),
                    });
                }
                self.publisher.info.insert(topic, Info::Known(info));
            }
            Err(error) => {
                let class = error.class();
                if class == Some(PubSubErrorClass::Auth) {
                    self.publisher
                        .info
                        .insert(topic, Info::Wanted { at: now, report });
                    self.auth_refused(end.token_generation, error, now);
                    return;
                }
                if report {
                    self.events.push_back(PubSubEvent::TopicInfoFailed {
                        topic: topic.clone(),
                        error: error.clone(),
                    });
                }
                let waiting = self.publisher.queue.iter().any(|q| q.topic == topic);
                let retry = matches!(
                    class,
                    Some(
                        PubSubErrorClass::Transient
                            | PubSubErrorClass::Resubscribe
                            | PubSubErrorClass::Limit
                    )
                );
                if waiting && retry {
                    let after = self.publisher.backoff.next_delay(false);
                    self.publisher.info.insert(
                        topic,
                        Info::Wanted {
                            at: now + after,
                            report: false,
                        },
                    );
                } else {
                    self.publisher.info.remove(&topic);
                    self.fail_queued(&topic, &error);
                }
            }
        }
    }

    fn fail_queued(&mut self, topic: &str, error: &PubSubError) {
        let (failed, kept): (VecDeque<Queued>, VecDeque<Queued>) =
            std::mem::take(&mut self.publisher.queue)
                .into_iter()
                .partition(|q| q.topic == topic);
        self.publisher.queue = kept;
        for q in failed {
            self.events.push_back(PubSubEvent::PublishFailed {
                id: q.id,
                topic: q.topic,
                error: error.clone(),
            });
        }
    }

    /// A unary `Publish` call ended.
    pub(super) fn on_publish_end(&mut self, end: CallEnd, now: Instant) {
        let Some(chunk) = self.publisher.unary.remove(&end.call) else {
            return;
        };
        if end.status.is_ok() {
            self.auth.healthy(end.token_generation);
            match end.reply.as_deref().map(PublishResponse::decode) {
                Some(Ok(response)) => self.apply_results(&chunk, response),
                _ => self.fail_chunk(&chunk, "the PublishResponse does not decode"),
            }
            return;
        }
        let error = PubSubError::Call {
            kind: CallKind::Publish,
            target: chunk.topic.clone(),
            status: end.status.clone(),
        };
        if end.status.class() == PubSubErrorClass::Auth {
            // Refused before anything was read: sent again with the new token.
            self.publisher.outbox.push_front(chunk);
            self.auth_refused(end.token_generation, error, now);
        } else {
            self.fail_chunk(&chunk, &error.to_string());
        }
    }

    /// A message on a topic's `PublishStream`.
    pub(super) fn on_publish_stream_message(
        &mut self,
        topic: &str,
        call: CallId,
        bytes: bytes::Bytes,
    ) {
        let Some(stream) = self
            .publisher
            .streams
            .get_mut(topic)
            .filter(|s| s.call == call)
        else {
            return;
        };
        stream.responses += 1;
        let response = match PublishResponse::decode(bytes) {
            Ok(r) => r,
            Err(e) => {
                self.events
                    .push_back(PubSubEvent::Error(PubSubError::Protocol {
                        kind: CallKind::PublishStream,
                        target: topic.to_owned(),
                        detail: format!("a PublishResponse does not decode: {e}"),
                    }));
                return;
            }
        };
        // A response without results is the stream's keepalive.
        let mut done = Vec::new();
        for result in response.results {
            let Some(queue) = stream.keys.get_mut(&result.correlation_key) else {
                continue;
            };
            let Some((id, index)) = queue.pop_front() else {
                continue;
            };
            if queue.is_empty() {
                stream.keys.remove(&result.correlation_key);
            }
            let outcome = outcome_of(result.error, result.replay_id);
            if let Some(batch) = self.publisher.batches.get_mut(&id) {
                if let Some(slot) = batch.results.get_mut(index) {
                    *slot = Some(outcome);
                }
            }
            done.push(id);
        }
        for id in done {
            self.complete_if_done(id);
        }
    }

    /// A topic's `PublishStream` ended: events without a result fail (sent again with a new token
    /// if the stream was refused before it answered anything).
    pub(super) fn on_publish_stream_end(&mut self, topic: &str, end: CallEnd, now: Instant) {
        if self
            .publisher
            .streams
            .get(topic)
            .is_none_or(|s| s.call != end.call)
        {
            return;
        }
        let Some(stream) = self.publisher.streams.remove(topic) else {
            return;
        };
        if stream.keys.is_empty() {
            return; // the server's idle close, or a close after every result
        }
        let error = PubSubError::Call {
            kind: CallKind::PublishStream,
            target: topic.to_owned(),
            status: end.status.clone(),
        };
        if end.status.class() == PubSubErrorClass::Auth && stream.responses == 0 {
            for chunk in stream.sent.into_iter().rev() {
                self.publisher.outbox.push_front(chunk);
            }
            self.auth_refused(end.token_generation, error, now);
            return;
        }
        let text = if end.status.is_ok() {
            "the stream ended before the server answered for the event".to_owned()
        } else {
            error.to_string()
        };
        let mut ids = Vec::new();
        for (id, index) in stream.keys.into_values().flatten() {
            if let Some(slot) = self
                .publisher
                .batches
                .get_mut(&id)
                .and_then(|b| b.results.get_mut(index))
            {
                *slot = Some(Err(PublishFailure::Call(text.clone())));
            }
            ids.push(id);
        }
        for id in ids {
            self.complete_if_done(id);
        }
    }

    fn apply_results(&mut self, chunk: &Chunk, response: PublishResponse) {
        let mut results = response.results.into_iter();
        if let Some(batch) = self.publisher.batches.get_mut(&chunk.id) {
            for (event, index) in chunk.events.iter().zip(&chunk.indices) {
                // Results come in the order of the request's events; a missing one fails its
                // event rather than leave the publish waiting forever.
                let outcome = match results.next() {
                    Some(r) if r.correlation_key.is_empty() || r.correlation_key == event.id => {
                        outcome_of(r.error, r.replay_id)
                    }
                    Some(r) => Err(PublishFailure::Call(format!(
                        "the server's result names the event {:?}, not {:?}",
                        r.correlation_key, event.id
                    ))),
                    None => Err(PublishFailure::Call(
                        "the server returned no result for the event".into(),
                    )),
                };
                if let Some(slot) = batch.results.get_mut(*index) {
                    *slot = Some(outcome);
                }
            }
        }
        self.complete_if_done(chunk.id);
    }

    fn fail_chunk(&mut self, chunk: &Chunk, why: &str) {
        if let Some(batch) = self.publisher.batches.get_mut(&chunk.id) {
            for index in &chunk.indices {
                if let Some(slot) = batch.results.get_mut(*index) {
                    *slot = Some(Err(PublishFailure::Call(why.to_owned())));
                }
            }
        }
        self.complete_if_done(chunk.id);
    }

    /// Emits a publish's outcome once every event has one.
    fn complete_if_done(&mut self, id: PublishId) {
        let complete = self
            .publisher
            .batches
            .get(&id)
            .is_some_and(|b| b.results.iter().all(Option::is_some));
        if !complete {
            return;
        }
        let Some(batch) = self.publisher.batches.remove(&id) else {
            return;
        };
        let results: Vec<PublishOutcome> = batch
            .keys
            .into_iter()
            .zip(batch.results)
            .map(|(correlation_key, result)| PublishOutcome {
                correlation_key,
                result: result.unwrap_or_else(|| Err(PublishFailure::Call("no result".into()))),
            })
            .collect();
        for r in &results {
            match &r.result {
                Ok(_) => self.stats.events_published += 1,
                Err(PublishFailure::Refused { .. }) => self.stats.events_refused += 1,
                Err(_) => {}
            }
        }
        self.events.push_back(PubSubEvent::Published {
            id,
            topic: batch.topic,
            results,
        });
    }

    /// Fails every publish (the session is closing).
    pub(super) fn fail_all_publishes(&mut self, error: PubSubError) {
        for q in std::mem::take(&mut self.publisher.queue) {
            self.events.push_back(PubSubEvent::PublishFailed {
                id: q.id,
                topic: q.topic,
                error: error.clone(),
            });
        }
        self.publisher.outbox.clear();
        self.publisher.unary.clear();
        self.publisher.streams.clear();
        let text = error.to_string();
        let ids: Vec<PublishId> = self.publisher.batches.keys().copied().collect();
        for id in ids {
            if let Some(batch) = self.publisher.batches.get_mut(&id) {
                for slot in &mut batch.results {
                    slot.get_or_insert_with(|| Err(PublishFailure::Call(text.clone())));
                }
            }
            self.complete_if_done(id);
        }
    }
}

fn outcome_of(
    error: Option<crate::pubsub::proto::Error>,
    replay_id: bytes::Bytes,
) -> Result<ReplayId, PublishFailure> {
    match error {
        Some(e) => Err(PublishFailure::Refused {
            code: e.code,
            message: e.msg,
        }),
        None if replay_id.is_empty() => Err(PublishFailure::Refused {
            code: 0,
            message: "the server returned neither a replay id nor an error".into(),
        }),
        None => Ok(ReplayId::new(replay_id)),
    }
}
