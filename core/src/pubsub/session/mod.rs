//! The Pub/Sub API session: one deterministic state machine for the gRPC API, beside the
//! Streaming API's [`Session`](crate::Session), sharing its OAuth, backoff, commit policy and
//! replay fallback.
//!
//! It speaks gRPC as bytes. It asks for token requests as [`Transmit`]s (plain HTTP, as the
//! Streaming API does) and for gRPC calls as [`CallOp`]s: open a call (an HTTP/2 stream), send
//! a framed message, half-close, cancel. The adapter carries them and reports back what the
//! server sent: the response head, DATA in chunks of any size, the trailers, a reset.
//!
//! ## The run loop contract
//!
//! After **every** input (`handle_*`) and every command ([`PubSubSession::open`],
//! [`PubSubSession::subscribe`], [`PubSubSession::publish`], [`PubSubSession::commit`],
//! [`PubSubSession::poll_message`], …), drain the outputs:
//!
//! 1. [`PubSubSession::poll_transmit`] until `None`: send each token request, report its outcome
//!    with [`PubSubSession::handle_response`] or [`PubSubSession::handle_transport_error`];
//! 2. [`PubSubSession::poll_cancel`] until `None`: abort those token requests;
//! 3. [`PubSubSession::poll_call_op`] until `None`: perform each operation, in order; report
//!    what each call brings with [`PubSubSession::handle_headers`],
//!    [`PubSubSession::handle_data`], [`PubSubSession::handle_trailers`],
//!    [`PubSubSession::handle_reset`] or [`PubSubSession::handle_call_error`];
//! 4. [`PubSubSession::poll_event`] until `None`: store [`PubSubEvent::Checkpoint`]s, forget
//!    the ids of [`PubSubEvent::ReplayFallback`]s, log, stop on [`PubSubEvent::Disconnected`];
//! 5. [`PubSubSession::poll_timeout`]: call [`PubSubSession::handle_timeout`] at that instant.
//!
//! [`PubSubSession::poll_message`] is a command too: taking events makes room, and the session
//! asks for more (a `FetchRequest` comes out of `poll_call_op`).
//!
//! ## States
//!
//! ```text
//!  session:  Idle ──open──▶ Running ──close / fatal──▶ Closed
//!            (token: none ─▶ requested ─▶ valid ─UNAUTHENTICATED─▶ requested again)
//!
//!  a topic:  Down(Ready) ──token, room──▶ Open ──FetchResponse──▶ Open (top-ups as events are taken)
//!               ▲  ▲  ▲                     │
//!               │  │  └─ Room ◀─────────────┤ ended while owed nothing (idle close), no room
//!               │  └──── Until(backoff) ◀───┤ UNAVAILABLE, reset, end, watchdog, limits
//!               │                           │ UNAUTHENTICATED: new token first
//!               └──── fallback, once ◀──────┤ replay id rejected
//!                     SubscribeFailed ◀─────┘ topic missing or unreadable
//! ```
//!
//! A new stream resumes with `CUSTOM` after the newest position the topic reached (the last event
//! accepted, or a keepalive's `latest_replay_id`), so events already in the session are kept and
//! nothing is skipped; only a topic that never reached a position starts from its preset.
//!
//! ## Example
//!
//! ```
//! use std::time::{Duration, Instant, SystemTime};
//! use http::{HeaderMap, StatusCode};
//! use prost::Message as _;
//! use sfstream_core::Secret;
//! use sfstream_core::oauth::Credentials;
//! use sfstream_core::pubsub::avro::Schema;
//! use sfstream_core::pubsub::frame::{encode_message, FrameDecoder};
//! use sfstream_core::pubsub::proto::{ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent, SchemaInfo};
//! use sfstream_core::pubsub::{CallKind, CallOp, PubSubConfig, PubSubEvent, PubSubSession, ReplayId};
//!
//! let config = PubSubConfig::new(Credentials::AccessToken {
//!     access_token: Secret::new("00DEM0000000001!token"),
//!     instance_url: "https://example.my.salesforce.com".into(),
//! })
//! .url("http://127.0.0.1:7443");
//! let start = Instant::now();
//! let mut session = PubSubSession::new(config, start, SystemTime::now()).unwrap();
//! session.subscribe("/event/Order__e", None, start).unwrap();
//! session.open(start).unwrap();
//!
//! // The adapter opens the stream and sends its first FetchRequest.
//! let Some(CallOp::Open(open)) = session.poll_call_op() else { panic!("a call to open") };
//! assert_eq!(open.kind, CallKind::Subscribe);
//! assert_eq!(open.request.uri(), "http://127.0.0.1:7443/eventbus.v1.PubSub/Subscribe");
//! assert_eq!(open.request.headers()["tenantid"], "00DEM0000000001");
//! let Some(CallOp::Send { message, .. }) = session.poll_call_op() else { panic!("a message") };
//! let mut frames = FrameDecoder::new();
//! frames.push(&message);
//! let first = FetchRequest::decode(frames.next_frame().unwrap().unwrap().payload).unwrap();
//! assert_eq!(first.num_requested, 100);
//!
//! // The server answers with its head and one event, in two chunks.
//! let mut head = HeaderMap::new();
//! head.insert("content-type", "application/grpc".parse().unwrap());
//! let now = start + Duration::from_millis(20);
//! session.handle_headers(open.call, StatusCode::OK, &head, now);
//! let schema_json = r#"{"type":"record","name":"Order__e","fields":[{"name":"N","type":"long"}]}"#;
//! let payload = Schema::parse(schema_json).unwrap().encode_json(&serde_json::json!({"N": 7})).unwrap();
//! let response = FetchResponse {
//!     events: vec![ConsumerEvent {
//!         event: Some(ProducerEvent { id: "e1".into(), schema_id: "s1".into(), payload: payload.into(), headers: vec![] }),
//!         replay_id: ReplayId::from_u64(8).to_bytes(),
//!     }],
//!     pending_num_requested: 99,
//!     ..FetchResponse::default()
//! };
//! let wire = encode_message(&response).unwrap();
//! session.handle_data(open.call, &wire[..10], now);
//! session.handle_data(open.call, &wire[10..], now);
//!
//! // The event needs its schema: a GetSchema call goes out (one per schema id, cached).
//! let Some(CallOp::Open(get_schema)) = session.poll_call_op() else { panic!("GetSchema") };
//! assert_eq!(get_schema.kind, CallKind::GetSchema);
//! while session.poll_call_op().is_some() {}
//! let info = SchemaInfo { schema_json: schema_json.into(), schema_id: "s1".into(), ..SchemaInfo::default() };
//! session.handle_headers(get_schema.call, StatusCode::OK, &head, now);
//! session.handle_data(get_schema.call, &encode_message(&info).unwrap(), now);
//! let mut trailers = HeaderMap::new();
//! trailers.insert("grpc-status", "0".parse().unwrap());
//! session.handle_trailers(get_schema.call, &trailers, now);
//!
//! // The application takes the event, decoded; that commits it.
//! let message = session.poll_message().expect("the event");
//! assert_eq!(message.replay_id(), &ReplayId::from_u64(8));
//! assert_eq!(message.payload()["N"], 7);
//! let checkpoint = std::iter::from_fn(|| session.poll_event())
//!     .find_map(|e| match e { PubSubEvent::Checkpoint { replay_id, .. } => Some(replay_id), _ => None });
//! assert_eq!(checkpoint, Some(ReplayId::from_u64(8)));
//! assert!(session.poll_timeout().is_some(), "the stream's watchdog");
//! ```

