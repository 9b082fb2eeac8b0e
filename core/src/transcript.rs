//! Drive a [`Session`] through a recorded exchange, without a network.
//!
//! A transcript is a JSON document: a configuration, the channels to subscribe, and a list of
//! steps. Each step either checks what the session did (the next request it sent, an event, a
//! delivered message) or feeds it something (a response, a transport error, the passing of time).
//! Users record Salesforce traffic once and test their handling of it offline; this crate's own
//! tests use it for every rule of the protocol.
//!
//! ```json
//! {
//!   "config": {"access_token": "tok", "instance_url": "https://na1.example.com"},
//!   "subscribe": [{"channel": "/event/Order__e"}],
//!   "steps": [
//!     {"send": {"kind": "handshake", "as": "hs"}},
//!     {"reply": {"to": "hs", "body": [{"channel": "/meta/handshake", "successful": true, "clientId": "c1"}]}},
//!     {"send": {"kind": "connect", "json": [{"advice": {"timeout": 0}}]}},
//!     {"event": {"type": "handshaken"}}
//!   ]
//! }
//! ```
//!
//! Request checks: `kind` (token, handshake, connect, control, disconnect), `json` (a JSON value
//! that must be contained in the request body: objects by subset, arrays element by element),
//! `body_contains`, `header` (name → exact value), `header_contains`, `header_absent`. Requests
//! are checked in the order the session sent them. `as` names a request for `reply`/`fail`;
//! without `to`, a reply goes to the oldest unanswered request. Reply messages on meta channels
//! without an `id` get the id of the sent message they answer.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use serde_json::Value;

use crate::config::{CommitPolicy, Config, ReplayFallback, ReplayFrom, RetryPolicy};
use crate::oauth::{Credentials, LoginUrl};
use crate::secret::Secret;
use crate::transmit::{RequestId, RequestKind, Transmit, TransportError};
use crate::{Event, Message, Session};

/// A recorded exchange.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    /// What the transcript shows, for humans.
    #[serde(default)]
    pub description: String,
    /// The session configuration.
    pub config: TranscriptConfig,
    /// Channels subscribed before `open`.
    #[serde(default)]
    pub subscribe: Vec<TranscriptSubscription>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// The configuration of a transcript's session. Credentials are fake: transcripts are test data.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptConfig {
    /// A ready access token (with `instance_url`).
    pub access_token: Option<String>,
    /// The instance URL for `access_token`.
    pub instance_url: Option<String>,
    /// Password flow: `[client_id, client_secret, username, password]`, with `login_url`.
    pub password: Option<[String; 4]>,
    /// Login URL for the password flow (default `https://login.salesforce.com`).
    pub login_url: Option<String>,
    /// A plain Bayeux endpoint instead of Salesforce.
    pub bayeux_url: Option<String>,
    /// API version.
    pub api_version: Option<String>,
    /// Default replay start: `new`, `all` or an id.
    pub replay: Option<Value>,
    /// Replay fallback: `new` or `all`.
    pub replay_fallback: Option<String>,
    /// `manual` for manual commits.
    pub commit: Option<String>,
    /// Backoff: initial delay in milliseconds (jitter is off in transcripts, so delays are exact).
    pub retry_initial_ms: Option<u64>,
    /// Backoff: cap in milliseconds.
    pub retry_max_ms: Option<u64>,
    /// Max pending messages.
    pub max_pending: Option<usize>,
    /// Connection timeout in milliseconds (0 = none).
    pub connection_timeout_ms: Option<u64>,
}

/// A channel to subscribe before the session opens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptSubscription {
    /// The channel.
    pub channel: String,
    /// Where to start: `new`, `all` or an id.
    pub replay: Option<Value>,
}

