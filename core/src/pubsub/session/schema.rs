//! Writer schemas, fetched once per schema id (`GetSchema`) and kept: schemas never change under
//! an id. Events whose schema is not here yet wait for it, in order, and so does every later
//! event of their topic.

use std::collections::BTreeMap;
use std::time::Instant;

use prost::Message as _;

use crate::backoff::Backoff;
use crate::pubsub::PubSubErrorClass;
use crate::pubsub::avro::Schema;
use crate::pubsub::frame::encode_message;
use crate::pubsub::proto::{SchemaInfo, SchemaRequest};

use super::PubSubSession;
use super::call::{CallId, CallKind};
use super::calls::{CallEnd, Route};
use super::error::PubSubError;
use super::event::PubSubEvent;
use super::message::RawEvent;
use super::request::call_head;

#[derive(Debug)]
enum Entry {
    /// To fetch (at `retry_at`, after a failure).
    Missing {
        retry_at: Option<Instant>,
    },
    Fetching(CallId),
    Ready(Schema),
    /// It cannot be had (no access, not valid Avro): its events are delivered undecoded.
    Unusable(String),
}

/// What is known of a schema id.
pub(super) enum Lookup<'a> {
    Ready(&'a Schema),
    Unusable(&'a str),
    Pending,
}

/// The schema cache.
#[derive(Debug)]
pub(super) struct Schemas {
    entries: BTreeMap<String, Entry>,
    backoff: Backoff,
}

impl Schemas {
    pub(super) fn new(backoff: Backoff) -> Self {
        Self {
            entries: BTreeMap::new(),
            backoff,
        }
    }

    pub(super) fn lookup(&self, schema_id: &str) -> Lookup<'_> {
        match self.entries.get(schema_id) {
            Some(Entry::Ready(schema)) => Lookup::Ready(schema),
            Some(Entry::Unusable(why)) => Lookup::Unusable(why),
            _ => Lookup::Pending,
        }
    }

    /// Asks for a schema, unless it is known or on its way.
    pub(super) fn want(&mut self, schema_id: &str) {
        if !self.entries.contains_key(schema_id) {
            self.entries
                .insert(schema_id.to_owned(), Entry::Missing { retry_at: None });
        }
    }

    pub(super) fn next_wake(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|e| match e {
                Entry::Missing { retry_at } => *retry_at,
                _ => None,
            })
            .min()
    }

    /// How many schemas are cached, usable or not.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl PubSubSession {
    /// Opens a `GetSchema` call for every schema wanted and due.
    pub(super) fn drive_schemas(&mut self, now: Instant) {
        let due: Vec<String> = self
            .schemas
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Missing { retry_at } if retry_at.is_none_or(|t| t <= now)))
            .map(|(id, _)| id.clone())
            .collect();
        for schema_id in due {
            let request = SchemaRequest {
                schema_id: schema_id.clone(),
            };
            let Some(call) = self.open_unary(Route::Schema(schema_id.clone()), &request, now)
            else {
                return;
            };
            self.stats.schema_requests += 1;
            self.schemas
                .entries
                .insert(schema_id, Entry::Fetching(call));
        }
    }

    /// A `GetSchema` call ended.
    pub(super) fn on_schema_end(&mut self, schema_id: String, end: CallEnd, now: Instant) {
        if !matches!(self.schemas.entries.get(&schema_id), Some(Entry::Fetching(c)) if *c == end.call)
        {
            return;
        }
        if end.status.is_ok() {
            self.auth.healthy(end.token_generation);
            self.schemas.backoff.reset();
            let entry = match end.reply.as_deref().map(SchemaInfo::decode) {
                Some(Ok(info)) => match Schema::parse(&info.schema_json) {
                    Ok(schema) => Entry::Ready(schema),
                    Err(e) => {
                        let why = format!("the server's schema {schema_id} is unusable: {e}");
                        self.events
                            .push_back(PubSubEvent::Error(PubSubError::Protocol {
                                kind: CallKind::GetSchema,
                                target: schema_id.clone(),
                                detail: why.clone(),
                            }));
                        Entry::Unusable(why)
                    }
                },
                Some(Err(e)) => {
                    self.events
                        .push_back(PubSubEvent::Error(PubSubError::Protocol {
                            kind: CallKind::GetSchema,
                            target: schema_id.clone(),
                            detail: format!("SchemaInfo does not decode: {e}"),
                        }));
                    self.retry_schema(&schema_id, now);
                    return;
                }
                None => Entry::Missing { retry_at: None },
            };
            self.schemas.entries.insert(schema_id, entry);
            self.release_waiting();
            return;
        }
        let error = PubSubError::Call {
            kind: CallKind::GetSchema,
            target: schema_id.clone(),
            status: end.status.clone(),
        };
        match end.status.class() {
            PubSubErrorClass::Auth => {
                self.schemas
                    .entries
                    .insert(schema_id, Entry::Missing { retry_at: None });
                self.auth_refused(end.token_generation, error, now);
            }
            PubSubErrorClass::Topic
            | PubSubErrorClass::Config
            | PubSubErrorClass::DeliveryLimit => {
                let why = error.to_string();
                self.events.push_back(PubSubEvent::Error(error));
                self.schemas.entries.insert(schema_id, Entry::Unusable(why));
                self.release_waiting();
            }
            _ => {
                self.events.push_back(PubSubEvent::Error(error));
                self.retry_schema(&schema_id, now);
            }
        }
    }

    fn retry_schema(&mut self, schema_id: &str, now: Instant) {
        let after = self.schemas.backoff.next_delay(false);
        self.schemas.entries.insert(
            schema_id.to_owned(),
            Entry::Missing {
                retry_at: Some(now + after),
            },
        );
    }

    /// Takes in an event of `topic`: ready at once if its schema is known and nothing of the topic
    /// waits before it, else in the topic's waiting line.
    pub(super) fn accept_raw(&mut self, topic: &str, raw: RawEvent) {
        let Some(t) = self.topics.get_mut(topic) else {
            return;
        };
        t.buffered += 1;
        if !t.waiting.is_empty() {
            t.waiting.push_back(raw);
            return;
        }
        match self.schemas.lookup(&raw.schema_id) {
            Lookup::Pending => {
                self.schemas.want(&raw.schema_id);
                if let Some(t) = self.topics.get_mut(topic) {
                    t.waiting.push_back(raw);
                }
            }
            _ => self.make_ready(raw, None),
        }
    }

    /// Moves every waiting event whose schema is now known (or unusable) to the ready queue, in
    /// order per topic.
    pub(super) fn release_waiting(&mut self) {
        let names: Vec<String> = self
            .topics
            .iter()
            .filter(|(_, t)| !t.waiting.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        for name in names {
            while let Some(front) = self.topics.get(&name).and_then(|t| t.waiting.front()) {
                if let Lookup::Pending = self.schemas.lookup(&front.schema_id) {
                    let id = front.schema_id.clone();
                    self.schemas.want(&id);
                    break;
                }
                let Some(raw) = self
                    .topics
                    .get_mut(&name)
                    .and_then(|t| t.waiting.pop_front())
                else {
                    break;
                };
                self.make_ready(raw, None);
            }
        }
        while let Some(front) = self.orphans.front() {
            if let Lookup::Pending = self.schemas.lookup(&front.schema_id) {
                break;
            }
            if let Some(raw) = self.orphans.pop_front() {
                self.make_ready(raw, None);
            }
        }
    }

    /// Delivers every waiting event without its schema (the session is closing).
    pub(super) fn release_all_waiting(&mut self, why: &str) {
        let mut all = Vec::new();
        for t in self.topics.values_mut() {
            all.extend(t.waiting.drain(..));
        }
        all.extend(self.orphans.drain(..));
        for raw in all {
            self.make_ready(raw, Some(why));
        }
    }

    fn make_ready(&mut self, raw: RawEvent, missing: Option<&str>) {
        let schema = match self.schemas.lookup(&raw.schema_id) {
            Lookup::Ready(schema) => Ok(schema),
            Lookup::Unusable(why) => Err(why),
            Lookup::Pending => Err(missing.unwrap_or("the event's schema is not known")),
        };
        let message = raw.into_message(schema, self.config.decode_json);
        if let Some(detail) = message.decode_error() {
            self.stats.undecodable_events += 1;
            self.events
                .push_back(PubSubEvent::Error(PubSubError::Payload {
                    topic: message.topic.clone(),
                    replay_id: message.replay_id.clone(),
                    schema_id: message.schema_id.clone(),
                    detail: detail.to_owned(),
                }));
        }
        self.ready.push_back(message);
    }

    /// Opens a unary call with its one request, if a token is valid.
    pub(super) fn open_unary(
        &mut self,
        route: Route,
        request: &impl prost::Message,
        now: Instant,
    ) -> Option<CallId> {
        let kind = route.kind();
        let metadata = self.auth.metadata()?.clone();
        let trace_id = self.trace_id();
        let head = match call_head(
            &self.endpoint,
            kind,
            &metadata,
            trace_id,
            Some(self.config.request_timeout),
        ) {
            Ok(head) => head,
            Err(e) => {
                self.fatal(e);
                return None;
            }
        };
        let message = match encode_message(request) {
            Ok(m) => m,
            Err(e) => {
                self.fatal(PubSubError::InvalidOperation(format!(
                    "a {} request cannot be framed: {e}",
                    kind.as_str()
                )));
                return None;
            }
        };
        let deadline = now + self.config.request_timeout;
        let generation = self.auth.generation();
        Some(
            self.calls
                .open(route, head, message, Some(deadline), generation, now),
        )
    }
}
