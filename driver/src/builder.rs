//! Building a client: the same knobs and defaults as aiosfstream's `Client`, plus API version,
//! more auth flows, and a pluggable store.

use std::sync::Arc;
use std::time::Duration;

use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::{CommitPolicy, Config, ReplayFallback, ReplayFrom, RetryPolicy, Secret};
use sfstream_store::{MemoryStore, ReplayStore};

use crate::{Client, Error, Runtime};

/// Configures a [`Client`].
///
/// Defaults: new events only (`-1`) for channels without a stored id, no replay fallback,
/// automatic commit, 10 s connection timeout, 100 pending messages, an in-memory store.
#[derive(Clone)]
pub struct ClientBuilder<R: Runtime> {
    pub(crate) runtime: R,
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn ReplayStore>,
}

impl<R: Runtime> std::fmt::Debug for ClientBuilder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ClientBuilder<R> {
    /// A builder for Salesforce with the given credentials.
    pub fn new(runtime: R, credentials: Credentials) -> Self {
        Self::with_config(runtime, Config::salesforce(credentials))
    }

    /// A builder for a plain Bayeux server (faye, CometD): no OAuth, no replay.
    pub fn bayeux(runtime: R, url: impl Into<String>) -> Self {
        Self::with_config(runtime, Config::bayeux(url))
    }

    /// A builder over a complete core configuration.
    pub fn with_config(runtime: R, config: Config) -> Self {
        Self {
            runtime,
            config,
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// aiosfstream's `SalesforceStreamingClient`: the password flow against production, or
    /// against the sandbox login host when `sandbox` is true. `password` is the password with
    /// the security token appended.
    pub fn password(
        runtime: R,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
        sandbox: bool,
    ) -> Self {
        Self::new(
            runtime,
            Credentials::Password {
                client_id: consumer_key.into(),
                client_secret: consumer_secret.into(),
                username: username.into(),
                password: password.into(),
                login: if sandbox {
                    LoginUrl::Sandbox
                } else {
                    LoginUrl::Production
                },
            },
        )
    }

    /// Where channels without a stored id start (default: new events only).
    #[must_use]
    pub fn replay(mut self, replay: ReplayFrom) -> Self {
        self.config.replay = replay;
        self
    }

    /// What to do when Salesforce rejects a stored replay id (default: fail that channel).
    #[must_use]
    pub fn replay_fallback(mut self, fallback: Option<ReplayFallback>) -> Self {
        self.config.replay_fallback = fallback;
        self
    }

    /// Automatic (default: a message is committed when `receive` returns it) or manual commits.
    #[must_use]
    pub fn commit_policy(mut self, policy: CommitPolicy) -> Self {
        self.config.commit = policy;
        self
    }

    /// After this long without reaching the server, `receive` returns a connection-lost error
    /// once per outage while the client keeps trying (default 10 s; `None`: never).
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.connection_timeout = timeout;
        self
    }

    /// How many received messages may wait for `receive` (default 100). Beyond it, events are
    /// fetched again by replay once there is room, so memory stays bounded and none are lost.
    #[must_use]
    pub fn max_pending(mut self, max: usize) -> Self {
        self.config.max_pending = max;
        self
    }

    /// The Salesforce API version (default `64.0`).
    #[must_use]
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.config = self.config.api_version(version);
        self
    }

    /// The backoff policy for failures without advice.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// The deadline of requests other than long polls (default 30 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Where replay ids are stored (default: in memory). Use a [`sfstream_store::FileStore`] to
    /// resume after a restart.
    #[must_use]
    pub fn store(mut self, store: impl ReplayStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// A store shared with other code.
    #[must_use]
    pub fn shared_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.store = store;
        self
    }

    /// The jitter seed, to repeat a run exactly. By default each client draws one from the
    /// operating system, so that many clients failing together do not retry in step.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Gives access to every setting of the core configuration.
    #[must_use]
    pub fn configure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// Checks the configuration and builds the client (not yet open).
    pub fn build(mut self) -> Result<Client<R>, Error> {
        self.config.validate()?;
        if let sfstream_core::Endpoint::Salesforce { credentials, .. } = &self.config.endpoint {
            credentials.validate().map_err(sfstream_core::Error::Auth)?;
        }
        self.config.seed.get_or_insert_with(os_seed);
        Ok(Client::from_builder(self))
    }
}

/// A jitter seed from the operating system's random source; should that fail (it does not on
/// the platforms the runtimes support), one from the time and the process id, which still
/// differs between clients.
fn os_seed() -> u64 {
    let mut bytes = [0; 8];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(e) => {
            tracing::warn!(error = %e, "no random seed from the operating system; using the clock");
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            // Truncation is fine: any bits that differ between clients do.
            (nanos as u64) ^ (u64::from(std::process::id()) << 32)
        }
    }
}
