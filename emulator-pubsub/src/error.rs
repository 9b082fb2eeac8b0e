//! The error type of the emulator's Rust API.

/// Why a control call or the start of the emulator failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listener could not be bound.
    #[error("could not bind the listener: {0}")]
    Bind(#[source] std::io::Error),
    /// TLS could not be set up (certificate generation, file write, configuration).
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A control call was given something it cannot use; the message says what and how to fix it.
    #[error("{0}")]
    InvalidArgument(String),
    /// The named topic does not exist.
    #[error(
        "unknown topic {0:?}: create it first (POST /_emulator/topics or Control::create_topic)"
    )]
    UnknownTopic(String),
    /// The named managed subscription does not exist.
    #[error("unknown managed subscription {0:?}")]
    UnknownSubscription(String),
}
