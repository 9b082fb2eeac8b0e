//! Building a Pub/Sub client: the session's configuration and a store.

use std::sync::Arc;

use sfstream_core::oauth::Credentials;
use sfstream_core::pubsub::PubSubConfig;
use sfstream_store::{MemoryStore, ReplayStore};

use super::{Error, Http2Runtime, PubSubClient};

/// Configures a [`PubSubClient`].
///
/// Defaults: Salesforce's global endpoint (`https://api.pubsub.salesforce.com:7443`), new
/// events only (`LATEST`) for topics without a stored position, no replay fallback, automatic
/// commit, 100 events requested per topic at most, a 150 s watchdog, an in-memory store.
#[derive(Clone)]
pub struct PubSubClientBuilder<R: Http2Runtime> {
    pub(crate) runtime: R,
    pub(crate) config: PubSubConfig,
    pub(crate) store: Arc<dyn ReplayStore>,
}

impl<R: Http2Runtime> std::fmt::Debug for PubSubClientBuilder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<R: Http2Runtime> PubSubClientBuilder<R> {
    /// A builder for Salesforce with the given credentials (the same flows as the Streaming
    /// API's client).
    #[must_use]
    pub fn new(runtime: R, credentials: Credentials) -> Self {
        Self::with_config(runtime, PubSubConfig::new(credentials))
    }

    /// A builder over a complete session configuration.
    #[must_use]
    pub fn with_config(runtime: R, config: PubSubConfig) -> Self {
        Self {
            runtime,
            config,
            store: Arc::new(MemoryStore::new()),
        }
    }

    // Every setting (`url`, `replay`, `max_pending`, `store`, …), declared once for the
    // driver's builder and the builders that wrap it.
    crate::pubsub_builder_api!(own);

    /// Checks the configuration and builds the client (not yet open).
    ///
    /// # Errors
    /// [`Error::Session`] with the configuration problem.
    pub fn build(mut self) -> Result<PubSubClient<R>, Error> {
        self.config.seed.get_or_insert_with(crate::builder::os_seed);
        PubSubClient::from_builder(self)
    }
}
