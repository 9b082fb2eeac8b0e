//! Publishing, the sending side: the commands, the topic information and schema a publish
//! needs, the encoding of its events into requests, and the calls that carry them.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use serde_json::Value;

use crate::pubsub::avro::Schema;
use crate::pubsub::frame::encode_message;
use crate::pubsub::proto::{ProducerEvent, PublishRequest, TopicRequest};

use super::super::call::CallKind;
use super::super::calls::Route;
use super::super::error::PubSubError;
use super::super::event::PubSubEvent;
use super::super::request::{call_head, uuid_v4};
use super::super::schema::Lookup;
use super::super::{PubSubSession, check_topic};
use super::{
    Batch, Chunk, Info, MAX_EVENT_ID_LEN, MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES, PublishEvent,
    PublishFailure, PublishId, PublishStream, Queued, Via,
};

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

    pub(super) fn request_topic_info(&mut self, topic: &str, report: bool, now: Instant) {
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
    pub(in crate::pubsub::session) fn drive_publishes(&mut self, now: Instant) {
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
}
