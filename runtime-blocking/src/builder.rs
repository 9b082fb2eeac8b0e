//! The builder: the driver's, with `build` giving the blocking [`Client`].

use std::sync::Arc;
use std::time::Duration;

use sfstream_driver::core::Config;
use sfstream_driver::{
    CommitPolicy, Credentials, Error, ReplayFallback, ReplayFrom, ReplayStore, RetryPolicy, Secret,
};

use crate::{Blocking, Client};

/// Configures a blocking [`Client`]: the knobs and defaults of every sfstream runtime (see
/// [`sfstream_driver::ClientBuilder`]).
///
/// Defaults: new events only (`-1`) for channels without a stored id, no replay fallback,
/// automatic commit, 10 s connection timeout, 100 pending messages, an in-memory store.
#[derive(Clone, Debug)]
pub struct ClientBuilder(sfstream_driver::ClientBuilder<Blocking>);

impl From<sfstream_driver::ClientBuilder<Blocking>> for ClientBuilder {
    /// Wraps a driver builder, for a [`Blocking`] runtime of your own (a custom ureq agent).
    fn from(builder: sfstream_driver::ClientBuilder<Blocking>) -> Self {
        Self(builder)
    }
}

/// Each knob hands its arguments to the driver's builder method of the same name.
macro_rules! knobs {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $name(self, $($arg: $ty),*) -> Self {
            Self(self.0.$name($($arg),*))
        }
    )*};
}

impl ClientBuilder {
    /// A builder for Salesforce with the given credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self(sfstream_driver::ClientBuilder::new(
            Blocking::new(),
            credentials,
        ))
    }

    /// A builder for a plain Bayeux server (faye, CometD): no OAuth, no replay.
    pub fn bayeux(url: impl Into<String>) -> Self {
        Self(sfstream_driver::ClientBuilder::bayeux(Blocking::new(), url))
    }

    /// A builder over a complete core configuration.
    pub fn with_config(config: Config) -> Self {
        Self(sfstream_driver::ClientBuilder::with_config(
            Blocking::new(),
            config,
        ))
    }

    /// aiosfstream's `SalesforceStreamingClient`: the password flow against production, or
    /// against the sandbox login host when `sandbox` is true. `password` is the password with
    /// the security token appended.
    pub fn password(
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
        sandbox: bool,
    ) -> Self {
        Self(sfstream_driver::ClientBuilder::password(
            Blocking::new(),
            consumer_key,
            consumer_secret,
            username,
            password,
            sandbox,
        ))
    }

    knobs! {
        /// Where channels without a stored id start (default: new events only).
        replay(replay: ReplayFrom);
        /// What to do when Salesforce rejects a stored replay id (default: fail that channel).
        replay_fallback(fallback: Option<ReplayFallback>);
        /// Automatic (default) or manual commits.
        commit_policy(policy: CommitPolicy);
        /// After this long without reaching the server, `receive` returns a connection-lost
        /// error once per outage while the client keeps trying (default 10 s; `None`: never).
        connection_timeout(timeout: Option<Duration>);
        /// How many received messages may wait for `receive` (default 100).
        max_pending(max: usize);
        /// The Salesforce API version (default `64.0`).
        api_version(version: impl Into<String>);
        /// The backoff policy for failures without advice.
        retry(retry: RetryPolicy);
        /// The deadline of requests other than long polls (default 30 s).
        request_timeout(timeout: Duration);
        /// Where replay ids are stored (default: in memory). Use a
        /// [`FileStore`](crate::FileStore) to resume after a restart.
        store(store: impl ReplayStore);
        /// A store shared with other code.
        shared_store(store: Arc<dyn ReplayStore>);
        /// The jitter seed, to repeat a run exactly. By default each client draws one from
        /// the operating system, so that many clients failing together do not retry in step.
        seed(seed: u64);
        /// Gives access to every setting of the core configuration.
        configure(f: impl FnOnce(&mut Config));
    }

    /// Checks the configuration and builds the client (not yet open).
    pub fn build(self) -> Result<Client, Error> {
        self.0.build().map(Client::from)
    }
}
