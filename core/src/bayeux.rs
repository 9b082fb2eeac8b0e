//! Bayeux 1.0 messages: building the ones the client sends, reading the ones the server sends.
//!
//! Reading is lenient where servers differ (ids as strings or numbers, missing `advice`, missing
//! `clientId` on failures) and strict where a mistake would lose data (replay ids are read as
//! exact integers, never through `f64`). Nothing here panics on any input.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use crate::message::Data;

/// The Salesforce request body limit: larger posts get `413 Maximum Request Size Exceeded`.
pub const MAX_REQUEST_BYTES: usize = 32_768;

/// The meta channels.
pub(crate) mod meta {
    pub(crate) const HANDSHAKE: &str = "/meta/handshake";
    pub(crate) const CONNECT: &str = "/meta/connect";
    pub(crate) const SUBSCRIBE: &str = "/meta/subscribe";
    pub(crate) const UNSUBSCRIBE: &str = "/meta/unsubscribe";
    pub(crate) const DISCONNECT: &str = "/meta/disconnect";
}

/// The reconnect advice of a Bayeux reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reconnect {
    /// Send the next `/meta/connect` after `interval`.
    Retry,
    /// Handshake again.
    Handshake,
    /// Do not retry (Salesforce sends this with errors it means as "handshake again").
    None,
}

/// The `advice` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Advice {
    /// What to do next, if the server said.
    pub reconnect: Option<Reconnect>,
    /// Milliseconds to wait before the next connect.
    pub interval_ms: Option<u64>,
    /// Milliseconds the server holds a long poll.
    pub timeout_ms: Option<u64>,
    /// Milliseconds the server waits for the next long poll after a reply before it ends the
    /// session (CometD's `maxInterval`; Salesforce does not send it and waits 40 s).
    pub max_interval_ms: Option<u64>,
}

impl<'de> Deserialize<'de> for Advice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            reconnect: Option<String>,
            interval: Option<serde_json::Number>,
            timeout: Option<serde_json::Number>,
            #[serde(rename = "maxInterval")]
            max_interval: Option<serde_json::Number>,
        }
        let raw = Raw::deserialize(d)?;
        let ms = |n: Option<serde_json::Number>| {
            n.and_then(|n| {
                n.as_u64()
                    .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            })
        };
        Ok(Self {
            reconnect: raw.reconnect.as_deref().map(|r| match r {
                "retry" => Reconnect::Retry,
                "handshake" => Reconnect::Handshake,
                _ => Reconnect::None,
            }),
            interval_ms: ms(raw.interval),
            timeout_ms: ms(raw.timeout),
            max_interval_ms: ms(raw.max_interval),
        })
    }
}

/// A message id as the server echoed it: Salesforce sends strings, its docs show numbers.
fn id_as_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(de::Error::custom(format!(
                "message id of type {}",
                kind(&other)
            )));
        }
    })
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `subscription` may be a string or (from other servers) a list.
fn subscription_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .find_map(|i| i.as_str().map(str::to_owned)),
        _ => None,
    })
}

/// The parts of `ext` the client reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ext {
    pub(crate) failure_reason: Option<String>,
    pub(crate) replay: bool,
}

fn ext_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ext>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.map(|v| Ext {
        failure_reason: v
            .pointer("/sfdc/failureReason")
            .and_then(|r| r.as_str())
            .map(str::to_owned),
        replay: v.get("replay").and_then(serde_json::Value::as_bool) == Some(true),
    }))
}

/// One message of a server response, with its `data` left as raw JSON.
#[derive(Debug, Deserialize)]
pub(crate) struct Incoming<'a> {
    #[serde(borrow)]
    pub(crate) channel: Cow<'a, str>,
    #[serde(default, deserialize_with = "id_as_string")]
    pub(crate) id: Option<String>,
    pub(crate) successful: Option<bool>,
    pub(crate) error: Option<String>,
    #[serde(rename = "clientId")]
    pub(crate) client_id: Option<String>,
    pub(crate) advice: Option<Advice>,
    #[serde(default, deserialize_with = "subscription_field")]
    pub(crate) subscription: Option<String>,
    #[serde(default, deserialize_with = "ext_field")]
    pub(crate) ext: Option<Ext>,
    /// Read in the same pass as the rest: events are decoded without parsing `data` again.
    #[serde(borrow)]
    pub(crate) data: Option<Data<'a>>,
}