/// One step of a transcript.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Step {
    /// The next request the session sent must match.
    Send(ExpectRequest),
    /// No request may be waiting to be sent.
    NoSend(Value),
    /// Answer a request.
    Reply(Reply),
    /// Fail a request with a transport error (`timeout`, `connect`, `io`).
    Fail {
        /// The request's name; default the oldest unanswered.
        to: Option<String>,
        /// The error kind.
        error: String,
    },
    /// Let time pass, then call `handle_timeout`.
    AdvanceMs(u64),
    /// An event of this type (and fields) must come out; other events before it are skipped.
    Event(Value),
    /// No event of this type may have come out since the last check.
    NoEvent(String),
    /// The next delivered message must match (`channel`, `replay_id`, `kind`).
    Message(Value),
    /// No message may be waiting.
    NoMessage(Value),
    /// Commit a replay id (manual policy): `{"channel": …, "replay_id": …}`.
    Commit(Value),
    /// Subscribe to a channel now.
    Subscribe(TranscriptSubscription),
    /// Unsubscribe from a channel now.
    Unsubscribe(String),
    /// Close the session.
    Close(Value),
}

/// Checks on a request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRequest {
    /// The request kind.
    pub kind: Option<String>,
    /// A name for later `reply`/`fail` steps.
    #[serde(rename = "as")]
    pub name: Option<String>,
    /// JSON the body must contain.
    pub json: Option<Value>,
    /// Text the body must contain.
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// Headers that must have exactly this value.
    #[serde(default)]
    pub header: BTreeMap<String, String>,
    /// Headers that must contain this text.
    #[serde(default)]
    pub header_contains: BTreeMap<String, String>,
    /// Headers that must be absent.
    #[serde(default)]
    pub header_absent: Vec<String>,
    /// Text the URL must contain.
    pub url_contains: Option<String>,
    /// Milliseconds from now to the request's deadline must be at least this.
    pub deadline_at_least_ms: Option<u64>,
}

/// A response to feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The request's name; default the oldest unanswered.
    pub to: Option<String>,
    /// HTTP status, default 200.
    pub status: Option<u16>,
    /// Response headers; a list value gives several headers of one name.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// The JSON body.
    pub body: Option<Value>,
    /// A raw text body instead of JSON (for malformed responses).
    pub raw_body: Option<String>,
}

/// Why a transcript did not play through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transcript step {step}: {reason}")]
pub struct TranscriptError {
    /// The index of the failing step (0-based); `usize::MAX` for setup problems.
    pub step: usize,
    /// What did not match.
    pub reason: String,
}

/// What a played transcript produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every event, in order.
    pub events: Vec<Event>,
    /// Every delivered message, in order.
    pub messages: Vec<Message>,
    /// The simulated time that passed.
    pub elapsed: Duration,
}

/// Replays transcripts.
#[derive(Debug)]
pub struct Player {
    session: Session,
    start: Instant,
    now: Instant,
    sent: VecDeque<Transmit>,
    unanswered: Vec<(Option<String>, RequestId, Vec<u8>)>,
    fresh_events: VecDeque<Event>,
    outcome: Outcome,
}

impl Transcript {
    /// Parses a transcript.
    pub fn from_json(text: &str) -> Result<Self, TranscriptError> {
        serde_json::from_str(text).map_err(|e| setup(format!("not a transcript: {e}")))
    }

    /// Plays the transcript. `start` is any instant (the core takes time as a value; only
    /// differences matter), e.g. `Instant::now()` in a test.
    pub fn play(&self, start: Instant) -> Result<Outcome, TranscriptError> {
        let mut player = Player::new(self, start)?;
        for (i, step) in self.steps.iter().enumerate() {
            player
                .step(step)
                .map_err(|reason| TranscriptError { step: i, reason })?;
        }
        player.collect();
        player.outcome.elapsed = player.now - player.start;
        Ok(player.outcome)
    }
}

fn setup(reason: String) -> TranscriptError {
    TranscriptError {
        step: usize::MAX,
        reason,
    }
}

fn replay_from(v: &Value) -> Result<ReplayFrom, String> {
    match v {
        Value::String(s) if s == "new" => Ok(ReplayFrom::New),
        Value::String(s) if s == "all" => Ok(ReplayFrom::All),
        Value::Number(n) => n
            .as_i64()
            .map(ReplayFrom::from_wire)
            .ok_or_else(|| format!("replay id {n} is not an integer")),
        other => Err(format!(
            "replay must be \"new\", \"all\" or an integer, not {other}"
        )),
    }
}

