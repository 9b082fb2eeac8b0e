//! The Pub/Sub API every runtime crate offers, written once.

/// Defines, in a runtime crate, its `pubsub` module's API: the re-exports, and `builder`, with
/// `$runtime::new()` as the runtime.
///
/// - `pubsub_api!(Runtime)`, for an async runtime: `PubSubClient` and `PubSubClientBuilder` are
///   the driver's, bound to the runtime.
/// - `pubsub_api!(Runtime, own client)`, for a runtime whose crate defines `PubSubClient` and a
///   `PubSubClientBuilder` that wraps the driver's (the blocking crate): that builder has
///   `From<PubSubClientBuilder<Runtime>>`, and its settings come from
///   [`pubsub_builder_api!`](crate::pubsub_builder_api)`(wrap)`.
#[macro_export]
macro_rules! pubsub_api {
    (@shared $runtime:ty) => {
        pub use $crate::pubsub::{
            DEFAULT_PUBSUB_URL, Error, MAX_OUTSTANDING, PubSubConfig, PubSubDisconnectReason,
            PubSubError, PubSubEvent, PubSubMessage, PubSubReplayFrom, PubSubSessionEvent,
            PubSubStats, PublishEvent, PublishFailure, PublishOutcome, TopicStats,
            ReplayId, TopicInfo,
        };
        pub use $crate::{
            CommitPolicy, ConstantStore, Credentials, FileStore, MemoryStore, ReplayFallback,
            ReplayStore, RetryPolicy, SESSION_EVENTS_BUFFER, Secret,
        };

        /// A builder for Salesforce's Pub/Sub API with any credentials (password, refresh
        /// token, JWT bearer, client credentials, or a ready access token).
        #[must_use]
        pub fn builder(credentials: Credentials) -> PubSubClientBuilder {
            PubSubClientBuilder::from($crate::pubsub::PubSubClientBuilder::new(
                <$runtime>::new(),
                credentials,
            ))
        }
    };
    ($runtime:ty, own client) => {
        $crate::pubsub_api!(@shared $runtime);
    };
    ($runtime:ty) => {
        $crate::pubsub_api!(@shared $runtime);

        pub use $crate::pubsub::PubSubSessionEvents;

        /// A Salesforce Pub/Sub API client. Clones share one session.
        pub type PubSubClient = $crate::pubsub::PubSubClient<$runtime>;
        /// Configures a [`PubSubClient`].
        pub type PubSubClientBuilder = $crate::pubsub::PubSubClientBuilder<$runtime>;
    };
}
