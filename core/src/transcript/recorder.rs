//! Recording a session as a transcript, without I/O: the session notes each command, input and
//! output here as it happens (see `Session::record`); the adapter appends the text to a file.
//!
//! A recorded transcript repeats the session exactly when the player plays it: the same
//! configuration (with the seed), the same inputs in the same order at the same instants
//! (`clock_ns` steps), the response path in steps as the adapter took it (`arrive`, then
//! `hand_over`). Requests are named by the order the session made them (`r1`, `r2` …) and
//! checked by kind (control requests also by channel, subscription and replay map), never by
//! headers or credentials.
//!
//! No secret is written: the configuration's credentials become placeholders; token responses
//! keep their shape with every token replaced; `Set-Cookie` values, and any header carrying
//! credentials, are replaced; and every secret the session knows (its credentials and every
//! token it received) is replaced wherever else it appears.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use http::{HeaderMap, Response};
use serde_json::{Map, Value, json};

use super::TranscriptConfig;
use crate::config::{Config, Endpoint, ReplayFrom};
use crate::oauth::Credentials;
use crate::transmit::{RequestId, RequestKind, Transmit, TransportError};
use crate::{Message, Received};

/// What replaces a secret in a recorded transcript.
pub const REDACTED: &str = "REDACTED";

/// The end of a recorded transcript's text: an adapter writes it after the text it has, and
/// writes the next text over it, so the file is a complete transcript after every write.
pub const RECORDING_TRAILER: &str = "\n]}\n";

/// Token response fields whose values are secrets.
const TOKEN_FIELDS: &[&str] = &["access_token", "refresh_token", "id_token", "signature"];

/// Response headers never written.
const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

pub(crate) struct Recorder {
    /// The instant `open` was called: the start of the transcript's clock.
    start: Option<Instant>,
    clock: Duration,
    config: Config,
    subscribe: Vec<Value>,
    stored: Option<(BTreeMap<String, i64>, Option<i64>)>,
    secrets: Vec<String>,
    text: String,
    /// Whether a step was written: every later one starts with a separator.
    stepped: bool,
    /// Requests whose response arrived and was not handed over yet.
    arrived: Vec<RequestId>,
}

impl Recorder {
    pub(crate) fn new(config: &Config) -> Self {
        let mut secrets = Vec::new();
        if let Endpoint::Salesforce { credentials, .. } = &config.endpoint {
            let mut keep = |s: &crate::Secret| {
                if !s.is_empty() {
                    secrets.push(s.expose().to_owned());
                }
            };
            match credentials {
                Credentials::Password {
                    client_secret,
                    password,
                    ..
                } => {
                    keep(client_secret);
                    keep(password);
                }
                Credentials::RefreshToken {
                    client_secret,
                    refresh_token,
                    ..
                } => {
                    keep(client_secret);
                    keep(refresh_token);
                }
                Credentials::ClientCredentials { client_secret, .. } => keep(client_secret),
                Credentials::AccessToken { access_token, .. } => keep(access_token),
                Credentials::JwtBearer { .. } => {}
            }
        }
        Self {
            start: None,
            clock: Duration::ZERO,
            config: config.clone(),
            subscribe: Vec::new(),
            stored: None,
            secrets,
            text: String::new(),
            stepped: false,
            arrived: Vec::new(),
        }
    }

    /// The text recorded since the last call.
    pub(crate) fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    pub(crate) fn subscribed_before_open(&mut self, channel: &str, from: Option<ReplayFrom>) {
        let mut s = json!({"channel": channel});
        if let Some(from) = from {
            s["replay"] = replay_value(from);
        }
        self.subscribe.push(s);
    }

    pub(crate) fn unsubscribed_before_open(&mut self, channel: &str) {
        self.subscribe.retain(|s| s["channel"] != channel);
    }

    pub(crate) fn stored(&mut self, ids: &BTreeMap<String, i64>, default: Option<i64>) {
        self.stored = Some((ids.clone(), default));
    }

    /// The session opens: the transcript's header, its clock starting now.
    pub(crate) fn opened(&mut self, now: Instant, wall_ms: u64) {
        self.start = Some(now);
        let mut config = TranscriptConfig::redacted(&self.config, REDACTED);
        config.wall_clock_ms = Some(wall_ms);
        let mut header = Map::new();
        header.insert(
            "description".into(),
            json!("Recorded by sfstream: secrets are replaced by REDACTED."),
        );
        header.insert("config".into(), without_nulls(json!(config)));
        header.insert("subscribe".into(), Value::Array(self.subscribe.clone()));
        if let Some((ids, default)) = &self.stored {
            header.insert("stored".into(), json!(ids));
            if let Some(d) = default {
                header.insert("stored_default".into(), json!(d));
            }
        }
        let header = serde_json::to_string(&Value::Object(header)).unwrap_or_default();
        // The header's closing brace is the trailer's: the steps go inside.
        self.text.push_str(header.trim_end_matches('}'));
        self.text.push_str(",\"steps\":[\n");
    }

