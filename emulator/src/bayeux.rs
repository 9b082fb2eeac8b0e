//! Bayeux reply messages as Salesforce writes them, and the rendering of a response array.
//!
//! Replies are structs rather than `serde_json::Value` maps so that fields come out in the order
//! Salesforce uses (`ext`, `minimumVersion`, `clientId`, …, `successful`), which keeps captured
//! exchanges easy to compare with real ones.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

/// The error text for an invalid or expired replay id; note the two spaces after "invalid.".
pub(crate) fn invalid_replay_id(shown: &str) -> String {
    format!(
        "400::The replayId {{{shown}}} you provided was invalid.  Please provide a valid ID, -2 to \
         replay all events, or -1 to replay only new events."
    )
}

/// The error text for a replay map that lacks the subscribed channel.
pub(crate) fn replay_map_lacks_channel(channel: &str, map: &str) -> String {
    format!(
        "400::The replayId for channel {{{channel}}} wasn't found using the provided replay ID map \
         {{{map}}}. Ensure that the channel name you provided in the replay map is valid and \
         matches the channel name used for subscribing."
    )
}

/// `503::Server is too busy…`, with its two spaces.
pub(crate) const SERVER_TOO_BUSY: &str =
    "503::Server is too busy.  Please try your request again later.";
/// The failure reason of a handshake denied for the concurrent-client limit.
pub(crate) const CONCURRENT_LIMIT: &str = "403::Organization concurrent user limit exceeded";
/// A revoked or unknown token.
pub(crate) const AUTH_INVALID: &str = "401::Authentication invalid";
/// No token at all.
pub(crate) const AUTH_REQUIRED: &str = "401::Request requires authentication";
/// The handshake error whose cause sits in `ext.sfdc.failureReason`.
pub(crate) const HANDSHAKE_DENIED: &str = "403::Handshake denied";
/// The session is gone.
pub(crate) const UNKNOWN_CLIENT: &str = "403::Unknown client";

/// What `advice.reconnect` tells the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Reconnect {
    Retry,
    Handshake,
    None,
}

/// The `advice` object.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub(crate) struct Advice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) interval: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reconnect: Option<Reconnect>,
}

impl Advice {
    /// `{"interval":0,"reconnect":…}`.
    pub(crate) fn interval0(reconnect: Reconnect) -> Self {
        Self {
            interval: Some(0),
            timeout: None,
            reconnect: Some(reconnect),
        }
    }
}

/// `ext.sfdc`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Sfdc {
    #[serde(rename = "failureReason")]
    pub(crate) failure_reason: String,
}

/// The `ext` object of replies.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Ext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sfdc: Option<Sfdc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) replay: Option<bool>,
    #[serde(rename = "payload.format", skip_serializing_if = "Option::is_none")]
    pub(crate) payload_format: Option<bool>,
}

impl Ext {
    /// `{"replay":true,"payload.format":true}`, what every handshake reply advertises.
    pub(crate) fn handshake() -> Self {
        Self {
            sfdc: None,
            replay: Some(true),
            payload_format: Some(true),
        }
    }

    /// The handshake ext plus a failure reason.
    pub(crate) fn handshake_failure(reason: &str) -> Self {
        Self {
            sfdc: Some(Sfdc {
                failure_reason: reason.to_owned(),
            }),
            ..Self::handshake()
        }
    }

    /// Only a failure reason.
    pub(crate) fn failure(reason: &str) -> Self {
        Self {
            sfdc: Some(Sfdc {
                failure_reason: reason.to_owned(),
            }),
            replay: None,
            payload_format: None,
        }
    }
}

/// One reply message.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Reply {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ext: Option<Ext>,
    #[serde(rename = "minimumVersion", skip_serializing_if = "Option::is_none")]
    pub(crate) minimum_version: Option<&'static str>,
    #[serde(rename = "clientId", skip_serializing_if = "Option::is_none")]
    pub(crate) client_id: Option<String>,
    #[serde(
        rename = "supportedConnectionTypes",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) supported_connection_types: Option<[&'static str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) advice: Option<Advice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subscription: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    pub(crate) successful: bool,
}

impl Reply {
    /// A reply on `channel` echoing the request's `id` (string or number, exactly as sent).
    pub(crate) fn to(msg: &Value, channel: &str) -> Self {
        Self {
            channel: Some(channel.to_owned()),
            id: echo_id(msg),
            ..Self::default()
        }
    }

    /// Marks the reply failed with `error`.
    pub(crate) fn failed(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self.successful = false;
        self
    }

