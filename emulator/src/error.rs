//! The library's error type.

/// What can go wrong when starting or steering the emulator.
///
/// Network input never produces an `Error`: bad requests are answered on the wire.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listener could not be bound.
    #[error("could not bind the emulator's listener: {0}")]
    Bind(#[source] std::io::Error),
    /// The configured JWT public key is not a PEM RSA public key.
    #[error("invalid JWT public key: {0}")]
    InvalidPublicKey(String),
    /// The name is not a streaming channel name (`/topic/…`, `/event/…`, `/data/…`, `/u/…`).
    #[error("invalid channel name {0:?}")]
    InvalidChannel(String),
    /// The channel does not exist and channels are not created automatically.
    #[error("unknown channel {0:?}")]
    UnknownChannel(String),
    /// An argument is out of range (for example a chaos rate above 1).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}