    /// A step at `now` (before `open`, nothing is written: the header says it).
    fn step(&mut self, now: Option<Instant>, step: Value) {
        let Some(start) = self.start else {
            return;
        };
        if let Some(now) = now {
            let at = now.saturating_duration_since(start);
            if at > self.clock {
                self.clock = at;
                let ns = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX);
                self.write(&json!({"clock_ns": ns}));
            }
        }
        self.write(&step);
    }

    fn write(&mut self, step: &Value) {
        if self.stepped {
            self.text.push_str(",\n");
        }
        self.stepped = true;
        self.text
            .push_str(&serde_json::to_string(step).unwrap_or_default());
    }

    pub(crate) fn command(&mut self, now: Option<Instant>, step: Value) {
        self.step(now, step);
    }

    pub(crate) fn sent(&mut self, t: &Transmit) {
        let mut expect = json!({"kind": t.kind.as_str(), "as": name(t.id)});
        if t.kind == RequestKind::Control {
            // Which channels, and from where: what an application's code decides.
            let body: Vec<Value> = serde_json::from_slice(t.request.body()).unwrap_or_default();
            let checks: Vec<Value> = body
                .iter()
                .map(|m| {
                    let mut c = json!({"channel": m["channel"], "subscription": m["subscription"]});
                    if let Some(replay) = m.pointer("/ext/replay") {
                        c["ext"] = json!({"replay": replay});
                    }
                    c
                })
                .collect();
            expect["json"] = Value::Array(checks);
        }
        self.step(None, json!({"send": expect}));
    }

    /// A response, whole (`reply`) or at its arrival (`arrive`).
    pub(crate) fn response(
        &mut self,
        step: &str,
        id: RequestId,
        kind: Option<RequestKind>,
        response: &Response<Vec<u8>>,
        now: Instant,
    ) {
        // A response to a request the session no longer waits for changes nothing.
        let Some(kind) = kind else {
            return;
        };
        if kind == RequestKind::Token {
            self.learn_tokens(response.body());
        }
        if step == "arrive" {
            self.arrived.push(id);
        }
        let mut reply = Map::new();
        reply.insert("to".into(), json!(name(id)));
        if response.status() != http::StatusCode::OK {
            reply.insert("status".into(), json!(response.status().as_u16()));
        }
        let headers = self.headers(response.headers());
        if !headers.is_empty() {
            reply.insert("headers".into(), Value::Object(headers));
        }
        let body = response.body();
        if !body.is_empty() {
            match serde_json::from_slice::<Value>(body) {
                Ok(mut v) => {
                    self.redact_value(&mut v);
                    reply.insert("body".into(), v);
                }
                Err(_) => {
                    let text = self.redact_text(&String::from_utf8_lossy(body));
                    reply.insert("raw_body".into(), json!(text));
                }
            }
        }
        self.step(Some(now), json!({step: reply}));
    }

    pub(crate) fn handed_over(&mut self, received: &Received, now: Instant) {
        let Some(i) = self.arrived.iter().position(|id| *id == received.id) else {
            return;
        };
        self.arrived.swap_remove(i);
        self.step(Some(now), json!({"hand_over": name(received.id)}));
    }

    pub(crate) fn failed(
        &mut self,
        id: RequestId,
        known: bool,
        error: &TransportError,
        now: Instant,
    ) {
        if !known {
            return;
        }
        let error = match error {
            TransportError::Timeout => "timeout",
            TransportError::Connect(_) => "connect",
            TransportError::Io(_) => "io",
            TransportError::BodyTooLarge { .. } => "body_too_large",
            _ => "other",
        };
        self.step(Some(now), json!({"fail": {"to": name(id), "error": error}}));
    }

    pub(crate) fn timeout(&mut self, now: Instant) {
        self.step(Some(now), json!({"timeout": null}));
    }

    pub(crate) fn message(&mut self, m: &Message) {
        let mut check = json!({"channel": m.channel()});
        if let Some(id) = m.replay_id() {
            check["replay_id"] = json!(id);
        }
        self.step(None, json!({"message": check}));
    }

    /// Every token of a token response becomes a secret to replace wherever it appears.
    fn learn_tokens(&mut self, body: &[u8]) {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        for field in TOKEN_FIELDS {
            if let Some(Value::String(s)) = map.get(*field) {
                if !s.is_empty() && !self.secrets.contains(s) {
                    self.secrets.push(s.clone());
                }
            }
        }
    }

    fn headers(&self, headers: &HeaderMap) -> Map<String, Value> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in headers {
            let name = name.as_str();
            if SECRET_HEADERS.contains(&name) {
                continue;
            }
            let value = String::from_utf8_lossy(value.as_bytes());
            let value = if name == "set-cookie" {
                redact_cookie(&value)
            } else {
                self.redact_text(&value)
            };
            out.entry(name.to_owned()).or_default().push(value);
        }
        out.into_iter()
            .map(|(k, mut v)| {
                let v = if v.len() == 1 {
                    Value::String(v.remove(0))
                } else {
                    json!(v)
                };
                (k, v)
            })
            .collect()
    }

    fn redact_text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), REDACTED);
            }
        }
        text
    }

    fn redact_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.redact_text(s),
            Value::Array(a) => a.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(o) => {
                for (k, v) in o.iter_mut() {
                    if TOKEN_FIELDS.contains(&k.as_str()) && v.is_string() {
                        *v = json!(REDACTED);
                    } else {
                        self.redact_value(v);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A cookie with its value replaced, its name and attributes kept.
fn redact_cookie(cookie: &str) -> String {
    let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
    let name = pair.split_once('=').map_or(pair, |(n, _)| n).trim();
    if attributes.is_empty() {
        format!("{name}={REDACTED}")
    } else {
        format!("{name}={REDACTED};{attributes}")
    }
}

fn name(id: RequestId) -> String {
    format!("r{}", id.0)
}

fn replay_value(from: ReplayFrom) -> Value {
    match from {
        ReplayFrom::New => json!("new"),
        ReplayFrom::All => json!("all"),
        ReplayFrom::Id(id) => json!(id),
    }
}

fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}