    pub(crate) fn with_client(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    pub(crate) fn with_advice(mut self, advice: Advice) -> Self {
        self.advice = Some(advice);
        self
    }

    pub(crate) fn with_ext(mut self, ext: Ext) -> Self {
        self.ext = Some(ext);
        self
    }
}

/// The request's `id`, echoed only when it is a string or a number.
pub(crate) fn echo_id(msg: &Value) -> Option<Value> {
    match msg.get("id") {
        Some(v @ (Value::String(_) | Value::Number(_))) => Some(v.clone()),
        _ => None,
    }
}

/// One element of a response array.
#[derive(Debug)]
pub(crate) enum Part {
    /// A reply to a request message.
    Reply(Box<Reply>),
    /// A complete, already serialised message (events, a pushed `/meta/disconnect`).
    Raw(String),
    /// Already serialised messages joined by commas (a bulk batch).
    Joined(Bytes),
}

impl Part {
    /// Wraps a reply.
    pub(crate) fn reply(reply: Reply) -> Self {
        Self::Reply(Box::new(reply))
    }
}

/// Renders the response array as chunks: prepared bulk batches are passed on as they are (no
/// copy of their bytes, no fresh pages per response), everything around them is rendered.
pub(crate) fn render_chunks(parts: &[Part]) -> Vec<Bytes> {
    if !parts.iter().any(|p| matches!(p, Part::Joined(_))) {
        return vec![Bytes::from(render(parts))];
    }
    let mut chunks = Vec::new();
    let mut pending: Vec<u8> = vec![b'['];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            pending.push(b',');
        }
        match part {
            Part::Joined(b) => {
                chunks.push(Bytes::from(std::mem::take(&mut pending)));
                chunks.push(b.clone());
            }
            other => write_part(&mut pending, other),
        }
    }
    pending.push(b']');
    chunks.push(Bytes::from(pending));
    chunks
}

/// Appends one part's JSON.
fn write_part(out: &mut Vec<u8>, part: &Part) {
    match part {
        Part::Reply(r) => {
            // Serialising a struct of plain fields into a Vec cannot fail.
            if serde_json::to_writer(&mut *out, r).is_err() {
                out.extend_from_slice(b"{}");
            }
        }
        Part::Raw(s) => out.extend_from_slice(s.as_bytes()),
        Part::Joined(b) => out.extend_from_slice(b),
    }
}

/// Renders the response array.
pub(crate) fn render(parts: &[Part]) -> Vec<u8> {
    let size: usize = parts
        .iter()
        .map(|p| match p {
            Part::Reply(_) => 160,
            Part::Raw(s) => s.len() + 1,
            Part::Joined(b) => b.len() + 1,
        })
        .sum();
    let mut out = Vec::with_capacity(size + 2);
    out.push(b'[');
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_part(&mut out, part);
    }
    out.push(b']');
    out
}

/// Counts the failed replies of a response, for statistics.
pub(crate) fn failures(parts: &[Part]) -> u64 {
    parts
        .iter()
        .filter(|p| matches!(p, Part::Reply(r) if !r.successful))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_join_to_the_rendered_array() {
        let msg = serde_json::json!({"channel": "/meta/connect", "id": "7"});
        let mut reply = Reply::to(&msg, "/meta/connect");
        reply.successful = true;
        let parts = [
            Part::reply(reply),
            Part::Joined(Bytes::from_static(
                br#"{"channel":"/e/A","data":{}},{"channel":"/e/A","data":{}}"#,
            )),
            Part::Raw(r#"{"channel":"/e/B","data":{}}"#.to_owned()),
            Part::Joined(Bytes::from_static(br#"{"channel":"/e/C","data":{}}"#)),
        ];
        let chunks = render_chunks(&parts);
        assert!(chunks.len() > 1, "batches are passed on, not copied");
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        assert_eq!(joined, render(&parts));
        let value: serde_json::Value = serde_json::from_slice(&joined).unwrap();
        assert_eq!(value.as_array().map(Vec::len), Some(5));
        // Without a batch: one chunk.
        assert_eq!(render_chunks(&parts[2..3]).len(), 1);
    }

    #[test]
    fn handshake_denial_renders_like_salesforce() {
        let msg = serde_json::json!({"channel": "/meta/handshake", "id": "1"});
        let reply = Reply::to(&msg, "/meta/handshake")
            .with_ext(Ext::handshake_failure(CONCURRENT_LIMIT))
            .with_advice(Advice {
                reconnect: Some(Reconnect::None),
                ..Advice::default()
            })
            .failed(HANDSHAKE_DENIED);
        let text = String::from_utf8(render(&[Part::reply(reply)])).unwrap_or_default();
        assert_eq!(
            text,
            r#"[{"ext":{"sfdc":{"failureReason":"403::Organization concurrent user limit exceeded"},"replay":true,"payload.format":true},"advice":{"reconnect":"none"},"channel":"/meta/handshake","id":"1","error":"403::Handshake denied","successful":false}]"#
        );
    }

    #[test]
    fn numeric_ids_are_echoed_as_numbers() {
        let msg = serde_json::json!({"channel": "/meta/connect", "id": 7});
        let reply = Reply::to(&msg, "/meta/connect");
        assert_eq!(reply.id, Some(serde_json::json!(7)));
        let msg = serde_json::json!({"channel": "/meta/connect", "id": {"x": 1}});
        assert_eq!(Reply::to(&msg, "/meta/connect").id, None);
    }
}