impl Incoming<'_> {
    pub(crate) fn is_meta(&self) -> bool {
        self.channel.starts_with("/meta/")
    }
}

/// Splits a response body into its messages. `Err` when the body is not a JSON array (or a single
/// object, which some servers send): the detail says what was wrong without quoting the body.
pub(crate) fn split_response(body: &[u8]) -> Result<Vec<&RawValue>, String> {
    match serde_json::from_slice::<Vec<&RawValue>>(body) {
        Ok(v) => Ok(v),
        Err(array_err) => match serde_json::from_slice::<&RawValue>(body) {
            Ok(one) if one.get().trim_start().starts_with('{') => Ok(vec![one]),
            _ => Err(format!(
                "expected a JSON array of Bayeux messages ({} bytes): {array_err}",
                body.len()
            )),
        },
    }
}

/// One message of a response: its JSON text, and the message read from it (or why not).
pub(crate) struct Part<'a> {
    pub(crate) raw: &'a str,
    pub(crate) message: Result<Incoming<'a>, serde_json::Error>,
}

/// Reads a response body into its messages. `Err` as [`split_response`].
///
/// The common case, an array of well-formed messages, is read in one pass: each message is
/// deserialized where it stands in the body and its text is the span it covered. Anything else
/// (a single object, a message that cannot be read, invalid UTF-8, trailing bytes) is read the
/// careful way, in two passes, which says exactly what was wrong.
pub(crate) fn parse_response(body: &[u8]) -> Result<Vec<Part<'_>>, String> {
    if let Some(parts) = parse_in_one_pass(body) {
        return Ok(parts);
    }
    Ok(split_response(body)?
        .into_iter()
        .map(|raw| Part {
            raw: raw.get(),
            message: serde_json::from_str(raw.get()),
        })
        .collect())
}

/// `None` unless `body` is an array of messages that all read as [`Incoming`].
fn parse_in_one_pass(body: &[u8]) -> Option<Vec<Part<'_>>> {
    let text = std::str::from_utf8(body).ok()?;
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let mut parts = Vec::new();
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b']') {
        return (skip_ws(b, i + 1) == b.len()).then_some(parts);
    }
    match read_run(text, i, None, &mut parts)? {
        RunEnd::Closed => Some(parts),
        RunEnd::ReachedStop => None,
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// How a run of messages ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunEnd {
    /// At the array's closing `]`, the last thing in the text.
    Closed,
    /// The next message starts exactly at the stop position.
    ReachedStop,
}

/// Reads messages starting at byte `i` of `text` (the start of a message), appending them to
/// `parts`, until the array closes or the next message would start exactly at `stop`. `None`
/// when the text is not a plain array of well-formed messages from there.
fn read_run<'a>(
    text: &'a str,
    mut i: usize,
    stop: Option<usize>,
    parts: &mut Vec<Part<'a>>,
) -> Option<RunEnd> {
    let b = text.as_bytes();
    loop {
        if Some(i) == stop {
            return Some(RunEnd::ReachedStop);
        }
        // `i` is at an ASCII byte, so a char boundary.
        let rest = text.get(i..)?;
        if !rest.starts_with('{') {
            return None;
        }
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Incoming<'_>>();
        let message = stream.next()?.ok()?;
        let end = i + stream.byte_offset();
        parts.push(Part {
            raw: text.get(i..end)?,
            message: Ok(message),
        });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return (skip_ws(b, i + 1) == b.len()).then_some(RunEnd::Closed),
            _ => return None,
        }
    }
}

/// Bodies at least this large are worth decoding in two halves.
const SPLIT_AT_LEAST: usize = 256 * 1024;

