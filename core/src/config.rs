//! Session configuration: where to connect, how to authenticate, replay and retry policy.

use std::time::Duration;

use crate::extension::{Extension, Extensions};
use crate::oauth::Credentials;

/// The API version used when none is configured. Salesforce documents server-initiated
/// `/meta/disconnect` from 64.0 on, and supports 37.0 and later for durable streaming.
pub const DEFAULT_API_VERSION: &str = "64.0";

/// How long the next long poll may be held back after a reply, by default: well inside the
/// 40 s within which Salesforce expects it.
pub const DEFAULT_MAX_POLL_DELAY: Duration = Duration::from_secs(25);
/// Salesforce ends a Streaming API session whose next `/meta/connect` does not come within this
/// long after a reply.
pub const RECONNECT_WINDOW: Duration = Duration::from_secs(40);

/// Where a replay starts for a channel that has no stored id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplayFrom {
    /// Only events published after the subscription (`-1`).
    New,
    /// Every event still in the retention window (`-2`).
    All,
    /// Every event after this replay id (exclusive).
    Id(i64),
}

impl ReplayFrom {
    /// The value sent in `ext.replay`.
    #[must_use]
    pub fn wire_value(self) -> i64 {
        match self {
            Self::New => -1,
            Self::All => -2,
            Self::Id(id) => id,
        }
    }

    /// The inverse of [`ReplayFrom::wire_value`].
    #[must_use]
    pub fn from_wire(value: i64) -> Self {
        match value {
            -1 => Self::New,
            -2 => Self::All,
            id => Self::Id(id),
        }
    }
}

/// What to do when Salesforce rejects a stored replay id (older than the retention window, or
/// unknown): the `400::The replayId {x} you provided was invalid…` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplayFallback {
    /// Subscribe for new events only (`-1`): the events in the gap are skipped.
    New,
    /// Replay everything still retained (`-2`): nothing retained is skipped, some may repeat.
    All,
}

impl ReplayFallback {
    /// The replay start this fallback uses.
    #[must_use]
    pub fn replay_from(self) -> ReplayFrom {
        match self {
            Self::New => ReplayFrom::New,
            Self::All => ReplayFrom::All,
        }
    }
}

/// When a delivered message counts as processed, so that its replay id is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CommitPolicy {
    /// A message is committed when the application takes it from the session.
    #[default]
    Automatic,
    /// The application commits explicitly after processing
    /// ([`Session::commit`](crate::Session::commit)).
    Manual,
}

/// Exponential backoff with jitter for failures that come without usable advice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay for transient failures.
    pub max: Duration,
    /// The longest delay for org limits (concurrent clients, daily events), which clear slowly.
    pub max_for_limits: Duration,
    /// Each further failure multiplies the delay by this.
    pub multiplier: f64,
    /// Each delay is drawn uniformly from `[delay * (1 - jitter), delay]`.
    pub jitter: f64,
}

impl RetryPolicy {
    /// Checks the values that would make backoff loop or misbehave; the error names the fix.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.multiplier.is_nan() || self.multiplier < 1.0 || !(0.0..=1.0).contains(&self.jitter)
        {
            return Err("multiplier must be >= 1 and jitter between 0 and 1");
        }
        if self.initial.is_zero() {
            return Err("the initial delay must be above zero, or failures would loop");
        }
        Ok(())
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_for_limits: Duration::from_secs(300),
            multiplier: 2.0,
            jitter: 0.5,
        }
    }
}

