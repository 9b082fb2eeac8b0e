//! A scenario builder for the Pub/Sub session: drives a `PubSubSession` with simulated time and a
//! scripted server, so each test starts where its rule applies. It plays the adapter: it takes
//! every output, keeps each call's operations, and feeds the session what the test's server says.
#![allow(
    unreachable_pub,
    reason = "shared by several test crates; pub is how they reach it"
)]
#![allow(
    dead_code,
    reason = "each test file uses a different part of the builder"
)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests pick an arbitrary start instant; only differences matter"
)]

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use prost::Message as _;
use serde_json::{Value, json};
use sfstream_core::oauth::Credentials;
use sfstream_core::pubsub::avro::Schema;
use sfstream_core::pubsub::frame::{FrameDecoder, encode_message};
use sfstream_core::pubsub::proto::{
    ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent, PublishRequest, SchemaInfo,
    SchemaRequest, TopicRequest,
};
use sfstream_core::pubsub::{
    CallId, CallKind, CallOp, PubSubConfig, PubSubEvent, PubSubMessage, PubSubSession, ReplayId,
};
use sfstream_core::{RetryPolicy, Secret, Transmit};

pub const TOPIC: &str = "/event/Order__e";
pub const OTHER: &str = "/event/Other__e";
pub const SCHEMA_ID: &str = "s1";
pub const TOKEN: &str = "00DEM0000000001!tok-secret-1";
pub const SCHEMA: &str = r#"{"type": "record", "name": "Order__e", "fields": [
    {"name": "CreatedDate", "type": "long"},
    {"name": "CreatedById", "type": "string"},
    {"name": "N", "type": "long"},
    {"name": "Note__c", "type": ["null", "string"], "default": null}]}"#;

/// A configuration with a ready token, the emulator's URL and backoff without jitter.
pub fn config() -> PubSubConfig {
    PubSubConfig::new(Credentials::AccessToken {
        access_token: Secret::new(TOKEN),
        instance_url: "https://na1.example.com".into(),
    })
    .url("http://127.0.0.1:7443")
    .retry(RetryPolicy {
        initial: Duration::from_millis(1000),
        max: Duration::from_secs(30),
        max_for_limits: Duration::from_secs(300),
        multiplier: 2.0,
        jitter: 0.0,
    })
    .seed(7)
}

pub fn schema() -> Schema {
    Schema::parse(SCHEMA).expect("the test schema")
}

/// The payload of event `n`.
pub fn payload(n: u64) -> Bytes {
    schema()
        .encode_json(&json!({"CreatedDate": 1_700_000_000_000_i64 + n as i64, "CreatedById": "005x", "N": n}))
        .expect("encodes")
        .into()
}

/// Event `n` of the test topic: replay id `n` (8 bytes), schema `s1`.
pub fn event(n: u64) -> ConsumerEvent {
    event_with_schema(n, SCHEMA_ID)
}

pub fn event_with_schema(n: u64, schema_id: &str) -> ConsumerEvent {
    ConsumerEvent {
        event: Some(ProducerEvent {
            id: format!("uuid-{n}"),
            schema_id: schema_id.into(),
            payload: payload(n),
            headers: vec![],
        }),
        replay_id: ReplayId::from_u64(n).to_bytes(),
    }
}

/// A response with events `ns` and the server's remaining credit.
pub fn batch(ns: impl IntoIterator<Item = u64>, pending: i32) -> FetchResponse {
    FetchResponse {
        events: ns.into_iter().map(event).collect(),
        latest_replay_id: Bytes::new(),
        rpc_id: "rpc".into(),
        pending_num_requested: pending,
    }
}

/// A keepalive at position `latest`.
pub fn keepalive(latest: u64, pending: i32) -> FetchResponse {
    FetchResponse {
        events: vec![],
        latest_replay_id: ReplayId::from_u64(latest).to_bytes(),
        rpc_id: "rpc".into(),
        pending_num_requested: pending,
    }
}

/// What the adapter did with one call.
#[derive(Debug)]
pub struct SentCall {
    pub kind: CallKind,
    pub head: http::Request<()>,
    /// The messages sent on it, unframed.
    pub sent: Vec<Bytes>,
    pub half_closed: bool,
    pub cancelled: bool,
    /// The test ended it (trailers, reset, error).
    pub ended: bool,
    /// How many of `sent` a server model has read.
    pub read: usize,
    /// The test sent its response head.
    pub accepted: bool,
}