impl TranscriptConfig {
    /// Builds the session configuration.
    pub fn to_config(&self) -> Result<Config, String> {
        let mut config = if let Some(url) = &self.bayeux_url {
            Config::bayeux(url.clone())
        } else if let Some(token) = &self.access_token {
            Config::salesforce(Credentials::AccessToken {
                access_token: Secret::new(token.clone()),
                instance_url: self
                    .instance_url
                    .clone()
                    .ok_or("access_token needs instance_url")?,
            })
        } else if let Some([id, secret, user, password]) = &self.password {
            let login = match self.login_url.as_deref() {
                None => LoginUrl::Production,
                Some(url) => LoginUrl::Custom(url.to_owned()),
            };
            Config::salesforce(Credentials::Password {
                client_id: id.clone(),
                client_secret: Secret::new(secret.clone()),
                username: user.clone(),
                password: Secret::new(password.clone()),
                login,
            })
        } else {
            return Err("config needs access_token, password or bayeux_url".into());
        };
        if let Some(v) = &self.api_version {
            config = config.api_version(v.clone());
        }
        if let Some(r) = &self.replay {
            config = config.replay(replay_from(r)?);
        }
        config.replay_fallback = match self.replay_fallback.as_deref() {
            None => None,
            Some("new") => Some(ReplayFallback::New),
            Some("all") => Some(ReplayFallback::All),
            Some(o) => return Err(format!("replay_fallback {o:?}: use \"new\" or \"all\"")),
        };
        if self.commit.as_deref() == Some("manual") {
            config.commit = CommitPolicy::Manual;
        }
        let defaults = RetryPolicy::default();
        config.retry = RetryPolicy {
            initial: self
                .retry_initial_ms
                .map_or(defaults.initial, Duration::from_millis),
            max: self
                .retry_max_ms
                .map_or(defaults.max, Duration::from_millis),
            jitter: 0.0,
            ..defaults
        };
        if let Some(m) = self.max_pending {
            config.max_pending = m;
        }
        if let Some(ms) = self.connection_timeout_ms {
            config.connection_timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        Ok(config)
    }
}

impl Player {
    /// Sets up the session of a transcript, subscribes and opens it.
    pub fn new(t: &Transcript, start: Instant) -> Result<Self, TranscriptError> {
        let config = t.config.to_config().map_err(setup)?;
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut session = Session::new(config, start, wall).map_err(|e| setup(e.to_string()))?;
        for s in &t.subscribe {
            let from = s
                .replay
                .as_ref()
                .map(replay_from)
                .transpose()
                .map_err(setup)?;
            session
                .subscribe(&s.channel, from, start)
                .map_err(|e| setup(e.to_string()))?;
        }
        session.open(start).map_err(|e| setup(e.to_string()))?;
        let mut p = Self {
            session,
            start,
            now: start,
            sent: VecDeque::new(),
            unanswered: Vec::new(),
            fresh_events: VecDeque::new(),
            outcome: Outcome::default(),
        };
        p.collect();
        Ok(p)
    }

    /// The session being driven.
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    fn collect(&mut self) {
        while let Some(t) = self.session.poll_transmit() {
            self.sent.push_back(t);
        }
        while let Some(id) = self.session.poll_cancel() {
            self.unanswered.retain(|(_, r, _)| *r != id);
            self.sent.retain(|t| t.id != id);
        }
        while let Some(e) = self.session.poll_event() {
            self.fresh_events.push_back(e.clone());
            self.outcome.events.push(e);
        }
    }

    fn take(&mut self, to: Option<&str>) -> Result<(RequestId, Vec<u8>), String> {
        let pos = match to {
            Some(name) => self
                .unanswered
                .iter()
                .position(|(n, _, _)| n.as_deref() == Some(name))
                .ok_or_else(|| format!("no unanswered request named {name:?}"))?,
            None if self.unanswered.is_empty() => return Err("no unanswered request".into()),
            None => 0,
        };
        let (_, id, body) = self.unanswered.remove(pos);
        Ok((id, body))
    }

