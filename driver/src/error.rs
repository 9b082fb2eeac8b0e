//! The client's error type: the session's errors, plus the store and the client's own state.
//!
//! Applications match on [`Error::kind`] (an [`ErrorKind`]), ask [`Error::channel`] which
//! channel a channel-level error is about, and [`Error::is_fatal`] / [`Error::is_retryable`]
//! what follows. The variants say where an error came from.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sfstream_core::{ErrorKind, TransportError};
use sfstream_store::StoreError;

/// Everything a client call can fail with.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the streaming session: authentication, server errors, transport, lost connection,
    /// malformed responses, configuration, misuse. (The session's `Closed` becomes
    /// [`Error::Closed`] or [`Error::ClosedByFailure`].)
    #[error(transparent)]
    Stream(sfstream_core::Error),
    /// The replay store failed; the message says which file or store and what to do.
    #[error("replay store: {0}")]
    Store(Arc<StoreError>),
    /// The application closed the client (and, for `receive`, every pending message was
    /// delivered).
    #[error("the client is closed: close() was called")]
    Closed,
    /// The client stopped after a failure that retrying cannot fix (refused credentials, an
    /// unusable configuration, a store that cannot be read); `cause` is that failure. Every
    /// pending message was delivered, and the failure itself was returned once before.
    #[error("the client stopped after a failure: {cause}")]
    ClosedByFailure {
        /// The failure that stopped the client.
        cause: Arc<Error>,
    },
    /// The call needs an open client: call `open()` first.
    #[error("the client is not open: call open() first")]
    NotOpen,
    /// A close with a time bound ([`Client::close_within`](crate::Client::close_within)) ran out
    /// of time. The client is closed for the application either way; what it had not finished is
    /// in the report.
    #[error("{0}")]
    CloseTimedOut(Arc<CloseTimedOut>),
}

/// What a close with a time bound had not finished when the bound passed. `Id` is a replay id:
/// the Streaming API's `i64`, the Pub/Sub API's [`ReplayId`](crate::pubsub::ReplayId) (and
/// a topic in place of a channel).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseTimedOut<Id = i64> {
    /// The bound given.
    pub bound: Duration,
    /// Whether the session had ended (the server acknowledged the disconnect, or the session
    /// had failed before). When not, the disconnect is abandoned: the server drops the session
    /// after its own timeout.
    pub disconnected: bool,
    /// Replay ids committed but not yet confirmed in the store, by channel. Their writes go on
    /// in the background; after a restart before they land, the channel resumes from the
    /// previous stored id and its events after it come again.
    pub unsaved: BTreeMap<String, Id>,
    /// Messages received but not taken by the application. They are not committed; the next
    /// run receives them again by replay.
    pub pending: usize,
}

impl<Id: fmt::Display> fmt::Display for CloseTimedOut<Id> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "close did not finish within {:?}:", self.bound)?;
        if self.disconnected {
            f.write_str(" the session had ended")?;
        } else {
            f.write_str(" the server had not acknowledged the disconnect")?;
        }
        if self.unsaved.is_empty() {
            f.write_str("; every committed replay id was stored")?;
        } else {
            f.write_str("; committed replay ids not yet stored:")?;
            for (i, (channel, id)) in self.unsaved.iter().enumerate() {
                let sep = if i == 0 { " " } else { ", " };
                write!(f, "{sep}{channel} {id}")?;
            }
        }
        write!(
            f,
            "; {} received message(s) not taken (not committed)",
            self.pending
        )
    }
}

impl Error {
    /// What kind of error this is: what applications match on.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Stream(e) => e.kind(),
            Self::Store(_) => ErrorKind::Store,
            Self::Closed => ErrorKind::ClosedByUser,
            Self::ClosedByFailure { .. } => ErrorKind::ClosedByFailure,
            Self::NotOpen => ErrorKind::NotOpen,
            Self::CloseTimedOut(_) => ErrorKind::CloseTimedOut,
        }
    }

    /// The channel a channel-level error is about (a subscription the server refused, a channel
    /// subscribed twice or not at all): that channel failed, the others go on.
    #[must_use]
    pub fn channel(&self) -> Option<&str> {
        match self {
            Self::Stream(e) => e.channel(),
            _ => None,
        }
    }

    /// Whether the client has stopped (or stops) because of this error: refused credentials,
    /// an unusable configuration, a closed client. Nothing succeeds on this client afterwards.
    /// A channel-level error is not fatal: the client goes on with the other channels.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Stream(e) => e.is_fatal(),
            Self::Closed | Self::ClosedByFailure { .. } | Self::CloseTimedOut(_) => true,
            Self::Store(_) | Self::NotOpen => false,
        }
    }

    /// Whether the same call may succeed later without any change (the server busy or out of
    /// reach, a limit reached). The client retries these itself in the background.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Stream(e) => e.is_retryable(),
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

    /// The transport failure of a request that got no response, with its kind
    /// ([`TransportError::kind`]).
    #[must_use]
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            Self::Stream(e) => e.transport(),
            _ => None,
        }
    }

    /// Whether this is the connection-timeout error: the server has been unreachable for the
    /// configured connection timeout. The client keeps trying; the next `receive` may succeed.
    #[must_use]
    pub fn is_connection_lost(&self) -> bool {
        self.kind() == ErrorKind::ConnectionLost
    }

    /// Whether authentication failed: the credentials or the token were refused.
    #[must_use]
    pub fn is_auth(&self) -> bool {
        self.kind() == ErrorKind::Authentication
    }

    /// Whether the client is closed, by the application or by a failure.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed | Self::ClosedByFailure { .. })
    }

    /// The error of a call on a client that has stopped: closed by the application (`None`),
    /// or by the failure `cause`.
    pub(crate) fn closed(cause: Option<&Error>) -> Self {
        match cause {
            None => Self::Closed,
            Some(cause) => Self::ClosedByFailure {
                cause: Arc::new(cause.clone()),
            },
        }
    }
}

impl From<sfstream_core::Error> for Error {
    fn from(e: sfstream_core::Error) -> Self {
        match e {
            sfstream_core::Error::Closed { cause: None } => Self::Closed,
            sfstream_core::Error::Closed { cause: Some(cause) } => Self::ClosedByFailure {
                cause: Arc::new(Self::from(*cause)),
            },
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
mod tests;
