//! Pub/Sub replay ids: opaque bytes, and where a subscription starts.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

use crate::config::ReplayFallback;
use crate::pubsub::proto::ReplayPreset;

/// A position in a topic's event stream, as the Pub/Sub API gives it: opaque bytes.
///
/// Replay ids increase along a topic but are not contiguous, and their length is not fixed
/// (Salesforce's are 8 bytes today; longer ones have been reported). Nothing here reads them as
/// numbers, and they have no order: the session orders events by their arrival. Store the bytes
/// (a text store can keep [`ReplayId::to_base64`]).
///
/// `Debug` and `Display` show the base64 form.
///
/// ```
/// use sfstream_core::pubsub::ReplayId;
///
/// let id = ReplayId::from_u64(8000);
/// assert_eq!(id.as_bytes(), &[0, 0, 0, 0, 0, 0, 0x1f, 0x40]);
/// assert_eq!(id.to_base64(), "AAAAAAAAH0A=");
/// assert_eq!(ReplayId::from_base64("AAAAAAAAH0A=").unwrap(), id);
/// assert_eq!(id.as_u64(), Some(8000));
/// assert!(ReplayId::from_base64("not base64!").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ReplayId(Bytes);

/// A replay id given as text that is not base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the replay id {shown:?} is not base64 ({detail}): give the bytes of a Pub/Sub replay id in \
     standard base64, as sfstream prints and stores them"
)]
pub struct ReplayIdError {
    shown: String,
    detail: String,
}

impl ReplayId {
    /// Wraps the bytes of a replay id.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self(bytes.into())
    }

    /// The 8 big-endian bytes of `n`: the form Salesforce's replay ids have today (and what the
    /// npm client and Salesforce's Java sample make from a number).
    #[must_use]
    pub fn from_u64(n: u64) -> Self {
        Self(Bytes::copy_from_slice(&n.to_be_bytes()))
    }

    /// Reads the standard base64 form ([`ReplayId::to_base64`]).
    ///
    /// # Errors
    /// [`ReplayIdError`] when the text is not base64 or decodes to nothing.
    pub fn from_base64(text: &str) -> Result<Self, ReplayIdError> {
        let text = text.trim();
        let error = |detail: String| ReplayIdError {
            shown: text.chars().take(64).collect(),
            detail,
        };
        let bytes = STANDARD.decode(text).map_err(|e| error(e.to_string()))?;
        if bytes.is_empty() {
            return Err(error("it is empty".into()));
        }
        Ok(Self(bytes.into()))
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as a shared buffer (no copy).
    #[must_use]
    pub fn to_bytes(&self) -> Bytes {
        self.0.clone()
    }

    /// Whether there are no bytes (the server sent none: not a position).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The standard base64 form, for text stores, logs and command lines.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// The number an 8-byte id holds, big-endian, for display; `None` for other lengths.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        let bytes: [u8; 8] = self.0.as_ref().try_into().ok()?;
        Some(u64::from_be_bytes(bytes))
    }
}

impl fmt::Debug for ReplayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayId({})", self.to_base64())
    }
}

impl fmt::Display for ReplayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl From<Vec<u8>> for ReplayId {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes.into())
    }
}

impl From<&[u8]> for ReplayId {
    fn from(bytes: &[u8]) -> Self {
        Self(Bytes::copy_from_slice(bytes))
    }
}

/// Where a topic's subscription starts when there is no position to resume from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PubSubReplayFrom {
    /// Only events published after the stream opens (`LATEST`).
    #[default]
    Latest,
    /// Every event still retained (`EARLIEST`, 72 hours); each one counts against the org's
    /// delivery allocation.
    Earliest,
    /// Every event after this replay id (`CUSTOM`), e.g. one read from a store.
    Custom(ReplayId),
}

impl PubSubReplayFrom {
    /// The preset and replay id of a first `FetchRequest`.
    #[must_use]
    pub fn wire(&self) -> (ReplayPreset, Bytes) {
        match self {
            Self::Latest => (ReplayPreset::Latest, Bytes::new()),
            Self::Earliest => (ReplayPreset::Earliest, Bytes::new()),
            Self::Custom(id) => (ReplayPreset::Custom, id.to_bytes()),
        }
    }

    /// The Streaming API's replay fallback in Pub/Sub terms: new events only is `LATEST`,
    /// everything retained is `EARLIEST`.
    #[must_use]
    pub fn from_fallback(fallback: ReplayFallback) -> Self {
        match fallback {
            ReplayFallback::New => Self::Latest,
            ReplayFallback::All => Self::Earliest,
        }
    }

    /// The Streaming API's special replay ids in Pub/Sub terms (`-1` new events: `LATEST`, `-2`
    /// all retained: `EARLIEST`), for a store that imposes one; other values name no preset.
    #[must_use]
    pub fn from_streaming_constant(value: i64) -> Option<Self> {
        match value {
            -1 => Some(Self::Latest),
            -2 => Some(Self::Earliest),
            _ => None,
        }
    }
}

impl fmt::Display for PubSubReplayFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("LATEST"),
            Self::Earliest => f.write_str("EARLIEST"),
            Self::Custom(id) => write!(f, "CUSTOM after {id}"),
        }
    }
}
