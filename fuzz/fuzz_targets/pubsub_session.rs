//! The Pub/Sub session driven by arbitrary input: each input is a sequence of operations read
//! from its bytes (a response head, valid `FetchResponse`s cut at any byte, arbitrary bytes,
//! trailers with Salesforce's error codes, resets, transport failures, token answers, schema
//! answers, time passing, the application taking events) applied to two subscribed topics.
//! Nothing may panic; every `FetchRequest` asks for 1 to 100 events, and on a stream answered
//! only with whole valid responses the server's last `pending_num_requested` plus what was asked
//! since never exceeds 100; the session ends, or has something to wait for.
#![no_main]

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::pubsub::frame::{FrameDecoder, encode_message};
use sfstream_core::pubsub::proto::{
    ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent, SchemaInfo,
};
use sfstream_core::pubsub::{CallId, CallKind, CallOp, PubSubConfig, PubSubSession};
use sfstream_core::{ReplayFallback, Secret, TransportError};

const TOPICS: [&str; 2] = ["/event/Order__e", "/data/AccountChangeEvent"];
const SCHEMA: &str = r#"{"type":"record","name":"E","fields":[{"name":"N","type":"long"},{"name":"S","type":["null","string"],"default":null}]}"#;
const CODES: [&str; 7] = [
    "",
    "sfdc.platform.eventbus.grpc.service.auth.error",
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
    "sfdc.platform.eventbus.grpc.subscription.limit.exceeded",
    "sfdc.platform.eventbus.grpc.topic.not.found",
    "sfdc.platform.eventbus.grpc.service.unavailable",
    "sfdc.platform.eventbus.grpc.service.tenant.license",
];

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

#[derive(Default)]
struct Call {
    kind: Option<CallKind>,
    requests: Vec<Bytes>,
    last_pending: u32,
    asked_since: u32,
    unchecked: bool,
}

struct Harness {
    s: PubSubSession,
    now: Instant,
    calls: BTreeMap<CallId, Call>,
    tokens: Vec<sfstream_core::RequestId>,
}

impl Harness {
    fn pump(&mut self) {
        while let Some(t) = self.s.poll_transmit() {
            self.tokens.push(t.id);
        }
        while let Some(id) = self.s.poll_cancel() {
            self.tokens.retain(|t| *t != id);
        }
        while let Some(op) = self.s.poll_call_op() {
            match op {
                CallOp::Open(open) => {
                    self.calls.entry(open.call).or_default().kind = Some(open.kind);
                }
                CallOp::Send { call, message } => {
                    let mut d = FrameDecoder::new();
                    d.push(&message);
                    let frame = d.next_frame().expect("framed").expect("whole");
                    let c = self.calls.entry(call).or_default();
                    if c.kind == Some(CallKind::Subscribe) {
                        let r = FetchRequest::decode(frame.payload.clone()).expect("a FetchRequest");
                        assert!(
                            (1..=100).contains(&r.num_requested),
                            "asked for {} events",
                            r.num_requested
                        );
                        c.asked_since += r.num_requested as u32;
                        if !c.unchecked {
                            assert!(
                                c.last_pending + c.asked_since <= 100,
                                "{call}: {} owed and {} asked since",
                                c.last_pending,
                                c.asked_since
                            );
                        }
                    }
                    c.requests.push(frame.payload);
                }
                _ => {}
            }
        }
        while self.s.poll_event().is_some() {}
    }