mod auth;
mod call;
mod calls;
mod config;
mod credit;
mod debug;
mod error;
mod error_kind;
mod event;
mod inputs;
mod message;
mod publish;
mod replay;
mod request;
mod schema;
mod subscription;
mod topic;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Instant, SystemTime};

use http::Uri;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use crate::backoff::Backoff;
use crate::config::CommitPolicy;
use crate::transmit::{RequestId, Transmit};

pub use call::{CallId, CallKind, CallOp, OpenCall};
pub use config::{DEFAULT_PUBSUB_URL, MAX_OUTSTANDING, PubSubConfig};
pub use error::{PubSubDisconnectReason, PubSubError};
pub use event::{PubSubEvent, PubSubStats, TopicStats};
pub use message::PubSubMessage;
pub use publish::{
    MAX_EVENT_ID_LEN, MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES, PublishEvent, PublishFailure,
    PublishId, PublishOutcome,
};
pub use replay::{PubSubReplayFrom, ReplayId, ReplayIdError};

use auth::Auth;
use calls::Calls;
use publish::Publisher;
use schema::Schemas;
use topic::Topic;

/// The seed of a configuration that names none (see [`PubSubConfig::seed`]).
const UNSEEDED: u64 = 0x7075_6273_7562_5f5f;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Running,
    Closed,
}