/// Which server the session talks to. `Debug` hides secrets (see [`Credentials`]) and the user
/// info of a URL, should it carry any.
#[derive(Clone)]
#[non_exhaustive]
pub enum Endpoint {
    /// Salesforce: OAuth first, then `{instance_url}/cometd/{api_version}`, with replay.
    Salesforce {
        /// How to get a token.
        credentials: Credentials,
        /// The API version in the CometD URL, e.g. `64.0`.
        api_version: String,
    },
    /// Any Bayeux 1.0 server (faye, the CometD server): no OAuth, no replay extension.
    Bayeux {
        /// The full endpoint URL, e.g. `http://127.0.0.1:8000/bayeux`.
        url: String,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Salesforce {
                credentials,
                api_version,
            } => f
                .debug_struct("Salesforce")
                .field("credentials", credentials)
                .field("api_version", api_version)
                .finish(),
            Self::Bayeux { url } => f
                .debug_struct("Bayeux")
                .field("url", &crate::oauth::redact_userinfo(url))
                .finish(),
        }
    }
}

/// Everything a [`Session`](crate::Session) needs to know up front. `Debug` is safe to log.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which server, and how to authenticate.
    pub endpoint: Endpoint,
    /// Where channels without a stored id start.
    pub replay: ReplayFrom,
    /// What to do when a stored id is rejected; `None` reports the channel as failed.
    pub replay_fallback: Option<ReplayFallback>,
    /// When replay ids are committed.
    pub commit: CommitPolicy,
    /// Backoff for failures without usable advice.
    pub retry: RetryPolicy,
    /// Added to the server's long-poll timeout to make the HTTP deadline of a `/meta/connect`.
    pub long_poll_margin: Duration,
    /// The deadline of every request that is not a long poll.
    pub request_timeout: Duration,
    /// After this much time without a working stream (no successful long poll: the server is
    /// unreachable, or answers every request with an error) the session reports
    /// [`Error::ConnectionLost`](crate::Error::ConnectionLost) once (and keeps trying). `None`:
    /// never.
    pub connection_timeout: Option<Duration>,
    /// How many messages may wait for the application before the session holds back the next
    /// long poll (so events stay on the server rather than pile up here), for at most
    /// [`Config::max_poll_delay`]. Nothing that has arrived is dropped for this bound.
    pub max_pending: usize,
    /// How long after the last long-poll reply the next long poll may be held back while the
    /// application is behind. Salesforce ends a session that does not poll again within 40 s
    /// of a reply, so this must stay below 40 s (default 25 s). Past it the session polls anyway.
    pub max_poll_delay: Duration,
    /// The bound on the memory the waiting messages take, in bytes (their JSON plus a fixed
    /// overhead each; default 16 MiB). An event that would take them past it is set aside and
    /// fetched again by replay once the application has caught up (channels with replay only;
    /// one without a replay id is kept over the bound rather than lost). While more than half of
    /// it waits, the next long poll is held back as for [`Config::max_pending`].
    pub max_pending_bytes: usize,
    /// The largest response body the adapter should read, in bytes.
    pub max_response_bytes: usize,
    /// Seeds jitter. `None` (the default): the client builders of the runtime crates draw a
    /// seed from the operating system, so that many clients do not retry in step; a session
    /// made directly from this configuration uses a fixed seed. Set one to repeat a run exactly.
    pub seed: Option<u64>,
    /// Application code that adds fields to the Bayeux messages the session sends and sees
    /// those it receives (see [`crate::extension`]). None by default.
    pub extensions: Extensions,
}

impl Config {
    /// A Salesforce configuration with aiosfstream's defaults: new events only, no fallback,
    /// automatic commit, 10 s connection timeout, 100 pending messages.
    #[must_use]
    pub fn salesforce(credentials: Credentials) -> Self {
        Self::with_endpoint(Endpoint::Salesforce {
            credentials,
            api_version: DEFAULT_API_VERSION.to_owned(),
        })
    }

    /// A configuration for any Bayeux server, without OAuth and replay.
    #[must_use]
    pub fn bayeux(url: impl Into<String>) -> Self {
        Self::with_endpoint(Endpoint::Bayeux { url: url.into() })
    }

