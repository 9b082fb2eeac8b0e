//! The Pub/Sub client's error type: the session's errors, plus the store and the client's own
//! state.
//!
//! Applications match on [`Error::kind`] (the Streaming API's [`ErrorKind`]: a topic plays the
//! part of a channel), ask [`Error::topic`] which topic a topic-level error is about, and
//! [`Error::is_fatal`] / [`Error::is_retryable`] what follows.

use std::sync::Arc;

use sfstream_core::ErrorKind;
use sfstream_core::pubsub::{PubSubError, ReplayId};
use sfstream_store::StoreError;

use crate::CloseTimedOut;

/// Everything a Pub/Sub client call can fail with.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the session: authentication, a call's error status, a topic that failed,
    /// configuration, misuse. (The session's `Closed` becomes [`Error::Closed`].)
    #[error(transparent)]
    Session(PubSubError),
    /// The replay store failed; the message says which file or store and what to do.
    #[error("replay store: {0}")]
    Store(Arc<StoreError>),
    /// The application closed the client (and, for `receive`, every event received was
    /// delivered).
    #[error("the client is closed: close() was called")]
    Closed,
    /// The client stopped after a failure that retrying cannot fix (refused credentials, an
    /// unusable configuration); `cause` is that failure, which was returned once before.
    #[error("the client stopped after a failure: {cause}")]
    ClosedByFailure {
        /// The failure that stopped the client.
        cause: Arc<Error>,
    },
    /// The call needs an open client: call `open()` first.
    #[error("the client is not open: call open() first")]
    NotOpen,
    /// [`close_within`](super::PubSubClient::close_within) ran out of time. The client is
    /// closed for the application either way; what it had not finished is in the report.
    #[error("{0}")]
    CloseTimedOut(Arc<CloseTimedOut<ReplayId>>),
}

impl Error {
    /// What kind of error this is, for applications to match on.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Session(e) => e.kind(),
            Self::Store(_) => ErrorKind::Store,
            Self::Closed => ErrorKind::ClosedByUser,
            Self::ClosedByFailure { .. } => ErrorKind::ClosedByFailure,
            Self::NotOpen => ErrorKind::NotOpen,
            Self::CloseTimedOut(_) => ErrorKind::CloseTimedOut,
        }
    }

    /// The topic a topic-level error is about: that topic failed or is retried, the others go
    /// on.
    #[must_use]
    pub fn topic(&self) -> Option<&str> {
        match self {
            Self::Session(e) => e.topic(),
            _ => None,
        }
    }

    /// Whether the client has stopped (or stops) because of this error: no call succeeds
    /// afterwards without a new client and, but for a user's close, a change of configuration.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Session(e) => e.is_fatal(),
            Self::Closed | Self::ClosedByFailure { .. } | Self::CloseTimedOut(_) => true,
            Self::Store(_) | Self::NotOpen => false,
        }
    }

    /// Whether the same call may succeed later without any change (the server busy or out of
    /// reach, a limit reached). The client retries these itself in the background.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Session(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// For a client stopped by a failure: that failure. `None` for every other error.
    #[must_use]
    pub fn closed_cause(&self) -> Option<&Error> {
        match self {
            Self::ClosedByFailure { cause } => Some(cause),
            _ => None,
        }
    }

    /// Whether the client is closed, by the application or by a failure.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed | Self::ClosedByFailure { .. })
    }

    /// Whether authentication failed for good (bad credentials, a refused ready token).
    #[must_use]
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Session(PubSubError::Auth(_)))
    }
}

impl From<PubSubError> for Error {
    fn from(e: PubSubError) -> Self {
        match e {
            PubSubError::Closed => Self::Closed,
            other => Self::Session(other),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(Arc::new(e))
    }
}
