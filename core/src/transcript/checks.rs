//! Checking requests, messages and events against a transcript's expectations.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;
use crate::config::ReplayFrom;
use crate::transmit::{RequestKind, Transmit};
use crate::{Event, Message, RefetchReason};

pub(super) fn check_request(
    t: &Transmit,
    want: &ExpectRequest,
    now: Instant,
) -> Result<(), String> {
    want.check(t.kind, &t.request)?;
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

/// The kind of a request, judged from outside the session: a token request by its path, a
/// Bayeux request by the channel of its first message.
#[must_use]
pub fn request_kind(request: &http::Request<Vec<u8>>) -> RequestKind {
    if request.uri().path().ends_with("/services/oauth2/token") {
        return RequestKind::Token;
    }
    let first: Option<Value> = serde_json::from_slice::<Vec<Value>>(request.body())
        .ok()
        .and_then(|m| m.into_iter().next());
    match first.as_ref().and_then(|m| m["channel"].as_str()) {
        Some("/meta/handshake") => RequestKind::Handshake,
        Some("/meta/connect") => RequestKind::Connect,
        Some("/meta/disconnect") => RequestKind::Disconnect,
        _ => RequestKind::Control,
    }
}

impl ExpectRequest {
    /// Checks a request of `kind` (all but the deadline). The error says what differs, without
    /// a token request's form or any header value.
    pub fn check(&self, kind: RequestKind, request: &http::Request<Vec<u8>>) -> Result<(), String> {
        check_parts(kind, request, self)
    }
}

fn check_parts(
    kind: RequestKind,
    request: &http::Request<Vec<u8>>,
    want: &ExpectRequest,
) -> Result<(), String> {
    let body = if kind == RequestKind::Token {
        "(form body not shown)".to_owned()
    } else {
        String::from_utf8_lossy(request.body()).into_owned()
    };
    if let Some(want_kind) = &want.kind {
        if kind.as_str() != want_kind {
            return Err(format!(
                "expected a {want_kind} request, the session sent a {} request: {body}",
                kind.as_str(),
            ));
        }
    }
    if let Some(json) = &want.json {
        let actual: Value = if kind == RequestKind::Token {
            let map: serde_json::Map<String, Value> = form_urlencoded::parse(request.body())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Value::Object(map)
        } else {
            serde_json::from_str(&body).map_err(|e| format!("request body is not JSON: {e}"))?
        };
        if !contains(&actual, json) {
            return Err(match (kind, &actual) {
                // A token request's form holds credentials: only its field names are shown.
                (RequestKind::Token, Value::Object(form)) => format!(
                    "request form (fields {:?}) does not contain {json}",
                    form.keys().collect::<Vec<_>>()
                ),
                _ => format!("request body {actual} does not contain {json}"),
            });
        }
    }
    for needle in &want.body_contains {
        if !body.contains(needle.as_str()) {
            return Err(format!("request body does not contain {needle:?}"));
        }
    }
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
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
        if !request.uri().to_string().contains(part.as_str()) {
            return Err(format!("URL {} does not contain {part:?}", request.uri()));
        }
    }
    Ok(())
}

/// Whether `actual` contains `want`: objects by subset, arrays element by element (each wanted
/// element contained in the actual element at the same index), other values by equality.
#[must_use]
pub(crate) fn contains(actual: &Value, want: &Value) -> bool {
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
pub(super) fn echo_ids(body: &Value, sent: &[u8]) -> Value {
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

pub(super) fn build_response(
    reply: &Reply,
    sent: &[u8],
) -> Result<http::Response<Vec<u8>>, String> {
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

pub(super) fn check_message(m: &Message, want: &Value) -> Result<(), String> {
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
        let Some(expected) = crate::Timestamp::parse_rfc3339(d) else {
            return Err(format!(
                "created_date {d:?} in the transcript is not an RFC 3339 date-time"
            ));
        };
        if m.created_date() != Some(expected) {
            return Err(format!(
                "expected created date {expected}, got {:?}",
                m.created_date().map(|t| t.to_string())
            ));
        }
    }
    Ok(())
}

/// The snake_case name of an event's type, as transcripts write it.
#[must_use]
pub(crate) fn event_type(e: &Event) -> &'static str {
    match e {
        Event::Authenticated { .. } => "authenticated",
        Event::Handshaken { .. } => "handshaken",
        Event::Connected => "connected",
        Event::Subscribed { .. } => "subscribed",
        Event::SubscribeFailed { .. } => "subscribe_failed",
        Event::Unsubscribed { .. } => "unsubscribed",
        Event::Checkpoint { .. } => "checkpoint",
        Event::ReplayFallback { .. } => "replay_fallback",
        Event::Refetch { .. } => "refetch",
        Event::SessionLost { .. } => "session_lost",
        Event::Reconnecting { .. } => "reconnecting",
        Event::ConnectionRestored => "connection_restored",
        Event::Error(_) => "error",
        Event::Disconnected(_) => "disconnected",
    }
}

pub(super) fn event_summary(e: &Event) -> String {
    format!("{e:?}")
}

pub(super) fn event_matches(e: &Event, want: &Value) -> bool {
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
        Event::Refetch {
            channel,
            from,
            reason,
        } => {
            let (kind, why) = match reason {
                RefetchReason::BrokenLongPoll(e) => ("broken_long_poll", e.to_string()),
                RefetchReason::MemoryBound { dropped } => {
                    ("memory_bound", format!("{dropped} set aside"))
                }
            };
            str_is("channel", channel)
                && field("from").is_none_or(|r| replay_from_matches(*from, r))
                && str_is("reason", kind)
                && text_has("reason_contains", &why)
        }
        Event::Reconnecting { after, reason } => {
            field("after_ms").is_none_or(|ms| ms.as_u64() == Some(after.as_millis() as u64))
                && text_has("reason_contains", &reason.to_string())
        }
        Event::SessionLost { reason } => text_has("reason_contains", &reason.to_string()),
        Event::Handshaken { client_id } => str_is("client_id", client_id),
        Event::Error(err) => text_has("contains", &err.to_string()),
        Event::Disconnected(reason) => text_has("contains", &format!("{reason:?}")),
        Event::Authenticated { instance_url, .. } => str_is("instance_url", instance_url),
        Event::Connected | Event::ConnectionRestored => true,
    }
}

pub(super) fn replay_from_matches(actual: ReplayFrom, want: &Value) -> bool {
    replay_from(want).is_ok_and(|w| w == actual)
}