/// A guess at a message boundary near the middle of a large body: the position of a `{` that
/// follows `},` there. Only a guess (the bytes could be inside a string): [`parse_head`] tells
/// whether it was right.
pub(crate) fn split_guess(body: &[u8]) -> Option<usize> {
    if body.len() < SPLIT_AT_LEAST {
        return None;
    }
    let middle = body.len() / 2;
    body.get(middle..)?
        .windows(3)
        .position(|w| w == b"},{")
        .map(|p| middle + p + 2)
}

/// The messages of a body from `split` to its end, if they read in one pass (the second half,
/// decoded on its own).
pub(crate) fn parse_tail(body: &[u8], split: usize) -> Option<Vec<Part<'_>>> {
    let text = std::str::from_utf8(body.get(split..)?).ok()?;
    let mut parts = Vec::new();
    match read_run(text, 0, None, &mut parts)? {
        RunEnd::Closed => Some(parts),
        RunEnd::ReachedStop => None,
    }
}

/// The messages of a body before `split`, if they read in one pass and the last of them ends
/// exactly where a message starts at `split`. That a sequential reading from the start lands on
/// `split` is what proves it a real boundary, and the second half's reading valid.
pub(crate) fn parse_head(body: &[u8], split: usize) -> Option<Vec<Part<'_>>> {
    let text = std::str::from_utf8(body.get(..split)?).ok()?;
    let b = text.as_bytes();
    let i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let mut parts = Vec::new();
    // The reading stops at `split` or fails (a message cut off by the end of the text).
    match read_run(text, skip_ws(b, i + 1), Some(split), &mut parts)? {
        RunEnd::ReachedStop => Some(parts),
        RunEnd::Closed => None,
    }
}

/// How far from the end of a body the reply of a long poll is looked for, and how many starts
/// are tried there: a reply is a few hundred bytes, and the search must stay cheap on any input.
const TAIL_WINDOW: usize = 4096;
const TAIL_TRIES: usize = 16;

/// The `/meta/connect` reply of a long-poll response body, read without the events: CometD
/// servers (Salesforce's among them) send it after the events, others before them.
pub(crate) fn edge_connect_reply(body: &[u8]) -> Option<Incoming<'_>> {
    tail_connect_reply(body).or_else(|| head_connect_reply(body))
}

/// The first message of a response body, if it is a `/meta/connect` reply.
fn head_connect_reply(body: &[u8]) -> Option<Incoming<'_>> {
    let i = skip_ws(body, 0);
    if body.get(i) != Some(&b'[') {
        return None;
    }
    let start = skip_ws(body, i + 1);
    let rest = body.get(start..)?;
    if rest.first() != Some(&b'{') {
        return None;
    }
    let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<Incoming<'_>>();
    let reply = stream.next()?.ok()?;
    (reply.channel == meta::CONNECT).then_some(reply)
}

/// The last message of a response body, read on its own, if it is a `/meta/connect` reply.
/// Found without reading the events, by
/// trying each `{` near the end (after a `,` or the `[`) as the start of a message that runs
/// exactly to the array's closing bracket. A `{` inside a string never passes: the quote after it
/// closes that string, so a reading from there swaps strings and the text between them, and its
/// keys would be JSON punctuation, never `channel`. `None` when the body does not end so.
fn tail_connect_reply(body: &[u8]) -> Option<Incoming<'_>> {
    let close = body.iter().rposition(|b| !b.is_ascii_whitespace())?;
    if body[close] != b']' {
        return None;
    }
    let last = body[..close]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())?;
    if body[last] != b'}' {
        return None;
    }
    let from = last.saturating_sub(TAIL_WINDOW);
    let starts = (from..last).rev().filter(|&i| {
        body[i] == b'{'
            && matches!(
                body[..i].iter().rposition(|b| !b.is_ascii_whitespace()),
                Some(j) if matches!(body[j], b',' | b'[')
            )
    });
    for start in starts.take(TAIL_TRIES) {
        let Ok(text) = std::str::from_utf8(&body[start..=last]) else {
            continue;
        };
        if let Ok(reply) = serde_json::from_str::<Incoming<'_>>(text) {
            return (reply.channel == meta::CONNECT).then_some(reply);
        }
    }
    None
}

/// Builds the JSON text of outgoing messages. Strings are escaped by serde_json.
pub(crate) struct Outgoing;