    fn pick(&self, b: u8) -> Option<CallId> {
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        (!ids.is_empty()).then(|| ids[b as usize % ids.len()])
    }
}

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut config = PubSubConfig::new(Credentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: Secret::new(""),
        refresh_token: Secret::new("refresh"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    })
    .url("http://127.0.0.1:7443")
    .replay_fallback(Some(ReplayFallback::All))
    .seed(1);
    config.max_pending = 100;
    let s = PubSubSession::new(
        config,
        now,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    )
    .expect("a valid configuration");
    let mut h = Harness {
        s,
        now,
        calls: BTreeMap::new(),
        tokens: Vec::new(),
    };
    for t in TOPICS {
        h.s.subscribe(t, None, now).expect("subscribe");
    }
    h.s.open(now).expect("open");
    h.pump();
    let schema = sfstream_core::pubsub::avro::Schema::parse(SCHEMA).expect("schema");
    let mut input = Input(data);
    let mut next_id = 1u64;
    while let Some(op) = input.byte() {
        let target = input.byte().unwrap_or(0);
        match op % 10 {
            0 => {
                let Some(call) = h.pick(target) else { continue };
                let flags = input.byte().unwrap_or(0);
                let mut head = HeaderMap::new();
                if flags & 1 != 0 {
                    head.insert("content-type", "application/grpc".parse().unwrap());
                }
                if flags & 2 != 0 {
                    head.insert("grpc-status", u32::from(flags >> 3).to_string().parse().unwrap());
                }
                let status = if flags & 4 != 0 { StatusCode::BAD_GATEWAY } else { StatusCode::OK };
                h.s.handle_headers(call, status, &head, h.now);
            }
            1 => {
                let Some(call) = h.pick(target) else { continue };
                let n = input.byte().unwrap_or(0) as usize;
                let chunk = input.bytes(n).to_vec();
                h.s.handle_data(call, &chunk, h.now);
                h.calls.entry(call).or_default().unchecked = true;
            }
            2 => {
                let Some(call) = h.pick(target) else { continue };
                let count = input.byte().unwrap_or(0) % 8;
                let pending = i32::from(input.byte().unwrap_or(0) as i8);
                let split = input.byte().unwrap_or(0) as usize;
                let events = (0..count)
                    .map(|i| {
                        next_id += 1;
                        let payload = if i == 7 {
                            Bytes::from_static(&[0xff])
                        } else {
                            schema
                                .encode_json(&serde_json::json!({"N": next_id}))
                                .expect("encodes")
                                .into()
                        };
                        ConsumerEvent {
                            event: Some(ProducerEvent {
                                id: format!("e{next_id}"),
                                schema_id: if i % 3 == 2 { "s2".into() } else { "s1".into() },
                                payload,
                                headers: vec![],
                            }),
                            replay_id: Bytes::copy_from_slice(&next_id.to_be_bytes()),
                        }
                    })
                    .collect();
                let response = FetchResponse {
                    events,
                    latest_replay_id: Bytes::copy_from_slice(&next_id.to_be_bytes()),
                    rpc_id: "r".into(),
                    pending_num_requested: pending,
                };
                let wire = encode_message(&response).expect("frames");
                let at = split % (wire.len() + 1);
                // The server's figure counts from this response on; what the session asks in
                // answer to it comes after.
                let c = h.calls.entry(call).or_default();
                c.last_pending = pending.max(0) as u32;
                c.asked_since = 0;
                h.s.handle_data(call, &wire[..at], h.now);
                h.s.handle_data(call, &wire[at..], h.now);
            }
            3 => {
                let Some(call) = h.pick(target) else { continue };
                let b = input.byte().unwrap_or(0);
                let mut t = HeaderMap::new();
                t.insert("grpc-status", (u32::from(b) % 17).to_string().parse().unwrap());
                let code = CODES[usize::from(b >> 4) % CODES.len()];
                if !code.is_empty() {
                    t.insert("error-code", code.parse().unwrap());
                }
                h.s.handle_trailers(call, &t, h.now);
            }
            4 => {
                let Some(call) = h.pick(target) else { continue };
                h.s.handle_reset(call, u32::from(input.byte().unwrap_or(0) % 14), h.now);
            }
            5 => {
                let Some(call) = h.pick(target) else { continue };
                h.s.handle_call_error(call, TransportError::Io("broken".into()), h.now);
            }
            6 => {
                let ms = u64::from(u16::from_le_bytes([target, input.byte().unwrap_or(0)])) * 16;
                h.now += Duration::from_millis(ms);
                h.s.handle_timeout(h.now);
            }
            7 => {
                for _ in 0..(target % 64) {
                    if h.s.poll_message().is_none() {
                        break;
                    }
                    h.pump();
                }
                if h.s.wants_drive() {
                    h.s.handle_timeout(h.now);
                }
            }
            8 => {
                if let Some(id) = h.tokens.pop() {
                    let body = if target & 1 == 0 {
                        br#"{"access_token":"00DEM0000000001!tok","instance_url":"https://na1.example.com","id":"https://login.example.com/id/00DEM0000000001AAA/005EM0000000001AAA"}"#.to_vec()
                    } else {
                        br#"{"error":"invalid_grant","error_description":"nope"}"#.to_vec()
                    };
                    let status = match target % 4 { 1 => 400, 3 => 503, _ => 200 };
                    let response = http::Response::builder().status(status).body(body).unwrap();
                    h.s.handle_response(id, response, h.now);
                }
            }
            _ => {
                // Answer the open GetSchema calls: s1 with the schema, others not found.
                let schema_calls: Vec<CallId> = h
                    .calls
                    .iter()
                    .filter(|(_, c)| c.kind == Some(CallKind::GetSchema))
                    .map(|(id, _)| *id)
                    .collect();
                for call in schema_calls {
                    let mut head = HeaderMap::new();
                    head.insert("content-type", "application/grpc".parse().unwrap());
                    h.s.handle_headers(call, StatusCode::OK, &head, h.now);
                    let asked = h.calls[&call]
                        .requests
                        .first()
                        .and_then(|m| sfstream_core::pubsub::proto::SchemaRequest::decode(m.clone()).ok())
                        .map(|r| r.schema_id)
                        .unwrap_or_default();
                    let mut trailers = HeaderMap::new();
                    if asked == "s1" {
                        let info = SchemaInfo { schema_json: SCHEMA.into(), schema_id: asked, rpc_id: String::new() };
                        h.s.handle_data(call, &encode_message(&info).unwrap(), h.now);
                        trailers.insert("grpc-status", "0".parse().unwrap());
                    } else {
                        trailers.insert("grpc-status", "5".parse().unwrap());
                    }
                    h.s.handle_trailers(call, &trailers, h.now);
                }
            }
        }
        h.pump();
    }
    assert!(
        h.s.is_closed()
            || h.s.poll_timeout().is_some()
            || !h.tokens.is_empty()
            || h.s.topics().iter().all(|t| {
                h.s.streaming().contains(t) || h.s.buffered(t).unwrap_or(0) >= 100
            }),
        "the session neither ended nor has anything to wait for: {:?}",
        h.s
    );
    let _ = format!("{:?} {:?}", h.s, h.s.stats());
});
