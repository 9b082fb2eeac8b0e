//! The client's error type: the session's errors, plus the store and the client's own state.

use std::sync::Arc;

use sfstream_store::StoreError;

/// Everything a client call can fail with.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the streaming session: authentication, server errors, transport, lost connection,
    /// malformed responses, configuration, misuse. (The session's `Closed` becomes
    /// [`Error::Closed`]: one closed error.)
    #[error(transparent)]
    Stream(sfstream_core::Error),
    /// The replay store failed; the message says which file or store and what to do.
    #[error("replay store: {0}")]
    Store(Arc<StoreError>),
    /// The client is closed (and, for `receive`, every pending message was delivered).
    #[error("the client is closed")]
    Closed,
    /// The call needs an open client: call `open()` first.
    #[error("the client is not open: call open() first")]
    NotOpen,
}

impl Error {
    /// Whether this is the connection-timeout error: the server has been unreachable for the
    /// configured connection timeout. The client keeps trying; the next `receive` may succeed.
    #[must_use]
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            Self::Stream(sfstream_core::Error::ConnectionLost { .. })
        )
    }

    /// Whether authentication failed for good (bad credentials, a refused ready token).
    #[must_use]
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Stream(sfstream_core::Error::Auth(_)))
    }

    /// Whether the client is closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed)
    }
}

impl From<sfstream_core::Error> for Error {
    fn from(e: sfstream_core::Error) -> Self {
        match e {
            sfstream_core::Error::Closed => Self::Closed,
            other => Self::Stream(other),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(Arc::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn the_sessions_closed_error_is_the_clients_closed_error() {
        let e = Error::from(sfstream_core::Error::Closed);
        assert!(e.is_closed());
        assert!(matches!(e, Error::Closed));
        let other = Error::from(sfstream_core::Error::InvalidOperation("x".into()));
        assert!(!other.is_closed());
        assert!(matches!(other, Error::Stream(_)));
    }
}
