//! Property test of the Pub/Sub session: for any interleaving of response heads, chunks of valid
//! or arbitrary bytes, trailers, resets, transport failures, token answers, time and the
//! application taking events, the session never panics, never asks for a non-positive credit,
//! and never asks a stream for more than 100 outstanding events.
mod pubsub_common;

use std::collections::BTreeMap;

use http::{HeaderMap, StatusCode};
use proptest::prelude::*;
use pubsub_common::*;
use serde_json::json;
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::pubsub::frame::encode_message;
use sfstream_core::pubsub::{CallId, CallKind, PubSubConfig};
use sfstream_core::{ReplayFallback, Secret, TransportError};

#[derive(Debug, Clone)]
enum Op {
    /// A server with exact accounting sends up to `events` events on a `Subscribe` call.
    Serve {
        call: usize,
        events: u32,
    },
    Head {
        call: usize,
        grpc: bool,
        status: Option<u32>,
    },
    Response {
        call: usize,
        events: Vec<u64>,
        pending: i32,
        split: usize,
    },
    Garbage {
        call: usize,
        bytes: Vec<u8>,
    },
    Trailers {
        call: usize,
        status: u32,
        code: usize,
    },
    Reset {
        call: usize,
        code: u32,
    },
    Fail {
        call: usize,
    },
    Token {
        ok: bool,
    },
    Advance {
        ms: u64,
    },
    Take {
        n: usize,
    },
    Schemas,
}

const CODES: [&str; 6] = [
    "",
    "service.auth.error",
    "subscription.fetch.replayid.corrupted",
    "subscription.limit.exceeded",
    "topic.not.found",
    "service.unavailable",
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<usize>(), 0u32..120).prop_map(|(call, events)| Op::Serve { call, events }),
        1 => (any::<usize>(), any::<bool>(), prop::option::of(0u32..17))
            .prop_map(|(call, grpc, status)| Op::Head { call, grpc, status }),
        4 => (any::<usize>(), prop::collection::vec(1u64..400, 0..12), -5i32..=100, any::<usize>())
            .prop_map(|(call, events, pending, split)| Op::Response { call, events, pending, split }),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(call, bytes)| Op::Garbage { call, bytes }),
        1 => (any::<usize>(), 0u32..17, 0..CODES.len())
            .prop_map(|(call, status, code)| Op::Trailers { call, status, code }),
        1 => (any::<usize>(), 0u32..14).prop_map(|(call, code)| Op::Reset { call, code }),
        1 => any::<usize>().prop_map(|call| Op::Fail { call }),
        1 => any::<bool>().prop_map(|ok| Op::Token { ok }),
        1 => prop_oneof![Just(0u64), 1u64..5_000, Just(45_000), Just(150_000), Just(3_600_000)]
            .prop_map(|ms| Op::Advance { ms }),
        3 => (0usize..60).prop_map(|n| Op::Take { n }),
        1 => Just(Op::Schemas),
    ]
}

fn config_for_property() -> PubSubConfig {
    let mut c = config()
        .replay_fallback(Some(ReplayFallback::All))
        .max_pending(100);
    c.credentials = Credentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: Secret::new(""),
        refresh_token: Secret::new("refresh"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    };
    c
}

/// The test's view of a `Subscribe` call: the server's last figure and the requests sent since;
/// while only the exact server answered on it, what that server is owed.
struct View {
    last_pending: u32,
    requests_seen: usize,
    since_last_response: u32,
    unchecked: bool,
    exact: Option<u32>,
    next_event: u64,
}

impl Default for View {
    fn default() -> Self {
        Self {
            last_pending: 0,
            requests_seen: 0,
            since_last_response: 0,
            unchecked: false,
            exact: Some(0),
            next_event: 1,
        }
    }
}

fn check(sc: &PubSubScenario, views: &mut BTreeMap<CallId, View>) {
    for (id, call) in &sc.calls {
        if call.kind != CallKind::Subscribe {
            continue;
        }
        let view = views.entry(*id).or_default();
        let requests = call.fetch_requests();
        for r in &requests[view.requests_seen..] {
            assert!(r.num_requested > 0, "asked for {} events", r.num_requested);
            view.since_last_response += r.num_requested as u32;
            if let Some(owed) = view.exact.as_mut() {
                *owed += r.num_requested as u32;
                assert!(*owed <= 100, "{id}: the exact server is owed {owed}");
            }
            if !view.unchecked {
                assert!(
                    view.last_pending + view.since_last_response <= 100,
                    "{id}: the server said {} owed, and {} were asked for since",
                    view.last_pending,
                    view.since_last_response
                );
            }
        }
        view.requests_seen = requests.len();
    }
}

