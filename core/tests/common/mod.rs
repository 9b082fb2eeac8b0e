//! A scenario builder: drives a `Session` to a state with simulated time, so each test starts
//! where its rule applies.
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

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::{
    Config, Event, Message, RequestKind, RetryPolicy, Secret, Session, Transmit, TransportError,
};

pub const CLIENT: &str = "client-1";

pub fn token_config() -> Config {
    let mut c = Config::salesforce(Credentials::AccessToken {
        access_token: Secret::new("tok-secret-1"),
        instance_url: "https://na1.example.com".into(),
    });
    c.retry = RetryPolicy {
        initial: Duration::from_millis(1000),
        max: Duration::from_secs(30),
        max_for_limits: Duration::from_secs(300),
        multiplier: 2.0,
        jitter: 0.0,
    };
    c
}

/// The password flow against a custom login host, with [`token_config`]'s retry policy.
pub fn password_config() -> Config {
    let mut c = token_config();
    c.endpoint = Config::salesforce(Credentials::Password {
        client_id: "cid".into(),
        client_secret: Secret::new("client-secret-xyz"),
        username: "user@example.com".into(),
        password: Secret::new("hunter2TOKEN"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    })
    .endpoint;
    c
}

pub struct Scenario {
    pub s: Session,
    pub now: Instant,
    pub sent: VecDeque<Transmit>,
    pub events: Vec<Event>,
    replay_from: Option<i64>,
}

impl Scenario {
    pub fn new(config: Config) -> Self {
        let now = Instant::now();
        let s = Session::new(
            config,
            now,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
        .expect("valid config");
        Self {
            s,
            now,
            sent: VecDeque::new(),
            events: Vec::new(),
            replay_from: None,
        }
    }

    /// Opened, handshaken, first connect answered with Salesforce's advice, channels subscribed.
    pub fn connected(config: Config, channels: &[&str]) -> Self {
        let mut sc = Self::new(config);
        for c in channels {
            sc.s.subscribe(c, None, sc.now).unwrap();
        }
        sc.s.open(sc.now).unwrap();
        sc.pump();
        sc.handshake_ok(CLIENT);
        let first = sc.next(RequestKind::Connect);
        if !channels.is_empty() {
            let subs = sc.next(RequestKind::Control);
            sc.reply_ok(&subs);
        }
        sc.reply(
            &first,
            json!([{"channel": "/meta/connect", "successful": true, "clientId": CLIENT,
            "advice": {"interval": 0, "timeout": 110000, "reconnect": "retry"}}]),
        );
        sc
    }

    pub fn handshake_ok(&mut self, client_id: &str) {
        let hs = self.next(RequestKind::Handshake);
        self.reply(
            &hs,
            json!([{"channel": "/meta/handshake", "successful": true, "clientId": client_id,
            "version": "1.0", "ext": {"replay": true, "payload.format": true}}]),
        );
    }

    pub fn pump(&mut self) {
        while let Some(t) = self.s.poll_transmit() {
            self.sent.push_back(t);
        }
        while let Some(id) = self.s.poll_cancel() {
            self.sent.retain(|t| t.id != id);
        }
        while let Some(e) = self.s.poll_event() {
            self.events.push(e);
        }
    }

    pub fn next(&mut self, kind: RequestKind) -> Transmit {
        self.pump();
        let t = self
            .sent
            .pop_front()
            .unwrap_or_else(|| panic!("expected a {kind:?} request, none sent"));
        assert_eq!(
            t.kind,
            kind,
            "request body: {}",
            String::from_utf8_lossy(t.request.body())
        );
        t
    }

    pub fn nothing_sent(&mut self) -> bool {
        self.pump();
        self.sent.is_empty()
    }

    pub fn body(t: &Transmit) -> Value {
        serde_json::from_slice(t.request.body()).expect("JSON body")
    }

    /// Answers with `body`, filling in the id of each meta reply from the request.
    pub fn reply(&mut self, t: &Transmit, mut body: Value) {
        let sent = Self::body(t);
        if let (Value::Array(replies), Value::Array(sent)) = (&mut body, &sent) {
            let mut i = 0;
            for r in replies.iter_mut() {
                let is_meta = r["channel"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("/meta/") && c != "/meta/disconnect");
                if is_meta && r.get("id").is_none() {
                    if let Some(m) = sent.get(i) {
                        r["id"] = m["id"].clone();
                        if r.get("subscription").is_none() && m.get("subscription").is_some() {
                            r["subscription"] = m["subscription"].clone();
                        }
                    }
                    i += 1;
                }
            }
        }
        self.reply_raw(t, 200, serde_json::to_vec(&body).unwrap());
    }

    /// Answers every message of a request with success.
    pub fn reply_ok(&mut self, t: &Transmit) {
        let sent = Self::body(t);
        let replies: Vec<Value> = sent.as_array().unwrap().iter().map(|m| json!({
            "channel": m["channel"], "id": m["id"], "subscription": m.get("subscription"), "clientId": m.get("clientId"), "successful": true
        })).collect();
        self.reply(t, Value::Array(replies));
    }

    /// A tiny server for re-fetch loops on one channel whose events are `1..=last`: answers a
    /// control request with success (remembering a subscribe's replay point), and a long poll
    /// with the events after the last replay point (or none).
    pub fn serve_replay(&mut self, t: &Transmit, channel: &str, last: i64) {
        let body = Self::body(t);
        if t.kind == RequestKind::Control {
            if let Some(from) = body[0]["ext"]["replay"][channel].as_i64() {
                self.replay_from = Some(from);
            }
            self.reply_ok(t);
        } else {
            let events: Vec<Value> = match self.replay_from.take() {
                Some(from) => ((from + 1)..=last).map(|i| event_msg(channel, i)).collect(),
                None => Vec::new(),
            };
            let reply: Vec<Value> = events.into_iter().chain([connect_ok()]).collect();
            self.reply(t, Value::Array(reply));
        }
    }

    pub fn reply_raw(&mut self, t: &Transmit, status: u16, body: Vec<u8>) {
        let response = http::Response::builder().status(status).body(body).unwrap();
        self.s.handle_response(t.id, response, self.now);
        self.pump();
    }

    pub fn fail(&mut self, t: &Transmit, error: TransportError) {
        self.s.handle_transport_error(t.id, error, self.now);
        self.pump();
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        self.s.handle_timeout(self.now);
        self.pump();
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        self.pump();
        std::mem::take(&mut self.events)
    }

    pub fn messages(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(m) = self.s.poll_message() {
            out.push(m);
        }
        // As an adapter does: taking messages may let a held long poll go.
        if self.s.wants_drive() {
            self.s.handle_timeout(self.now);
        }
        self.pump();
        out
    }

    pub fn reconnect_delays(&self) -> Vec<u128> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Reconnecting { after, .. } => Some(after.as_millis()),
                _ => None,
            })
            .collect()
    }
}

pub fn event_msg(channel: &str, replay_id: i64) -> Value {
    json!({"channel": channel, "data": {"schema": "s", "payload": {"CreatedDate": "2024-01-01T00:00:00Z", "N": replay_id},
        "event": {"replayId": replay_id, "EventUuid": format!("uuid-{replay_id}")}}})
}

pub fn connect_ok() -> Value {
    json!({"channel": "/meta/connect", "successful": true, "clientId": CLIENT})
}