/// A Pub/Sub API session. See the [module docs](self) for the run loop.
///
/// `Debug` is a summary of where the session stands, safe to log: no token, no payload.
pub struct PubSubSession {
    config: PubSubConfig,
    endpoint: Uri,
    phase: Phase,
    auth: Auth,
    calls: Calls,
    topics: BTreeMap<String, Topic>,
    schemas: Schemas,
    publisher: Publisher,
    ready: VecDeque<message::PubSubMessage>,
    /// Events of unsubscribed topics still waiting for their schema.
    orphans: VecDeque<message::RawEvent>,
    events: VecDeque<PubSubEvent>,
    transmits: VecDeque<Transmit>,
    cancels: VecDeque<RequestId>,
    checkpoints: BTreeMap<String, ReplayId>,
    rng: ChaCha8Rng,
    wall_anchor: (Instant, SystemTime),
    last_now: Instant,
    next_request: u64,
    topics_made: u64,
    needs_drive: bool,
    stats: PubSubStats,
}

impl PubSubSession {
    /// Creates a session. `now` is the monotonic time, `wall_clock` the current wall-clock time
    /// (JWT assertions and the `CreatedDate` of published events need it; later wall-clock times
    /// are derived from `now`).
    ///
    /// # Errors
    /// [`PubSubError::Config`] when the configuration is unusable.
    pub fn new(
        config: PubSubConfig,
        now: Instant,
        wall_clock: SystemTime,
    ) -> Result<Self, PubSubError> {
        config.validate()?;
        let endpoint = config.endpoint()?;
        let seed = config.seed.unwrap_or(UNSEEDED);
        Ok(Self {
            auth: Auth::new(Backoff::new(config.retry, Some(seed))),
            calls: Calls::new(config.max_message_size),
            schemas: Schemas::new(Backoff::new(config.retry, Some(seed ^ 0x5343))),
            publisher: Publisher::new(Backoff::new(config.retry, Some(seed ^ 0x5055))),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7269_6473),
            config,
            endpoint,
            phase: Phase::Idle,
            topics: BTreeMap::new(),
            ready: VecDeque::new(),
            orphans: VecDeque::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            cancels: VecDeque::new(),
            checkpoints: BTreeMap::new(),
            wall_anchor: (now, wall_clock),
            last_now: now,
            next_request: 1,
            topics_made: 0,
            needs_drive: false,
            stats: PubSubStats::default(),
        })
    }

    // ----- commands -------------------------------------------------------------------------

    /// Starts the session: a token request, or with a ready token the calls at once.
    ///
    /// # Errors
    /// [`PubSubError::InvalidOperation`] if it is already open, [`PubSubError::Closed`] after
    /// it closed.
    pub fn open(&mut self, now: Instant) -> Result<(), PubSubError> {
        self.tick(now);
        match self.phase {
            Phase::Idle => {}
            Phase::Closed => return Err(PubSubError::Closed),
            Phase::Running => {
                return Err(PubSubError::InvalidOperation(
                    "the session is already open".into(),
                ));
            }
        }
        self.phase = Phase::Running;
        self.authenticate(now);
        self.drive(now);
        Ok(())
    }

    /// Subscribes to a topic (`/event/Order_Event__e`, `/data/AccountChangeEvent`, …). `from`
    /// overrides where it starts (a stored replay id, say); `None` uses the configured start.
    /// Allowed before [`PubSubSession::open`].
    ///
    /// # Errors
    /// [`PubSubError::InvalidOperation`] for a name that is no topic, a topic already
    /// subscribed, or an empty `CUSTOM` id; [`PubSubError::Closed`] after close.
    pub fn subscribe(
        &mut self,
        topic: &str,
        from: Option<PubSubReplayFrom>,
        now: Instant,
    ) -> Result<(), PubSubError> {
        self.tick(now);
        self.check_usable()?;
        check_topic(topic)?;
        if self.topics.contains_key(topic) {
            return Err(PubSubError::InvalidOperation(format!(
                "already subscribed to {topic}"
            )));
        }
        let from = from.unwrap_or_else(|| self.config.replay.clone());
        if matches!(&from, PubSubReplayFrom::Custom(id) if id.is_empty()) {
            return Err(PubSubError::InvalidOperation(format!(
                "the replay id to resume {topic} from is empty: give a stored id, or \
                 PubSubReplayFrom::Latest / Earliest"
            )));
        }
        self.topics_made += 1;
        let seed = self.config.seed.unwrap_or(UNSEEDED) ^ self.topics_made.rotate_left(17);
        let backoff = Backoff::new(self.config.retry, Some(seed));
        self.topics.insert(
            topic.to_owned(),
            Topic::new(from, backoff, self.topics_made),
        );
        self.drive(now);
        Ok(())
    }

    /// Unsubscribes from a topic: its stream is cancelled. Its events already in the session
    /// stay deliverable.
    ///
    /// # Errors
    /// [`PubSubError::InvalidOperation`] if the topic is not subscribed.
    pub fn unsubscribe(&mut self, topic: &str, now: Instant) -> Result<(), PubSubError> {
        self.tick(now);
        self.check_usable()?;
        let Some(mut t) = self.topics.remove(topic) else {
            return Err(PubSubError::InvalidOperation(format!(
                "not subscribed to {topic}"
            )));
        };
        if let Some(stream) = t.stream() {
            self.calls.cancel(stream.call);
        }
        // Its events waiting for a schema stay deliverable: they wait on, in order, without it.
        self.orphans.extend(t.waiting.drain(..));
        self.checkpoints.remove(topic);
        self.events.push_back(PubSubEvent::Unsubscribed {
            topic: topic.to_owned(),
        });
        self.drive(now);
        Ok(())
    }

    /// Commits a delivered event under [`CommitPolicy::Manual`]: it and every event before it on
    /// its topic are processed. With [`PubSubConfig::pending_until_commit`] this makes room for
    /// more events (drain [`PubSubSession::poll_call_op`] afterwards). Returns whether the committed position moved (a commit of an
    /// older event than the last one committed does nothing). Allowed under the automatic policy
    /// too (then redundant).
    ///
    /// # Errors
    /// [`PubSubError::InvalidOperation`] if the topic is not subscribed.
    pub fn commit(&mut self, message: &PubSubMessage) -> Result<bool, PubSubError> {
        let Some(topic) = self.topics.get_mut(message.topic()) else {
            return Err(PubSubError::InvalidOperation(format!(
                "cannot commit on {}: not subscribed",
                message.topic()
            )));
        };
        if topic.subscription != message.subscription {
            // An event of an earlier subscription of the topic: older than anything of this one.
            return Ok(false);
        }
        let released = topic.release_up_to(message.seq);
        let moved = match topic.book.commit(message.seq, message.replay_id()) {
            Some(position) => {
                self.checkpoints.insert(message.topic.clone(), position);
                true
            }
            None => false,
        };
        if released {
            self.made_room(message.topic());
        }
        Ok(moved)
    }

    /// Closes the session: every call is cancelled and [`PubSubEvent::Disconnected`] follows.
    /// Publishes not yet answered fail; events already in the session stay deliverable.
    pub fn close(&mut self, now: Instant) {
        self.tick(now);
        self.finish(PubSubDisconnectReason::Closed);
    }

    // ----- outputs --------------------------------------------------------------------------

    /// The next token request to send. Drain it after every input and command.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// A token request the session no longer wants: abort it; its outcome is ignored.
    #[must_use]
    pub fn poll_cancel(&mut self) -> Option<RequestId> {
        self.cancels.pop_front()
    }

    /// The next operation on a gRPC call. Drain it after every input and command (taking
    /// messages included), and perform the operations in this order.
    #[must_use]
    pub fn poll_call_op(&mut self) -> Option<CallOp> {
        self.calls.pop_op()
    }

    /// The next event. Drain it after every input and command.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<PubSubEvent> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let (topic, replay_id) = self.checkpoints.pop_first()?;
        Some(PubSubEvent::Checkpoint { topic, replay_id })
    }

    /// The next event of a topic, decoded, when the application is ready for it. Under the
    /// automatic commit policy taking it commits it. Taking events makes room: the session asks
    /// the server for more (drain [`PubSubSession::poll_call_op`] afterwards); with
    /// [`PubSubConfig::pending_until_commit`] under the manual policy, committing them does.
    #[must_use]
    pub fn poll_message(&mut self) -> Option<PubSubMessage> {
        let message = self.ready.pop_front()?;
        self.stats.events_delivered += 1;
        let topic = self
            .topics
            .get_mut(message.topic())
            .filter(|t| t.subscription == message.subscription);
        if let Some(topic) = topic {
            topic.buffered = topic.buffered.saturating_sub(1);
            if self.config.commit == CommitPolicy::Automatic {
                if let Some(position) = topic.book.commit(message.seq, message.replay_id()) {
                    match self.checkpoints.get_mut(message.topic()) {
                        Some(slot) => *slot = position,
                        None => {
                            self.checkpoints.insert(message.topic.clone(), position);
                        }
                    }
                }
            } else if self.config.pending_until_commit {
                // Still held by the application: its commit makes the room.
                topic.uncommitted.push_back(message.seq);
                return Some(message);
            }
            self.made_room(message.topic());
        }
        Some(message)
    }

    /// When [`PubSubSession::handle_timeout`] should be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.needs_drive {
            return Some(self.last_now);
        }
        if self.phase != Phase::Running {
            return None;
        }
        let mut t: Option<Instant> = None;
        let mut consider = |i: Option<Instant>| {
            if let Some(i) = i {
                t = Some(t.map_or(i, |t| t.min(i)));
            }
        };
        consider(self.auth.next_wake());
        consider(self.calls.next_deadline());
        for topic in self.topics.values() {
            consider(self.topic_wake(topic));
        }
        consider(self.schemas.next_wake());
        consider(self.publisher.next_wake());
        consider(self.publish_wake());
        t
    }

    /// Whether the session has work for [`PubSubSession::handle_timeout`] right now (a stream
    /// to open after [`PubSubSession::poll_message`] made room).
    #[must_use]
    pub fn wants_drive(&self) -> bool {
        self.needs_drive
    }

    // ----- queries --------------------------------------------------------------------------

    /// Every topic the application subscribed to.
    #[must_use]
    pub fn topics(&self) -> Vec<&str> {
        self.topics.keys().map(String::as_str).collect()
    }

    /// The topics whose stream is open.
    #[must_use]
    pub fn streaming(&self) -> Vec<&str> {
        self.topics
            .iter()
            .filter(|(_, t)| t.stream().is_some())
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The committed position of a topic.
    #[must_use]
    pub fn committed(&self, topic: &str) -> Option<&ReplayId> {
        self.topics
            .get(topic)
            .and_then(|t| t.book.committed.as_ref())
    }

    /// The newest position a topic reached (where its next stream resumes).
    #[must_use]
    pub fn position(&self, topic: &str) -> Option<&ReplayId> {
        self.topics.get(topic).and_then(|t| t.position.as_ref())
    }

    /// At most how many events the topic's open stream may still bring: the server's
    /// `pending_num_requested` plus requests it has not counted yet. `None` without a stream.
    #[must_use]
    pub fn outstanding(&self, topic: &str) -> Option<u32> {
        self.topics
            .get(topic)
            .and_then(Topic::stream)
            .map(|s| s.credit.outstanding())
    }

    /// How many events wait for the application (decoded and ready).
    #[must_use]
    pub fn pending(&self) -> usize {
        self.ready.len()
    }

    /// How many events of a topic are in the session (ready, or waiting for their schema).
    #[must_use]
    pub fn buffered(&self, topic: &str) -> Option<u32> {
        self.topics.get(topic).map(|t| t.buffered)
    }

    /// How many events of a topic the application took and has not committed, where they count
    /// against `max_pending` ([`PubSubConfig::pending_until_commit`]; else always 0).
    #[must_use]
    pub fn uncommitted(&self, topic: &str) -> Option<u32> {
        self.topics
            .get(topic)
            .map(|t| u32::try_from(t.uncommitted.len()).unwrap_or(u32::MAX))
    }

    /// The org id the calls carry, once known.
    #[must_use]
    pub fn tenant_id(&self) -> Option<&str> {
        self.auth.tenant_id()
    }

    /// Whether the session has ended.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Counters since the session was created, and each topic's replay positions now.
    #[must_use]
    pub fn stats(&self) -> PubSubStats {
        let mut stats = self.stats.clone();
        stats.topics = self
            .topics
            .iter()
            .map(|(name, topic)| {
                let positions = TopicStats {
                    accepted: topic.position.clone(),
                    committed: topic.book.committed.clone(),
                };
                (name.clone(), positions)
            })
            .collect();
        stats
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &PubSubConfig {
        &self.config
    }

    // ----- the machine ----------------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
    }

    fn wall(&self, now: Instant) -> SystemTime {
        self.wall_anchor.1 + now.saturating_duration_since(self.wall_anchor.0)
    }

    fn check_usable(&self) -> Result<(), PubSubError> {
        match self.phase {
            Phase::Closed => Err(PubSubError::Closed),
            _ => Ok(()),
        }
    }

    fn request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    fn trace_id(&mut self) -> Option<String> {
        self.config
            .trace_ids
            .then(|| request::uuid_v4(&mut self.rng))
    }

    /// Starts what is due: streams, schema fetches, publishes.
    fn drive(&mut self, now: Instant) {
        self.needs_drive = false;
        if self.phase != Phase::Running || !self.auth.is_valid() {
            return;
        }
        self.drive_schemas(now);
        self.drive_topics(now);
        self.drive_publishes(now);
    }

    fn fatal(&mut self, error: PubSubError) {
        self.finish(PubSubDisconnectReason::Failed(error));
    }

    fn finish(&mut self, reason: PubSubDisconnectReason) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.needs_drive = false;
        self.calls.cancel_all();
        if let Some(id) = self.auth.abandon() {
            self.cancels.push_back(id);
        }
        for topic in self.topics.values_mut() {
            topic.stream = topic::StreamState::Down(topic::Down::Ready);
        }
        self.release_all_waiting("the session closed before the event's schema arrived");
        self.fail_all_publishes(PubSubError::Closed);
        self.events.push_back(PubSubEvent::Disconnected(reason));
    }
}

/// A topic name the API can serve: `/event/…` or `/data/…`.
fn check_topic(topic: &str) -> Result<(), PubSubError> {
    let ok = (topic.starts_with("/event/") || topic.starts_with("/data/"))
        && topic.len() > "/data/".len()
        && !topic.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(PubSubError::InvalidOperation(format!(
            "{topic:?} is not a Pub/Sub topic: use /event/<Name>__e, /event/<StandardEvent>, \
             /data/ChangeEvents, /data/<Object>ChangeEvent or a custom channel \
             (/data/<Name>__chn, /event/<Name>__chn)"
        )))
    }
}
