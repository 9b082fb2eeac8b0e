//! The seam between the bridge and where events go.
//!
//! A sink stores records in order per channel, acknowledges each once it is durable, tells
//! where a channel stands (so any replica resumes where the last one stopped), and fences
//! writers: every write names the position it extends, and a write from a stale view fails
//! with [`SinkError::Fenced`] instead of interleaving. JetStream is the first sink
//! ([`crate::JetStreamSink`]); a Kafka sink would implement the same trait (fencing by the
//! producer epoch of a transactional id, positions in a compacted topic).

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

/// One event, ready to be stored.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Record {
    /// The org the event comes from.
    pub org_id: Arc<str>,
    /// The channel (`/event/Order__e`).
    pub channel: Arc<str>,
    /// The event's replay id: its identity within the channel.
    pub replay_id: i64,
    /// `pushtopic`, `platform_event`, `change_event`, `generic`.
    pub kind: &'static str,
    /// RFC 3339, when the event has a date.
    pub created_date: Option<String>,
    /// The event as JSON (what `sfstream listen` prints for it).
    pub body: Bytes,
}

/// Where a channel stands in a sink: the last stored event and the fence a next write must
/// name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Position {
    /// The replay id of the last stored event; `None` when the sink holds none for the
    /// channel.
    pub replay_id: Option<i64>,
    /// The sink's token for "the state I last saw" (JetStream: the stream sequence of the
    /// channel's last message, 0 for none).
    pub fence: u64,
}

impl Position {
    /// A channel the sink holds nothing for.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            replay_id: None,
            fence: 0,
        }
    }
}

/// A stored record's acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stored {
    /// The fence the next write of the channel must name.
    pub fence: u64,
    /// Whether the sink had the record already (a re-send after a lost acknowledgement).
    pub duplicate: bool,
}

/// Why a sink did not store a record.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The sink could not be reached or did not answer in time. The record may have been
    /// stored: send it again, with the same identity, until an answer comes.
    #[error("the sink is unavailable: {0}")]
    Unavailable(String),
    /// Someone else wrote the channel since the fence this write named: re-read the position
    /// before writing again (and check who owns the channel).
    #[error("another writer changed {subject} (expected last sequence {expected})")]
    Fenced {
        /// What the write was for.
        subject: String,
        /// The fence the write named.
        expected: u64,
    },
    /// The record can never be stored as it is (larger than the server takes).
    #[error("{0}")]
    Rejected(String),
    /// The sink is not set up as the bridge needs (a stream missing or incompatible).
    #[error("{0}")]
    Config(String),
}

impl SinkError {
    /// Whether sending the same record again may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Where events go. Implementations are cheap to clone (shared connections inside).
pub trait Sink: Clone + Send + Sync + 'static {
    /// Creates what the sink needs (a stream) or checks what exists, refusing settings that
    /// would break the bridge's guarantees. Called once before anything is written.
    fn prepare(&self) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Where `channel` of `org_id` stands, read from the sink's authority (never a replica
    /// that may lag).
    fn position(
        &self,
        org_id: &str,
        channel: &str,
    ) -> impl Future<Output = Result<Position, SinkError>> + Send;

    /// Stores `record` after the state named by `fence` and resolves once it is durable.
    fn publish(
        &self,
        record: &Record,
        fence: u64,
    ) -> impl Future<Output = Result<Stored, SinkError>> + Send;

    /// The largest record body the sink takes, in bytes.
    fn max_record_bytes(&self) -> usize;
}
