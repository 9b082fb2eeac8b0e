//! What can go wrong in a Pub/Sub session.

use std::fmt;
use std::time::Duration;

use crate::oauth::AuthError;
use crate::pubsub::{PubSubErrorClass, Status};
use crate::transmit::TransportError;

use super::call::CallKind;
use super::replay::ReplayId;

/// Everything that can go wrong, as events from the session and as results of commands.
///
/// Texts name the problem and what the session does about it; none holds a token or a payload.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PubSubError {
    /// Getting a token failed.
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    /// A token request got no response.
    #[error("token request failed: {0}")]
    Transport(TransportError),
    /// A gRPC call ended with an error status (from the server, or derived from a reset, a
    /// transport failure or an unreadable stream).
    #[error("{kind} call{on} ended with {status}", kind = .kind.as_str(), on = on(.target))]
    Call {
        /// The method.
        kind: CallKind,
        /// The topic or schema id the call was about.
        target: String,
        /// The outcome, with Salesforce's `error-code` and `rpc-id`.
        status: Status,
    },
    /// The server sent a message the session cannot read (bad protobuf). The call is ended and
    /// made again.
    #[error("malformed {kind} response{on}: {detail}", kind = .kind.as_str(), on = on(.target))]
    Protocol {
        /// The method.
        kind: CallKind,
        /// The topic or schema id the call was about.
        target: String,
        /// What was wrong.
        detail: String,
    },
    /// An event's payload could not be decoded. The event is still delivered, with its raw
    /// bytes; nothing is lost.
    #[error("the event {replay_id} on {topic} (schema {schema_id}) could not be decoded: {detail}")]
    Payload {
        /// The topic.
        topic: String,
        /// The event's replay id.
        replay_id: ReplayId,
        /// The schema id the event named.
        schema_id: String,
        /// What was wrong.
        detail: String,
    },
    /// Nothing arrived on a stream for longer than the watchdog allows: the connection is taken
    /// for dead and the stream opened again.
    #[error(
        "nothing arrived on the {topic} stream for {:.1}s (no event, no keepalive): the \
         connection looks dead; opening the stream again",
        .silent_for.as_secs_f64()
    )]
    Watchdog {
        /// The topic.
        topic: String,
        /// How long the stream was silent.
        silent_for: Duration,
    },
    /// The session was told to do something its state does not allow.
    #[error("invalid operation: {0}")]
    InvalidOperation(String),
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
}

fn on(target: &str) -> String {
    if target.is_empty() {
        String::new()
    } else {
        format!(" for {target}")
    }
}

impl PubSubError {
    /// The class of a failed call, which decided what the session did.
    #[must_use]
    pub fn class(&self) -> Option<PubSubErrorClass> {
        match self {
            Self::Call { status, .. } => Some(status.class()),
            Self::Transport(_) | Self::Watchdog { .. } => Some(PubSubErrorClass::Transient),
            Self::Protocol { .. } => Some(PubSubErrorClass::Resubscribe),
            _ => None,
        }
    }

    /// The call's status, for call failures.
    #[must_use]
    pub fn status(&self) -> Option<&Status> {
        match self {
            Self::Call { status, .. } => Some(status),
            _ => None,
        }
    }
}

/// Why a Pub/Sub session ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PubSubDisconnectReason {
    /// The application closed it.
    Closed,
    /// A failure that retrying cannot fix (bad credentials, bad configuration).
    Failed(PubSubError),
}

impl fmt::Display for PubSubDisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("closed by the application"),
            Self::Failed(e) => write!(f, "failed: {e}"),
        }
    }
}
