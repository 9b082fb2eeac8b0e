//! The seam between the bridge and where events go.
//!
//! A sink stores records in order per channel, acknowledges each once it is durable, tells
//! where a channel stands (so any replica resumes where the last one stopped), and fences
//! writers: a write may name the position it extends, and a write from a stale view then fails
//! with [`SinkError::Fenced`] instead of interleaving. Writes may also be pipelined
//! ([`Sink::send`] without a fence, relying on the record's identity for de-duplication); the
//! channel is then checked and put back in order ([`Sink::stored_after`], [`Sink::remove`]) when
//! a write fails. JetStream is the first sink
//! ([`crate::JetStreamSink`]); a Kafka sink would implement the same trait (fencing by the
//! producer epoch of a transactional id, positions in a compacted topic).

use std::future::Future;
use std::pin::Pin;
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
    /// Set when an earlier copy of this record was stored out of order and removed: the fence
    /// that copy had. The sink's de-duplication still remembers the removed copy, so this copy
    /// needs an identity of its own.
    pub replaces: Option<u64>,
}

impl Record {
    /// A record of event `replay_id` of `channel` with `body` (the event's JSON), of the
    /// `generic` kind and without a date.
    #[must_use]
    pub fn new(org_id: &str, channel: &str, replay_id: i64, body: Bytes) -> Self {
        Self {
            org_id: Arc::from(org_id),
            channel: Arc::from(channel),
            replay_id,
            kind: "generic",
            created_date: None,
            body,
            replaces: None,
        }
    }
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

/// An acknowledgement still to come (see [`Sink::send`]).
pub type Ack = Pin<Box<dyn Future<Output = Result<Stored, SinkError>> + Send>>;

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

    /// Sends `record` without waiting for it to be stored, so that several writes of a channel
    /// can be under way at once; the returned [`Ack`] resolves once it is durable (or failed).
    /// With `fence: None` the write is not fenced: the sink drops it only if it holds the same
    /// record (its identity) already. Writes of one channel are sent in call order, but one
    /// may be lost while a later one is stored (a connection or leader lost in between):
    /// [`stored_after`](Self::stored_after) finds that out.
    fn send(
        &self,
        record: &Record,
        fence: Option<u64>,
    ) -> impl Future<Output = Result<Ack, SinkError>> + Send;

    /// The records stored for `channel` of `org_id` after the fence `after`, in order, at most
    /// `limit` of them, read from the sink's authority: each one's replay id and fence.
    fn stored_after(
        &self,
        org_id: &str,
        channel: &str,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Position>, SinkError>> + Send;

    /// Whether [`remove`](Self::remove) is safe: removing a channel's last record leaves the
    /// records before it, and the channel's position, as they were.
    fn removes(&self) -> bool;

    /// Removes the record stored at `fence` (one stored out of order after an earlier write was
    /// lost). Removing one that is gone already succeeds. Only when [`removes`](Self::removes).
    fn remove(&self, fence: u64) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// A number that changes whenever the connection to the sink is lost and made again;
    /// `None` while there is none. Unfenced writes of one channel go out only while it stays
    /// the same: a write lost with an old connection must not be followed by a later one
    /// stored over the new connection.
    fn epoch(&self) -> Option<u64>;

    /// The largest record body the sink takes, in bytes.
    fn max_record_bytes(&self) -> usize;
}