    /// Runs one step.
    pub fn step(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Send(expect) => {
                let t = self
                    .sent
                    .pop_front()
                    .ok_or_else(|| "expected a request, but the session sent none".to_owned())?;
                check_request(&t, expect, self.now)?;
                self.unanswered
                    .push((expect.name.clone(), t.id, t.request.body().clone()));
            }
            Step::NoSend(_) => {
                if let Some(t) = self.sent.front() {
                    return Err(format!(
                        "expected no request, but the session sent a {} request",
                        t.kind.as_str()
                    ));
                }
            }
            Step::Reply(reply) => {
                let (id, sent) = self.take(reply.to.as_deref())?;
                let response = build_response(reply, &sent)?;
                self.session.handle_response(id, response, self.now);
            }
            Step::Fail { to, error } => {
                let (id, _) = self.take(to.as_deref())?;
                let error = match error.as_str() {
                    "timeout" => TransportError::Timeout,
                    "connect" => TransportError::Connect("connection refused".into()),
                    "io" => TransportError::Io("connection reset".into()),
                    o => return Err(format!("unknown transport error {o:?}")),
                };
                self.session.handle_transport_error(id, error, self.now);
            }
            Step::AdvanceMs(ms) => {
                self.now += Duration::from_millis(*ms);
                self.session.handle_timeout(self.now);
            }
            Step::Event(want) => {
                let ty = want.get("type").and_then(Value::as_str).unwrap_or_default();
                loop {
                    let Some(e) = self.fresh_events.pop_front() else {
                        return Err(format!(
                            "expected a {ty:?} event matching {want}, none came"
                        ));
                    };
                    if event_matches(&e, want) {
                        break;
                    }
                }
            }
            Step::NoEvent(ty) => {
                if let Some(e) = self.fresh_events.iter().find(|e| event_type(e) == ty) {
                    return Err(format!(
                        "expected no {ty:?} event, got {}",
                        event_summary(e)
                    ));
                }
            }
            Step::Message(want) => {
                let m = self
                    .session
                    .poll_message()
                    .ok_or_else(|| format!("expected a message matching {want}, none waits"))?;
                check_message(&m, want)?;
                self.outcome.messages.push(m);
            }
            Step::NoMessage(_) => {
                if self.session.pending() > 0 {
                    return Err(format!(
                        "expected no message, {} wait",
                        self.session.pending()
                    ));
                }
            }
            Step::Commit(v) => {
                let channel = v.get("channel").and_then(Value::as_str).unwrap_or_default();
                let id = v
                    .get("replay_id")
                    .and_then(Value::as_i64)
                    .ok_or("commit needs replay_id")?;
                self.session
                    .commit(channel, id)
                    .map_err(|e| e.to_string())?;
            }
            Step::Subscribe(s) => {
                let from = s.replay.as_ref().map(replay_from).transpose()?;
                self.session
                    .subscribe(&s.channel, from, self.now)
                    .map_err(|e| e.to_string())?;
            }
            Step::Unsubscribe(c) => self
                .session
                .unsubscribe(c, self.now)
                .map_err(|e| e.to_string())?,
            Step::Close(_) => self.session.close(self.now),
        }
        self.collect();
        Ok(())
    }
}

