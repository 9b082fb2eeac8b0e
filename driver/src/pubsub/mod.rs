//! The Pub/Sub API's client (gRPC), on any runtime that provides HTTP/2 streams
//! ([`Http2Runtime`]).
//!
//! The same loop as the Streaming API's client, around the core's
//! [`PubSubSession`](sfstream_core::pubsub::PubSubSession): the session asks for token requests
//! and gRPC call operations, the driver performs them and reports what came back, sleeps until
//! the session's timeout, and hands its checkpoints (byte replay ids) to the store. One module
//! per part: `client.rs` (the user's API), `builder.rs` (its settings declared in `settings.rs`), `shared.rs` (what the client and its
//! tasks share, and the one place events become results), `session_events.rs` (the
//! application's view of the session's events), `drive.rs` (the drain that starts
//! token requests and performs call operations; one task per call), `transport.rs` (the seam).

mod api;
mod builder;
mod client;
mod drive;
mod error;
mod session_events;
mod settings;
mod shared;
mod transport;

pub use builder::PubSubClientBuilder;
pub use client::PubSubClient;
pub use error::Error;
pub use session_events::PubSubSessionEvent;
pub use sfstream_core::pubsub::proto::TopicInfo;
pub use sfstream_core::pubsub::session::{DEFAULT_PUBSUB_URL, MAX_OUTSTANDING};
pub use sfstream_core::pubsub::{
    PubSubConfig, PubSubDisconnectReason, PubSubError, PubSubEvent, PubSubMessage,
    PubSubReplayFrom, PubSubStats, PublishEvent, PublishFailure, PublishOutcome, ReplayId,
    TopicStats,
};
pub use transport::{Http2Runtime, StreamEvent};

/// The session events of a Pub/Sub client (see [`PubSubClient::session_events`]).
pub type PubSubSessionEvents = crate::SessionEvents<PubSubSessionEvent>;