    fn with_endpoint(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            replay: ReplayFrom::New,
            replay_fallback: None,
            commit: CommitPolicy::Automatic,
            retry: RetryPolicy::default(),
            long_poll_margin: Duration::from_secs(15),
            request_timeout: Duration::from_secs(30),
            connection_timeout: Some(Duration::from_secs(10)),
            max_pending: 100,
            max_poll_delay: DEFAULT_MAX_POLL_DELAY,
            max_pending_bytes: 16 * 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            seed: None,
            extensions: Extensions::default(),
        }
    }

    /// Sets the API version (Salesforce only).
    #[must_use]
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        if let Endpoint::Salesforce { api_version, .. } = &mut self.endpoint {
            *api_version = version.into();
        }
        self
    }

    /// Sets where channels without a stored id start.
    #[must_use]
    pub fn replay(mut self, replay: ReplayFrom) -> Self {
        self.replay = replay;
        self
    }

    /// Sets the fallback for rejected replay ids.
    #[must_use]
    pub fn replay_fallback(mut self, fallback: Option<ReplayFallback>) -> Self {
        self.replay_fallback = fallback;
        self
    }

    /// Sets the commit policy.
    #[must_use]
    pub fn commit(mut self, commit: CommitPolicy) -> Self {
        self.commit = commit;
        self
    }

    /// Sets the connection timeout.
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Sets how many messages may wait for the application.
    #[must_use]
    pub fn max_pending(mut self, max: usize) -> Self {
        self.max_pending = max;
        self
    }

    /// Sets how long the next long poll may be held back while the application is behind
    /// (below 40 s).
    #[must_use]
    pub fn max_poll_delay(mut self, delay: Duration) -> Self {
        self.max_poll_delay = delay;
        self
    }

    /// Sets the bound on the memory waiting messages take, in bytes.
    #[must_use]
    pub fn max_pending_bytes(mut self, max: usize) -> Self {
        self.max_pending_bytes = max;
        self
    }

    /// Sets the backoff policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the deadline of requests that are not long polls.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the margin added to the long-poll timeout.
    #[must_use]
    pub fn long_poll_margin(mut self, margin: Duration) -> Self {
        self.long_poll_margin = margin;
        self
    }

    /// Sets the jitter seed, so that a run can be repeated exactly.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds an [`Extension`]: it runs after those added before it.
    #[must_use]
    pub fn extension(mut self, extension: impl Extension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Whether the replay extension is in use (Salesforce endpoints).
    #[must_use]
    pub fn uses_replay(&self) -> bool {
        matches!(self.endpoint, Endpoint::Salesforce { .. })
    }

    /// Checks the values that would make a session misbehave.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let bad = |m: &str| Err(crate::Error::Config(m.to_owned()));
        if let Endpoint::Salesforce { api_version, .. } = &self.endpoint {
            let major = api_version
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok());
            match major {
                Some(m)
                    if m >= 37 && api_version.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {}
                _ => {
                    return bad(&format!(
                        "API version {api_version:?} is not supported: give a version such as \"64.0\" (37.0 or later)"
                    ));
                }
            }
        }
        if let Endpoint::Bayeux { url } = &self.endpoint {
            if let Err(e) = crate::oauth::check_url_scheme(url) {
                return Err(crate::Error::Config(format!("Bayeux endpoint URL: {e}")));
            }
        }
        if self.max_pending == 0 {
            return bad("max_pending must be at least 1");
        }
        if self.max_pending_bytes == 0 {
            return bad("max_pending_bytes must be at least 1");
        }
        if self.max_poll_delay >= RECONNECT_WINDOW {
            return bad(&format!(
                "max_poll_delay is {:?}: it must be below 40 s, as Salesforce ends a session that \
                 does not poll again within 40 s of a reply (the default is 25 s)",
                self.max_poll_delay
            ));
        }
        if let Err(m) = self.retry.check() {
            return bad(&format!("retry policy: {m}"));
        }
        if let ReplayFrom::Id(id) = self.replay {
            if id < 0 {
                return bad(
                    "replay id must not be negative: use ReplayFrom::New or ReplayFrom::All",
                );
            }
        }
        Ok(())
    }
}