fn check_request(t: &Transmit, want: &ExpectRequest, now: Instant) -> Result<(), String> {
    if let Some(kind) = &want.kind {
        if t.kind.as_str() != kind {
            return Err(format!(
                "expected a {kind} request, the session sent a {} request: {}",
                t.kind.as_str(),
                body_text(t)
            ));
        }
    }
    let body = body_text(t);
    if let Some(json) = &want.json {
        let actual: Value = if t.kind == RequestKind::Token {
            let map: serde_json::Map<String, Value> = form_urlencoded::parse(t.request.body())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Value::Object(map)
        } else {
            serde_json::from_str(&body).map_err(|e| format!("request body is not JSON: {e}"))?
        };
        if !contains(&actual, json) {
            return Err(format!("request body {actual} does not contain {json}"));
        }
    }
    for needle in &want.body_contains {
        if !body.contains(needle.as_str()) {
            return Err(format!("request body does not contain {needle:?}"));
        }
    }
    let header = |name: &str| t.request.headers().get(name).and_then(|v| v.to_str().ok());
    for (name, value) in &want.header {
        // The value is not printed: headers such as Authorization carry secrets.
        if header(name) != Some(value.as_str()) {
            return Err(format!("header {name} does not have the expected value"));
        }
    }
    for (name, part) in &want.header_contains {
        if !header(name).is_some_and(|h| h.contains(part.as_str())) {
            return Err(format!("header {name} does not contain {part:?}"));
        }
    }
    for name in &want.header_absent {
        if header(name).is_some() {
            return Err(format!("header {name} should be absent"));
        }
    }
    if let Some(part) = &want.url_contains {
        if !t.request.uri().to_string().contains(part.as_str()) {
            return Err(format!("URL {} does not contain {part:?}", t.request.uri()));
        }
    }
    if let Some(ms) = want.deadline_at_least_ms {
        let left = t.deadline.saturating_duration_since(now);
        if left < Duration::from_millis(ms) {
            return Err(format!(
                "deadline in {}ms, expected at least {ms}ms",
                left.as_millis()
            ));
        }
    }
    Ok(())
}

fn body_text(t: &Transmit) -> String {
    if t.kind == RequestKind::Token {
        return "(form body not shown)".into();
    }
    String::from_utf8_lossy(t.request.body()).into_owned()
}

/// Whether `actual` contains `want`: objects by subset, arrays element by element (each wanted
/// element contained in the actual element at the same index), other values by equality.
#[must_use]
pub fn contains(actual: &Value, want: &Value) -> bool {
    match (actual, want) {
        (Value::Object(a), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| a.get(k).is_some_and(|av| contains(av, wv))),
        (Value::Array(a), Value::Array(w)) => {
            w.len() <= a.len() && w.iter().zip(a).all(|(wv, av)| contains(av, wv))
        }
        _ => actual == want,
    }
}

/// Gives reply messages without an `id` the id of the sent message they answer (same channel and
/// subscription), so transcripts need not know the ids the session chose.
fn echo_ids(body: &Value, sent: &[u8]) -> Value {
    let sent: Vec<Value> = serde_json::from_slice(sent).unwrap_or_default();
    let mut used = vec![false; sent.len()];
    let mut body = body.clone();
    if let Value::Array(replies) = &mut body {
        for reply in replies.iter_mut() {
            let Value::Object(r) = reply else { continue };
            if r.contains_key("id") {
                continue;
            }
            let channel = r.get("channel").cloned();
            if !channel
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|c| c.starts_with("/meta/"))
                || channel.as_ref().and_then(Value::as_str) == Some("/meta/disconnect")
                    && !r.contains_key("successful")
            {
                continue;
            }
            let found = sent.iter().enumerate().position(|(i, m)| {
                !used[i]
                    && m.get("channel") == channel.as_ref()
                    && (r.get("subscription").is_none()
                        || m.get("subscription") == r.get("subscription"))
            });
            if let Some(i) = found {
                used[i] = true;
                if let Some(id) = sent[i].get("id") {
                    r.insert("id".into(), id.clone());
                }
            }
        }
    }
    body
}

fn build_response(reply: &Reply, sent: &[u8]) -> Result<http::Response<Vec<u8>>, String> {
    let body = match (&reply.body, &reply.raw_body) {
        (_, Some(raw)) => raw.clone().into_bytes(),
        (Some(json), None) => {
            serde_json::to_vec(&echo_ids(json, sent)).map_err(|e| e.to_string())?
        }
        (None, None) => Vec::new(),
    };
    let mut builder = http::Response::builder().status(reply.status.unwrap_or(200));
    for (name, value) in &reply.headers {
        match value {
            Value::Array(values) => {
                for v in values {
                    builder = builder.header(name, v.as_str().unwrap_or_default());
                }
            }
            v => builder = builder.header(name, v.as_str().unwrap_or_default()),
        }
    }
    builder.body(body).map_err(|e| format!("bad reply: {e}"))
}

