//! Drive a [`Session`](crate::Session) through a recorded exchange, without a network.
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
//! Recorded transcripts (see [`Session::record`](crate::Session::record)) also use
//! `clock_ns` (the instant of the next input), `timeout` (`handle_timeout`), `arrive` and
//! `hand_over` (the response path in steps), and `stored` (a store's replay ids).
//!
//! Request checks: `kind` (token, handshake, connect, control, disconnect), `json` (a JSON value
//! that must be contained in the request body: objects by subset, arrays element by element),
//! `body_contains`, `header` (name → exact value), `header_contains`, `header_absent`. Requests
//! are checked in the order the session sent them. `as` names a request for `reply`/`fail`;
//! without `to`, a reply goes to the oldest unanswered request. Reply messages on meta channels
//! without an `id` get the id of the sent message they answer.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use crate::config::ReplayFrom;
use crate::{Event, Message};

mod checks;
mod config;
mod player;
pub(crate) mod recorder;

pub use checks::request_kind;
use checks::*;
pub use config::{TranscriptConfig, TranscriptJwt};
pub use player::Player;
pub use recorder::{RECORDING_TRAILER, REDACTED};

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
    /// Replay ids a store kept, by channel, given to the session before `open`
    /// ([`Session::resume_from_store`](crate::Session::resume_from_store)).
    pub stored: Option<BTreeMap<String, i64>>,
    /// The store's constant replay id, with `stored`.
    pub stored_default: Option<i64>,
    /// The steps.
    pub steps: Vec<Step>,
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
    /// Fail a request with a transport error (`timeout`, `connect`, `io`, `body_too_large`,
    /// `other`).
    Fail {
        /// The request's name; default the oldest unanswered.
        to: Option<String>,
        /// The error kind.
        error: String,
    },
    /// Let time pass, then call `handle_timeout`.
    AdvanceMs(u64),
    /// Set the clock to this many nanoseconds after the start, without calling
    /// `handle_timeout` (recorded transcripts: the instant of the next input). Never backwards.
    ClockNs(u64),
    /// Call `handle_timeout` now.
    Timeout(Value),
    /// The response to a request arrives (`handle_arrived`): the first half of the response
    /// path in steps; a later `hand_over` gives the session the decoded response.
    Arrive(Reply),
    /// Hand over the decoded response of a request that arrived (`handle_received`).
    HandOver(String),
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

impl Reply {
    /// The HTTP response this reply describes, to a request whose body was `sent` (a reply on a
    /// meta channel without an `id` takes the id of the message it answers).
    pub fn response(&self, sent: &[u8]) -> Result<http::Response<Vec<u8>>, String> {
        build_response(self, sent)
    }
}

/// The transport error a `fail` step names: `timeout`, `connect`, `io`, `body_too_large`,
/// `other`.
pub fn transport_error(name: &str) -> Result<crate::TransportError, String> {
    use crate::TransportError as E;
    Ok(match name {
        "timeout" => E::Timeout,
        "connect" => E::Connect("connection refused".into()),
        "io" => E::Io("connection reset".into()),
        "body_too_large" => E::BodyTooLarge { limit: 1024 },
        "other" => E::Other("the HTTP client failed".into()),
        o => return Err(format!("unknown transport error {o:?}")),
    })
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
