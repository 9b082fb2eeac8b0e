//! The builder: the driver's, with `build` giving the blocking [`PubSubClient`].

use sfstream_driver::pubsub::{Error, PubSubConfig};

use super::{Credentials, PubSubClient};
use crate::Blocking;

/// Configures a blocking [`PubSubClient`]: the settings and defaults of every sfstream runtime
/// (see [`sfstream_driver::pubsub::PubSubClientBuilder`]).
///
/// Defaults: Salesforce's global endpoint (`https://api.pubsub.salesforce.com:7443`), new
/// events only (`LATEST`) for topics without a stored position, no replay fallback, automatic
/// commit, 100 events requested per topic at most, a 150 s watchdog, an in-memory store.
#[derive(Clone, Debug)]
pub struct PubSubClientBuilder(sfstream_driver::pubsub::PubSubClientBuilder<Blocking>);

impl From<sfstream_driver::pubsub::PubSubClientBuilder<Blocking>> for PubSubClientBuilder {
    /// Wraps a driver builder, for a [`Blocking`] runtime of your own (a custom ureq agent for
    /// the token requests).
    fn from(builder: sfstream_driver::pubsub::PubSubClientBuilder<Blocking>) -> Self {
        Self(builder)
    }
}

impl PubSubClientBuilder {
    /// A builder for Salesforce with any credentials (the same flows as the Streaming API's
    /// client); [`builder`](super::builder) does the same.
    #[must_use]
    pub fn new(credentials: Credentials) -> Self {
        Self::with_config(PubSubConfig::new(credentials))
    }

    /// A builder over a complete session configuration.
    #[must_use]
    pub fn with_config(config: PubSubConfig) -> Self {
        Self(sfstream_driver::pubsub::PubSubClientBuilder::with_config(
            Blocking::new(),
            config,
        ))
    }

    // Every setting of the driver's builder (`url`, `replay`, `max_pending`, `store`, …), each
    // handing its arguments to the driver's method of the same name.
    sfstream_driver::pubsub_builder_api!(wrap);

    /// Checks the configuration and builds the client (not yet open).
    ///
    /// # Errors
    /// [`Error::Session`] with the configuration problem.
    pub fn build(self) -> Result<PubSubClient, Error> {
        self.0.build().map(PubSubClient::from)
    }
}