impl Outgoing {
    pub(crate) fn handshake(id: &str, replay: bool) -> String {
        let mut m = format!(
            r#"{{"channel":"/meta/handshake","version":"1.0","minimumVersion":"1.0","supportedConnectionTypes":["long-polling"],"id":{}"#,
            quote(id)
        );
        if replay {
            m.push_str(r#","ext":{"replay":true}"#);
        }
        m.push('}');
        m
    }

    pub(crate) fn connect(id: &str, client_id: &str, immediate: bool) -> String {
        let mut m = format!(
            r#"{{"channel":"/meta/connect","clientId":{},"connectionType":"long-polling","id":{}"#,
            quote(client_id),
            quote(id)
        );
        if immediate {
            // The first connect after a handshake asks for an immediate answer, as CometD
            // clients do, so that the server's advice arrives at once.
            m.push_str(r#","advice":{"timeout":0}"#);
        }
        m.push('}');
        m
    }

    pub(crate) fn subscribe(
        id: &str,
        client_id: &str,
        channel: &str,
        replay: Option<i64>,
    ) -> String {
        let mut m = format!(
            r#"{{"channel":"/meta/subscribe","clientId":{},"subscription":{},"id":{}"#,
            quote(client_id),
            quote(channel),
            quote(id)
        );
        if let Some(replay) = replay {
            // The replay map is keyed by the channel without a PushTopic filter query, and must
            // hold the subscribed channel.
            let _ = write!(
                m,
                r#","ext":{{"replay":{{{}:{replay}}}}}"#,
                quote(replay_key(channel))
            );
        }
        m.push('}');
        m
    }

    pub(crate) fn unsubscribe(id: &str, client_id: &str, channel: &str) -> String {
        format!(
            r#"{{"channel":"/meta/unsubscribe","clientId":{},"subscription":{},"id":{}}}"#,
            quote(client_id),
            quote(channel),
            quote(id)
        )
    }

    pub(crate) fn disconnect(id: &str, client_id: &str) -> String {
        format!(
            r#"{{"channel":"/meta/disconnect","clientId":{},"id":{}}}"#,
            quote(client_id),
            quote(id)
        )
    }
}

/// The key of a channel in the replay map: the channel without a `?filter` query.
#[must_use]
pub fn replay_key(channel: &str) -> &str {
    channel.split_once('?').map_or(channel, |(c, _)| c)
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Joins message texts into a request body.
pub(crate) fn batch<'a>(messages: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.push(b'[');
    for (i, m) in messages.into_iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(m.as_bytes());
    }
    body.push(b']');
    body
}

/// Checks that a channel name is one the client can subscribe to.
pub(crate) fn check_channel(channel: &str) -> Result<(), String> {
    if !channel.starts_with('/') {
        return Err(format!(
            "channel {channel:?} must start with '/', e.g. /event/Order__e or /topic/AccountUpdates"
        ));
    }
    if channel.starts_with("/meta/") {
        return Err(format!(
            "{channel:?} is a meta channel; subscribe to an event channel"
        ));
    }
    if channel.len() > 1024 {
        return Err("channel name longer than 1024 bytes".to_owned());
    }
    if channel.chars().any(char::is_control) {
        return Err(format!("channel {channel:?} contains control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_has_a_string_subscription_and_a_replay_map_with_the_channel() {
        let m = Outgoing::subscribe("3", "c1", "/topic/T?Industry='Energy'", Some(-2));
        let v: serde_json::Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v["subscription"], "/topic/T?Industry='Energy'");
        assert_eq!(v["ext"]["replay"]["/topic/T"], -2);
        assert_eq!(v["id"], "3");
    }

    #[test]
    fn big_replay_ids_stay_exact() {
        let m = Outgoing::subscribe("1", "c", "/data/ChangeEvents", Some(9_007_199_254_740_993));
        assert!(m.contains("9007199254740993"));
    }

    #[test]
    fn reads_numeric_and_string_ids_and_missing_advice() {
        let body = br#"[{"channel":"/meta/connect","id":7,"successful":false,"error":"401::Authentication invalid","advice":{"reconnect":"none","interval":0}},
                        {"channel":"/meta/handshake","id":"1","successful":true,"clientId":"abc","ext":{"replay":true,"payload.format":true}}]"#;
        let parts = split_response(body).unwrap();
        let a: Incoming<'_> = serde_json::from_str(parts[0].get()).unwrap();
        assert_eq!(a.id.as_deref(), Some("7"));
        assert_eq!(a.advice.unwrap().reconnect, Some(Reconnect::None));
        let b: Incoming<'_> = serde_json::from_str(parts[1].get()).unwrap();
        assert!(b.advice.is_none());
        assert!(b.ext.unwrap().replay);
    }

    #[test]
    fn failure_reason_is_read_from_ext() {
        let m = r#"{"ext":{"sfdc":{"failureReason":"401::Authentication invalid"}},"advice":{"reconnect":"none"},"channel":"/meta/handshake","error":"403::Handshake denied","successful":false}"#;
        let a: Incoming<'_> = serde_json::from_str(m).unwrap();
        assert_eq!(
            a.ext.unwrap().failure_reason.as_deref(),
            Some("401::Authentication invalid")
        );
    }

    /// The one-pass reading must find the same messages as the two-pass one, or step aside.
    #[test]
    fn one_pass_reads_what_two_passes_read() {
        let bodies = [
            r#"[]"#,
            " \n[ ] \t",
            r#"[{"channel":"/meta/connect","id":"3","successful":true,"advice":{"interval":0}}]"#,
            r#" [ {"data":{"event":{"replayId":5},"payload":{"a":"}]\"{["}},"channel":"/event/E__e"} ,
                {"channel":"/meta/connect","successful":true} ] "#,
            r#"[{"channel":"/top\u0069c/T","data":{"event":{"replayId":"7","type":"cre\"ated"},"sobject":{}}}]"#,
            r#"[{"channel":"/event/E__e","data":[1,2]},{"channel":"/u/x","data":"text"}]"#,
            r#"[{"channel":"/event/E__e","data":{"event":{"replayId":1.5}}}]"#,
            r#"[{"channel":"/event/E__e","data":{"event":"not an object","schema":3}}]"#,
            r#"[{"channel":"/event/E__e","data":{"event":{"replayId":1},"event":{"replayId":2}}}]"#,
            r#"[{"channel":"/event/E__e","data":null},{"channel":"/event/E__e"}]"#,
            r#"[{"id":{"x":1},"channel":"/meta/connect"},{"channel":"/meta/connect"}]"#,
            r#"[{"channel":"/meta/connect"}] trailing"#,
            r#"[{"channel":"/meta/connect"},]"#,
            r#"[{"channel":"/meta/connect"}"#,
            r#"[1,{"channel":"/meta/connect"}]"#,
            r#"{"channel":"/meta/connect","successful":true}"#,
        ];
        for body in bodies {
            let two = split_response(body.as_bytes()).map(|parts| {
                parts
                    .iter()
                    .map(|raw| {
                        let m = serde_json::from_str::<Incoming<'_>>(raw.get());
                        (raw.get().to_owned(), format!("{m:?}"))
                    })
                    .collect::<Vec<_>>()
            });
            let read = parse_response(body.as_bytes()).map(|parts| {
                parts
                    .into_iter()
                    .map(|p| (p.raw.to_owned(), format!("{:?}", p.message)))
                    .collect::<Vec<_>>()
            });
            assert_eq!(read, two, "{body}");
            if let Some(one) = parse_in_one_pass(body.as_bytes()) {
                assert!(one.iter().all(|p| p.message.is_ok()), "{body}");
            }
        }
        // The common shape does take the one-pass path.
        assert!(parse_in_one_pass(bodies[3].as_bytes()).is_some());
        assert!(parse_in_one_pass(bodies[11].as_bytes()).is_none());
    }

    #[test]
    fn non_arrays_are_errors_without_the_body() {
        let err = split_response(b"<html>secret-token</html>").unwrap_err();
        assert!(!err.contains("secret-token"));
        assert_eq!(
            split_response(br#"{"channel":"/meta/connect"}"#)
                .unwrap()
                .len(),
            1
        );
    }
}