fn run(ops: Vec<Op>) {
    let mut sc = PubSubScenario::new(config_for_property());
    sc.auto_schemas = false;
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    sc.s.subscribe(OTHER, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    sc.pump();
    let mut views: BTreeMap<CallId, View> = BTreeMap::new();
    for op in ops {
        let ids: Vec<CallId> = sc.calls.keys().copied().collect();
        let pick = |i: usize| (!ids.is_empty()).then(|| ids[i % ids.len()]);
        match op {
            Op::Serve { call, events } => {
                let subscribe: Vec<CallId> = sc
                    .calls
                    .iter()
                    .filter(|(_, c)| c.kind == CallKind::Subscribe)
                    .map(|(id, _)| *id)
                    .collect();
                if subscribe.is_empty() {
                    continue;
                }
                let call = subscribe[call % subscribe.len()];
                let view = views.entry(call).or_default();
                let Some(owed) = view.exact else { continue };
                let n = owed.min(events);
                let first = view.next_event;
                view.next_event += u64::from(n);
                view.exact = Some(owed - n);
                view.last_pending = owed - n;
                view.since_last_response = 0;
                let response = batch(first..first + u64::from(n), (owed - n) as i32);
                sc.s.handle_data(call, &encode_message(&response).unwrap(), sc.now);
            }
            Op::Head { call, grpc, status } => {
                let Some(call) = pick(call) else { continue };
                let mut h = HeaderMap::new();
                if grpc {
                    h.insert("content-type", "application/grpc".parse().unwrap());
                }
                if let Some(s) = status {
                    h.insert("grpc-status", s.to_string().parse().unwrap());
                }
                sc.s.handle_headers(call, StatusCode::OK, &h, sc.now);
            }
            Op::Response {
                call,
                events,
                pending,
                split,
            } => {
                let Some(call) = pick(call) else { continue };
                let wire = encode_message(&batch(events.iter().copied(), pending)).unwrap();
                let at = split % (wire.len() + 1);
                sc.s.handle_data(call, &wire[..at], sc.now);
                sc.s.handle_data(call, &wire[at..], sc.now);
                let view = views.entry(call).or_default();
                view.last_pending = pending.max(0) as u32;
                view.since_last_response = 0;
                view.exact = None;
            }
            Op::Garbage { call, bytes } => {
                let Some(call) = pick(call) else { continue };
                sc.s.handle_data(call, &bytes, sc.now);
                let view = views.entry(call).or_default();
                view.unchecked = true;
                view.exact = None;
            }
            Op::Trailers { call, status, code } => {
                let Some(call) = pick(call) else { continue };
                let mut t = HeaderMap::new();
                t.insert("grpc-status", status.to_string().parse().unwrap());
                if !CODES[code].is_empty() {
                    t.insert("error-code", CODES[code].parse().unwrap());
                }
                sc.s.handle_trailers(call, &t, sc.now);
            }
            Op::Reset { call, code } => {
                let Some(call) = pick(call) else { continue };
                sc.s.handle_reset(call, code, sc.now);
            }
            Op::Fail { call } => {
                let Some(call) = pick(call) else { continue };
                sc.s.handle_call_error(call, TransportError::Io("broken".into()), sc.now);
            }
            Op::Token { ok } => {
                if let Some(t) = sc.transmits.pop_front() {
                    let (status, body) = if ok {
                        (
                            200,
                            json!({"access_token": "00DEM0000000001!tok", "instance_url": "https://na1.example.com"}),
                        )
                    } else {
                        (503, json!({"error": "busy"}))
                    };
                    let response = http::Response::builder()
                        .status(status)
                        .body(serde_json::to_vec(&body).unwrap())
                        .unwrap();
                    sc.s.handle_response(t.id, response, sc.now);
                }
            }
            Op::Advance { ms } => {
                sc.now += std::time::Duration::from_millis(ms);
                sc.s.handle_timeout(sc.now);
            }
            Op::Take { n } => {
                let _ = sc.take(n);
            }
            Op::Schemas => {
                sc.serve_schemas();
            }
        }
        sc.pump();
        check(&sc, &mut views);
        // Liveness: a topic without a stream waits for a timer, a token, or the application.
        if !sc.s.is_closed() {
            let streaming = sc.s.streaming();
            for topic in sc.s.topics() {
                if streaming.contains(&topic) {
                    continue;
                }
                let held = sc.s.buffered(topic).unwrap_or(0);
                assert!(
                    sc.s.poll_timeout().is_some() || !sc.transmits.is_empty() || held >= 100,
                    "{topic} has no stream and nothing to wait for: {:?}",
                    sc.s
                );
            }
        }
    }
    let _ = format!("{:?}", sc.s);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_interleaving_is_safe(ops in prop::collection::vec(op(), 1..80)) {
        run(ops);
    }
}
