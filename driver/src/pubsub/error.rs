//! The Pub/Sub client's error type: the session's errors, plus the store and the client's own
//! state.

use std::sync::Arc;

use sfstream_core::pubsub::PubSubError;
use sfstream_store::StoreError;

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
    /// The client is closed (and, for `receive`, every event received was delivered).
    #[error("the client is closed")]
    Closed,
    /// The call needs an open client: call `open()` first.
    #[error("the client is not open: call open() first")]
    NotOpen,
}

impl Error {
    /// Whether the client is closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed)
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
