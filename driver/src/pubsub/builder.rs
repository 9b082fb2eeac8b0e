//! Building a Pub/Sub client: the session's configuration and a store.

use std::sync::Arc;
use std::time::Duration;

use sfstream_core::oauth::Credentials;
use sfstream_core::pubsub::{PubSubConfig, PubSubReplayFrom};
use sfstream_core::{CommitPolicy, ReplayFallback, RetryPolicy};
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

    /// The Pub/Sub endpoint: `https://…`, or `http://127.0.0.1:PORT` (h2c, loopback only) for a
    /// local emulator.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.config.url = url.into();
        self
    }

    /// The org id sent as `tenantid` (by default taken from the token).
    #[must_use]
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.config.tenant_id = Some(tenant_id.into());
        self
    }

    /// Where topics without a stored position start.
    #[must_use]
    pub fn replay(mut self, replay: PubSubReplayFrom) -> Self {
        self.config.replay = replay;
        self
    }

    /// What to do, once, when the server rejects a replay id: `EARLIEST`
    /// ([`ReplayFallback::All`]) or `LATEST` ([`ReplayFallback::New`]); `None` fails the topic.
    #[must_use]
    pub fn replay_fallback(mut self, fallback: Option<ReplayFallback>) -> Self {
        self.config.replay_fallback = fallback;
        self
    }

    /// When a received event counts as processed (and its replay id is stored).
    #[must_use]
    pub fn commit(mut self, commit: CommitPolicy) -> Self {
        self.config.commit = commit;
        self
    }

    /// Backoff for failures.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// The deadline of token requests and unary calls, and of making a connection.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// How long a stream may stay silent (no event, no keepalive) before it is taken for dead
    /// and opened again; `None`: never.
    #[must_use]
    pub fn watchdog(mut self, watchdog: Option<Duration>) -> Self {
        self.config.watchdog = watchdog;
        self
    }

    /// The server's idle timeout of streams owed nothing (60 s at Salesforce).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// How many events of one topic may wait for the application, counting those requested and
    /// not yet received (never more than 100 are requested).
    #[must_use]
    pub fn max_pending(mut self, max: u32) -> Self {
        self.config.max_pending = max;
        self
    }

    /// Under [`CommitPolicy::Manual`], whether a received event still counts against
    /// [`max_pending`](Self::max_pending) until it is committed (off by default): room for more
    /// is made by [`commit`](PubSubClient::commit), not by receiving, so that what is requested,
    /// received and not yet committed never exceeds `min(max_pending, 100)` per topic. Every
    /// received event must then be committed (a later one commits those before it), or the
    /// topic stops once the window is held.
    #[must_use]
    pub fn pending_until_commit(mut self, on: bool) -> Self {
        self.config.pending_until_commit = on;
        self
    }

    /// Whether events are decoded to JSON (the default); without it, messages carry the raw
    /// Avro datum and its schema, for [`PubSubMessage::decode`](super::PubSubMessage::decode).
    #[must_use]
    pub fn decode_json(mut self, decode: bool) -> Self {
        self.config.decode_json = decode;
        self
    }

    /// The seed of the backoff jitter and generated ids (by default one from the OS).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// The replay store: where checkpoints go, and where topics resume after a restart.
    #[must_use]
    pub fn store(mut self, store: impl ReplayStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Changes any other setting of the session's configuration.
    #[must_use]
    pub fn configure(mut self, f: impl FnOnce(PubSubConfig) -> PubSubConfig) -> Self {
        self.config = f(self.config);
        self
    }

    /// Checks the configuration and builds the client (not yet open).
    ///
    /// # Errors
    /// [`Error::Session`] with the configuration problem.
    pub fn build(mut self) -> Result<PubSubClient<R>, Error> {
        self.config.seed.get_or_insert_with(crate::builder::os_seed);
        PubSubClient::from_builder(self)
    }
}