fn check_message(m: &Message, want: &Value) -> Result<(), String> {
    if let Some(c) = want.get("channel").and_then(Value::as_str) {
        if m.channel() != c {
            return Err(format!(
                "expected a message on {c}, got one on {}",
                m.channel()
            ));
        }
    }
    if let Some(id) = want.get("replay_id") {
        if m.replay_id() != id.as_i64() {
            return Err(format!("expected replay id {id}, got {:?}", m.replay_id()));
        }
    }
    if let Some(k) = want.get("kind").and_then(Value::as_str) {
        if m.kind().as_str() != k {
            return Err(format!("expected kind {k}, got {}", m.kind()));
        }
    }
    if let Some(d) = want.get("created_date").and_then(Value::as_str) {
        if m.created_date().as_deref() != Some(d) {
            return Err(format!(
                "expected created date {d}, got {:?}",
                m.created_date()
            ));
        }
    }
    Ok(())
}

/// The snake_case name of an event's type, as transcripts write it.
#[must_use]
pub fn event_type(e: &Event) -> &'static str {
    match e {
        Event::Authenticated { .. } => "authenticated",
        Event::Handshaken { .. } => "handshaken",
        Event::Connected => "connected",
        Event::Subscribed { .. } => "subscribed",
        Event::SubscribeFailed { .. } => "subscribe_failed",
        Event::Unsubscribed { .. } => "unsubscribed",
        Event::Checkpoint { .. } => "checkpoint",
        Event::ReplayFallback { .. } => "replay_fallback",
        Event::Reconnecting { .. } => "reconnecting",
        Event::ConnectionRestored => "connection_restored",
        Event::Error(_) => "error",
        Event::Disconnected(_) => "disconnected",
    }
}

fn event_summary(e: &Event) -> String {
    format!("{e:?}")
}

fn event_matches(e: &Event, want: &Value) -> bool {
    let ty = want.get("type").and_then(Value::as_str).unwrap_or_default();
    if event_type(e) != ty {
        return false;
    }
    let field = |k: &str| want.get(k);
    let str_is =
        |k: &str, actual: &str| field(k).and_then(Value::as_str).is_none_or(|w| w == actual);
    let text_has = |k: &str, actual: &str| {
        field(k)
            .and_then(Value::as_str)
            .is_none_or(|w| actual.contains(w))
    };
    match e {
        Event::Subscribed {
            channel,
            replay_from,
        } => {
            str_is("channel", channel)
                && field("replay").is_none_or(|r| replay_from_matches(*replay_from, r))
        }
        Event::SubscribeFailed { channel, error } => {
            str_is("channel", channel) && text_has("error_contains", &error.to_string())
        }
        Event::Unsubscribed { channel } => str_is("channel", channel),
        Event::Checkpoint { channel, replay_id } => {
            str_is("channel", channel)
                && field("replay_id").is_none_or(|r| r.as_i64() == Some(*replay_id))
        }
        Event::ReplayFallback {
            channel,
            rejected,
            using,
            ..
        } => {
            str_is("channel", channel)
                && field("rejected").is_none_or(|r| r.as_i64() == *rejected)
                && field("using").is_none_or(|r| replay_from_matches(*using, r))
        }
        Event::Reconnecting { after, reason } => {
            field("after_ms").is_none_or(|ms| ms.as_u64() == Some(after.as_millis() as u64))
                && text_has("reason_contains", &reason.to_string())
        }
        Event::Handshaken { client_id } => str_is("client_id", client_id),
        Event::Error(err) => text_has("contains", &err.to_string()),
        Event::Disconnected(reason) => text_has("contains", &format!("{reason:?}")),
        Event::Authenticated { instance_url, .. } => str_is("instance_url", instance_url),
        Event::Connected | Event::ConnectionRestored => true,
    }
}

fn replay_from_matches(actual: ReplayFrom, want: &Value) -> bool {
    replay_from(want).is_ok_and(|w| w == actual)
}
