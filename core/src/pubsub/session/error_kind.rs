//! The Pub/Sub errors' kinds: the same [`ErrorKind`] the Streaming API's errors have, so that an
//! application matches both APIs' errors alike. A topic plays the part of a channel.

use crate::error::ErrorKind;
use crate::pubsub::{GrpcStatus, PubSubErrorClass};

use super::error::PubSubError;

impl PubSubErrorClass {
    /// The kind of error a failed call of this class is.
    #[must_use]
    pub fn kind(self) -> ErrorKind {
        match self {
            Self::Auth => ErrorKind::Authentication,
            Self::InvalidReplayId => ErrorKind::Replay,
            Self::Topic => ErrorKind::Channel,
            Self::Limit | Self::DeliveryLimit => ErrorKind::Limit,
            Self::Config => ErrorKind::Configuration,
            Self::Transient | Self::Resubscribe | Self::ClientBug => ErrorKind::Server,
        }
    }

    /// Whether the session tries again after a failed call of this class: the classes whose
    /// [`action`](Self::action) is to back off, re-authenticate or open the stream again.
    #[must_use]
    pub fn is_retried(self) -> bool {
        match self {
            Self::Auth
            | Self::Transient
            | Self::Resubscribe
            | Self::Limit
            | Self::DeliveryLimit
            | Self::ClientBug => true,
            Self::InvalidReplayId | Self::Topic | Self::Config => false,
        }
    }
}

impl PubSubError {
    /// What kind of error this is, for applications to match on (the Streaming API's kinds: a
    /// topic that cannot be read is [`ErrorKind::Channel`], or [`ErrorKind::Permission`] when
    /// the server said the user may not read it).
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Auth(e) => crate::error::auth_kind(e),
            Self::Transport(_) | Self::Watchdog { .. } => ErrorKind::Transport,
            Self::Call { status, .. } => match status.class() {
                PubSubErrorClass::Topic if status.code == GrpcStatus::PermissionDenied => {
                    ErrorKind::Permission
                }
                class => class.kind(),
            },
            Self::Protocol { .. } | Self::Payload { .. } => ErrorKind::Protocol,
            Self::InvalidOperation(_) => ErrorKind::InvalidOperation,
            Self::Config(_) => ErrorKind::Configuration,
            Self::Closed => ErrorKind::ClosedByUser,
        }
    }

    /// The topic a topic-level error is about (a stream the server refused or ended, an event
    /// that could not be decoded): that topic failed or is retried, the others go on.
    #[must_use]
    pub fn topic(&self) -> Option<&str> {
        match self {
            Self::Call { target, .. } | Self::Protocol { target, .. }
                if target.starts_with('/') =>
            {
                Some(target)
            }
            Self::Payload { topic, .. } | Self::Watchdog { topic, .. } => Some(topic),
            _ => None,
        }
    }

    /// Whether the session has ended (or ends) because of this error: refused credentials, an
    /// unusable configuration, a closed session.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Auth(e) => !e.is_transient(),
            Self::Call { status, .. } => status.class() == PubSubErrorClass::Config,
            Self::Config(_) | Self::Closed => true,
            Self::Transport(_)
            | Self::Watchdog { .. }
            | Self::Protocol { .. }
            | Self::Payload { .. }
            | Self::InvalidOperation(_) => false,
        }
    }

    /// Whether the same thing may succeed later without any change: the server busy or out of
    /// reach, a limit, an expired token. The session retries these itself.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Auth(e) => e.is_transient(),
            Self::Call { status, .. } => status.class().is_retried(),
            Self::Transport(_) | Self::Watchdog { .. } | Self::Protocol { .. } => true,
            Self::Payload { .. } | Self::InvalidOperation(_) | Self::Config(_) | Self::Closed => {
                false
            }
        }
    }
}