impl SentCall {
    pub fn is_live(&self) -> bool {
        !self.cancelled && !self.ended
    }

    pub fn fetch_requests(&self) -> Vec<FetchRequest> {
        self.sent
            .iter()
            .map(|m| FetchRequest::decode(m.clone()).expect("a FetchRequest"))
            .collect()
    }

    pub fn first_fetch(&self) -> FetchRequest {
        self.fetch_requests()
            .into_iter()
            .next()
            .expect("a first FetchRequest")
    }

    pub fn publish_requests(&self) -> Vec<PublishRequest> {
        self.sent
            .iter()
            .map(|m| PublishRequest::decode(m.clone()).expect("a PublishRequest"))
            .collect()
    }
}

pub struct PubSubScenario {
    pub s: PubSubSession,
    pub now: Instant,
    pub calls: BTreeMap<CallId, SentCall>,
    pub transmits: VecDeque<Transmit>,
    pub events: Vec<PubSubEvent>,
    /// Schemas the test server knows, by id.
    pub schemas: BTreeMap<String, String>,
    /// Whether taking messages first answers open `GetSchema` calls (on by default).
    pub auto_schemas: bool,
}

impl PubSubScenario {
    pub fn new(config: PubSubConfig) -> Self {
        let now = Instant::now();
        let s = PubSubSession::new(
            config,
            now,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
        .expect("a valid configuration");
        Self {
            s,
            now,
            calls: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: Vec::new(),
            schemas: BTreeMap::from([(SCHEMA_ID.to_owned(), SCHEMA.to_owned())]),
            auto_schemas: true,
        }
    }

    /// Subscribed to `topics` and opened; every stream is accepted by the server.
    pub fn started(config: PubSubConfig, topics: &[&str]) -> Self {
        let mut sc = Self::new(config);
        for t in topics {
            sc.s.subscribe(t, None, sc.now).expect("subscribe");
        }
        sc.s.open(sc.now).expect("open");
        sc.pump();
        for t in topics {
            let call = sc.stream(t);
            sc.accept(call);
        }
        sc
    }

    /// Takes every output of the session.
    pub fn pump(&mut self) {
        while let Some(t) = self.s.poll_transmit() {
            self.transmits.push_back(t);
        }
        while let Some(id) = self.s.poll_cancel() {
            self.transmits.retain(|t| t.id != id);
        }
        while let Some(op) = self.s.poll_call_op() {
            match op {
                CallOp::Open(open) => {
                    let previous = self.calls.insert(
                        open.call,
                        SentCall {
                            kind: open.kind,
                            head: open.request,
                            sent: Vec::new(),
                            half_closed: false,
                            cancelled: false,
                            ended: false,
                            read: 0,
                            accepted: false,
                        },
                    );
                    assert!(previous.is_none(), "call ids are never reused");
                }
                CallOp::Send { call, message } => {
                    let c = self
                        .calls
                        .get_mut(&call)
                        .expect("Send on a call opened before");
                    assert!(!c.half_closed, "Send after HalfClose on {call}");
                    assert!(!c.cancelled, "Send after Cancel on {call}");
                    let mut d = FrameDecoder::new();
                    d.push(&message);
                    let frame = d.next_frame().expect("framed").expect("one whole message");
                    assert!(
                        d.next_frame().expect("framed").is_none(),
                        "one message per Send"
                    );
                    c.sent.push(frame.payload);
                }
                CallOp::HalfClose { call } => {
                    self.calls.get_mut(&call).expect("a known call").half_closed = true;
                }
                CallOp::Cancel { call } => {
                    self.calls.get_mut(&call).expect("a known call").cancelled = true;
                }
                other => panic!("an operation this test does not know: {other:?}"),
            }
        }
        while let Some(e) = self.s.poll_event() {
            self.events.push(e);
        }
    }

    /// The live `Subscribe` call of a topic.
    pub fn stream(&mut self, topic: &str) -> CallId {
        self.pump();
        self.try_stream(topic)
            .unwrap_or_else(|| panic!("no live stream for {topic}; calls: {:#?}", self.calls))
    }

    pub fn try_stream(&mut self, topic: &str) -> Option<CallId> {
        self.pump();
        self.calls
            .iter()
            .filter(|(_, c)| c.kind == CallKind::Subscribe && c.is_live())
            .find(|(_, c)| c.first_fetch().topic_name == topic)
            .map(|(id, _)| *id)
    }

    /// How many `Subscribe` calls were opened for a topic.
    pub fn streams_opened(&self, topic: &str) -> usize {
        self.calls
            .values()
            .filter(|c| c.kind == CallKind::Subscribe && c.first_fetch().topic_name == topic)
            .count()
    }

    /// Live calls of a kind, oldest first.
    pub fn live(&mut self, kind: CallKind) -> Vec<CallId> {
        self.pump();
        self.calls
            .iter()
            .filter(|(_, c)| c.kind == kind && c.is_live())
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn call(&self, id: CallId) -> &SentCall {
        &self.calls[&id]
    }

    /// The server accepts a call (its response head).
    pub fn accept(&mut self, call: CallId) {
        let mut head = HeaderMap::new();
        head.insert("content-type", "application/grpc".parse().unwrap());
        self.s.handle_headers(call, StatusCode::OK, &head, self.now);
        if let Some(c) = self.calls.get_mut(&call) {
            c.accepted = true;
        }
        self.pump();
    }

    /// The server sends one message, in one chunk.
    pub fn send(&mut self, call: CallId, message: &impl prost::Message) {
        let wire = encode_message(message).expect("frames");
        self.s.handle_data(call, &wire, self.now);
        self.pump();
    }

    /// The server sends raw bytes.
    pub fn data(&mut self, call: CallId, bytes: &[u8]) {
        self.s.handle_data(call, bytes, self.now);
        self.pump();
    }

    /// The server ends a call with a status (and Salesforce's error code).
    pub fn end(&mut self, call: CallId, status: u32, error_code: Option<&str>) {
        let mut t = HeaderMap::new();
        t.insert("grpc-status", status.to_string().parse().unwrap());
        if let Some(code) = error_code {
            t.insert(
                "error-code",
                format!("sfdc.platform.eventbus.grpc.{code}")
                    .parse()
                    .unwrap(),
            );
            t.insert(
                "grpc-message",
                "Salesforce%20says%20no rpcId: r1".parse().unwrap(),
            );
            t.insert("rpc-id", "r1".parse().unwrap());
        }
        self.s.handle_trailers(call, &t, self.now);
        if let Some(c) = self.calls.get_mut(&call) {
            c.ended = true;
        }
        self.pump();
    }

    /// The server refuses a call at once (trailers-only).
    pub fn refuse(&mut self, call: CallId, status: u32, error_code: Option<&str>) {
        let mut h = HeaderMap::new();
        h.insert("content-type", "application/grpc".parse().unwrap());
        h.insert("grpc-status", status.to_string().parse().unwrap());
        if let Some(code) = error_code {
            h.insert(
                "error-code",
                format!("sfdc.platform.eventbus.grpc.{code}")
                    .parse()
                    .unwrap(),
            );
        }
        self.s.handle_headers(call, StatusCode::OK, &h, self.now);
        if let Some(c) = self.calls.get_mut(&call) {
            c.ended = true;
        }
        self.pump();
    }

    /// The HTTP/2 stream of a call is reset.
    pub fn reset(&mut self, call: CallId, h2_code: u32) {
        self.s.handle_reset(call, h2_code, self.now);
        if let Some(c) = self.calls.get_mut(&call) {
            c.ended = true;
        }
        self.pump();
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        self.s.handle_timeout(self.now);
        self.pump();
    }

    /// Calls `handle_timeout` when the session asked for it (`poll_timeout` in the past).
    pub fn drive_if_due(&mut self) {
        if self.s.poll_timeout().is_some_and(|t| t <= self.now) {
            self.s.handle_timeout(self.now);
            self.pump();
        }
    }

    /// Answers every open `GetSchema` call from `schemas` (an unknown id: NOT_FOUND).
    pub fn serve_schemas(&mut self) -> usize {
        let calls = self.live(CallKind::GetSchema);
        for &call in &calls {
            let request = SchemaRequest::decode(self.calls[&call].sent[0].clone()).unwrap();
            self.accept(call);
            match self.schemas.get(&request.schema_id).cloned() {
                Some(json) => {
                    let info = SchemaInfo {
                        schema_json: json,
                        schema_id: request.schema_id,
                        rpc_id: "rpc".into(),
                    };
                    self.send(call, &info);
                    self.end(call, 0, None);
                }
                None => self.end(call, 5, Some("schema.meta.permission")),
            }
        }
        calls.len()
    }

    /// The `TopicRequest` of a `GetTopic` call.
    pub fn topic_request(&self, call: CallId) -> TopicRequest {
        TopicRequest::decode(self.calls[&call].sent[0].clone()).unwrap()
    }

    /// Every message the session holds, taken (and the outputs drained).
    pub fn messages(&mut self) -> Vec<PubSubMessage> {
        if self.auto_schemas {
            self.serve_schemas();
        }
        let mut out = Vec::new();
        while let Some(m) = self.s.poll_message() {
            out.push(m);
            self.pump();
        }
        self.drive_if_due();
        out
    }

    /// `n` messages at most.
    pub fn take(&mut self, n: usize) -> Vec<PubSubMessage> {
        if self.auto_schemas {
            self.serve_schemas();
        }
        let mut out = Vec::new();
        while out.len() < n {
            let Some(m) = self.s.poll_message() else {
                break;
            };
            out.push(m);
            self.pump();
        }
        self.drive_if_due();
        out
    }

    pub fn take_events(&mut self) -> Vec<PubSubEvent> {
        self.pump();
        std::mem::take(&mut self.events)
    }

    /// The checkpoints emitted for a topic, in order.
    pub fn checkpoints(&self, topic: &str) -> Vec<ReplayId> {
        self.events
            .iter()
            .filter_map(|e| match e {
                PubSubEvent::Checkpoint {
                    topic: t,
                    replay_id,
                } if t == topic => Some(replay_id.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn reconnect_delays(&self) -> Vec<u128> {
        self.events
            .iter()
            .filter_map(|e| match e {
                PubSubEvent::Reconnecting { after, .. } => Some(after.as_millis()),
                _ => None,
            })
            .collect()
    }
}

/// The numbers of messages' replay ids.
pub fn numbers(messages: &[PubSubMessage]) -> Vec<u64> {
    messages
        .iter()
        .map(|m| m.replay_id().as_u64().expect("8-byte ids"))
        .collect()
}

/// A `Subscribe` server for one topic whose events are `1..=last`, with exact credit accounting:
/// it reads each `FetchRequest` as it comes, adds its credit (and checks that the client never
/// asks for more than `cap` outstanding), and delivers what the credit allows in responses of at
/// most `per_response` events.
pub struct ModelServer {
    pub last: u64,
    pub cap: u32,
    pub per_response: usize,
    /// Per call: (pending, next event to send).
    state: BTreeMap<CallId, (u32, u64)>,
    pub delivered: u64,
    pub max_pending_seen: u32,
}

impl ModelServer {
    pub fn new(last: u64, cap: u32) -> Self {
        Self {
            last,
            cap,
            per_response: 100,
            state: BTreeMap::new(),
            delivered: 0,
            max_pending_seen: 0,
        }
    }

    /// Reads the new requests on the topic's live stream and answers with what credit allows.
    pub fn serve(&mut self, sc: &mut PubSubScenario, topic: &str) {
        let Some(call) = sc.try_stream(topic) else {
            return;
        };
        let (mut pending, mut next) = *self.state.entry(call).or_insert_with(|| {
            let first = sc.calls[&call].first_fetch();
            let start = if first.replay_preset == 2 {
                ReplayId::new(first.replay_id).as_u64().expect("8-byte id") + 1
            } else {
                1
            };
            (0, start)
        });
        let c = sc.calls.get_mut(&call).unwrap();
        let unread: Vec<FetchRequest> = c.fetch_requests()[c.read..].to_vec();
        c.read += unread.len();
        for r in unread {
            assert!(r.num_requested > 0, "num_requested must be positive");
            pending += r.num_requested as u32;
            assert!(
                pending <= self.cap,
                "the client asked for {pending} outstanding events, over {}",
                self.cap
            );
            self.max_pending_seen = self.max_pending_seen.max(pending);
        }
        while pending > 0 && next <= self.last {
            let n = (pending as usize)
                .min(self.per_response)
                .min((self.last - next + 1) as usize);
            let ids: Vec<u64> = (next..next + n as u64).collect();
            next += n as u64;
            pending -= n as u32;
            self.delivered += n as u64;
            self.state.insert(call, (pending, next));
            sc.send(call, &batch(ids, pending as i32));
        }
        self.state.insert(call, (pending, next));
    }
}

/// The JSON of `n` as the session decodes it.
pub fn decoded(n: u64) -> Value {
    json!({"CreatedDate": 1_700_000_000_000_i64 + n as i64, "CreatedById": "005x", "N": n, "Note__c": null})
}
