//! The Pub/Sub API every async runtime crate offers, written once.

/// Defines, in an async runtime crate, its `pubsub` module's API: the re-exports,
/// `PubSubClient` and `PubSubClientBuilder` bound to the runtime, and `builder`, with
/// `$runtime::new()` as the runtime.
#[macro_export]
macro_rules! pubsub_api {
    ($runtime:ty) => {
        pub use $crate::pubsub::{
            DEFAULT_PUBSUB_URL, Error, MAX_OUTSTANDING, PubSubConfig, PubSubDisconnectReason,
            PubSubError, PubSubEvent, PubSubMessage, PubSubReplayFrom, PubSubStats, PublishEvent,
            PublishFailure, PublishOutcome, ReplayId, TopicInfo,
        };
        pub use $crate::{
            CommitPolicy, ConstantStore, Credentials, FileStore, MemoryStore, ReplayFallback,
            ReplayStore, RetryPolicy, Secret,
        };

        /// A Salesforce Pub/Sub API client. Clones share one session.
        pub type PubSubClient = $crate::pubsub::PubSubClient<$runtime>;
        /// Configures a [`PubSubClient`].
        pub type PubSubClientBuilder = $crate::pubsub::PubSubClientBuilder<$runtime>;

        /// A builder for Salesforce's Pub/Sub API with any credentials (password, refresh
        /// token, JWT bearer, client credentials, or a ready access token).
        #[must_use]
        pub fn builder(credentials: Credentials) -> PubSubClientBuilder {
            PubSubClientBuilder::new(<$runtime>::new(), credentials)
        }
    };
}
