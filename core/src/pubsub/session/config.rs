//! The Pub/Sub session's configuration: where to connect, how to authenticate, where
//! subscriptions start, credit, liveness and retry.

use std::time::Duration;

use http::Uri;

use crate::config::{CommitPolicy, ReplayFallback, RetryPolicy};
use crate::oauth::{Credentials, check_uri_scheme};
use crate::pubsub::frame::DEFAULT_MAX_MESSAGE_SIZE;

use super::error::PubSubError;
use super::replay::PubSubReplayFrom;

/// Salesforce's global Pub/Sub endpoint (port 7443, as every official sample uses; 443 works too).
pub const DEFAULT_PUBSUB_URL: &str = "https://api.pubsub.salesforce.com:7443";

/// The most events a `Subscribe` stream may be owed at once: Salesforce's cap on outstanding
/// `num_requested`.
pub const MAX_OUTSTANDING: u32 = 100;

/// Everything a [`PubSubSession`](super::PubSubSession) needs to know up front. `Debug` is safe
/// to log (secrets print as `***`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PubSubConfig {
    /// How to get a token (the same flows as the Streaming API).
    pub credentials: Credentials,
    /// The Pub/Sub endpoint: scheme, host and port. `https`, or `http` (h2c) to a loopback host
    /// only (a local emulator).
    pub url: String,
    /// The org id sent as `tenantid`. `None` (the default): taken from the token response's
    /// identity URL, or else from the access token's prefix before `!`.
    pub tenant_id: Option<String>,
    /// Where topics without a stored position start.
    pub replay: PubSubReplayFrom,
    /// What to do when the server rejects a replay id (`…replayid.corrupted`): start from
    /// `EARLIEST` ([`ReplayFallback::All`]) or `LATEST` ([`ReplayFallback::New`]), once, and say
    /// so. `None`: the topic fails.
    pub replay_fallback: Option<ReplayFallback>,
    /// When a delivered event counts as processed (and its replay id is checkpointed).
    pub commit: CommitPolicy,
    /// Backoff for failures.
    pub retry: RetryPolicy,
    /// The deadline of token requests and unary calls (GetTopic, GetSchema, Publish).
    pub request_timeout: Duration,
    /// A stream on which nothing arrives (no events, no keepalive) for this long is taken for
    /// dead (a half-open connection), aborted and opened again from where it stopped. Salesforce
    /// sends a keepalive about every 60 s (it promises one within 270 s). `None`: never.
    pub watchdog: Option<Duration>,
    /// How long the server keeps a stream that is owed nothing without a new request (60 s at
    /// Salesforce). A stream whose credit ran out while the application holds a few events asks
    /// for the room it has (however small) at three quarters of this, so that the server does not
    /// end it; a stream with no room at all is let go and opened again once there is some.
    pub idle_timeout: Duration,
    /// How many events of one topic may wait for the application, counting those requested from
    /// the server and not yet received (and, with [`PubSubConfig::pending_until_commit`], those
    /// taken and not yet committed): the session never asks for more. At most
    /// [`MAX_OUTSTANDING`] are requested at a time whatever this says.
    pub max_pending: u32,
    /// Under [`CommitPolicy::Manual`], whether an event the application took still counts
    /// against `max_pending` until it is committed: room for more is made by
    /// [`commit`](super::PubSubSession::commit), not by taking. Events requested, in the
    /// session, and taken but not committed then never add up to more than the credit window,
    /// which bounds what an application that processes in batches (takes, writes, then
    /// commits) holds at any time. An application under this setting must commit every event
    /// it takes (a later event commits the ones before it), or the topic stops once the window
    /// is held. Off by default; no effect under the automatic policy, where taking commits.
    pub pending_until_commit: bool,
    /// The largest gRPC message accepted, in bytes.
    pub max_message_size: usize,
    /// Whether events are decoded to JSON in the session (the default). Without it, messages
    /// carry the raw Avro datum and its schema only, for applications that decode straight into
    /// their own types ([`PubSubMessage::decode`](super::PubSubMessage::decode)).
    pub decode_json: bool,
    /// How long to stay away after the org's 24-hour delivery allocation ran out
    /// (`subscription.limit.exceeded`) before trying again.
    pub delivery_limit_retry: Duration,
    /// Whether every call carries an `x-client-trace-id` (a UUID from the seeded generator), which
    /// lets Salesforce support trace a call.
    pub trace_ids: bool,
    /// Seeds jitter and generated ids; see [`Config::seed`](crate::Config::seed).
    pub seed: Option<u64>,
}

impl PubSubConfig {
    /// A configuration with the defaults: Salesforce's global endpoint, `LATEST`, no fallback,
    /// automatic commit, 100 pending events per topic, a 150 s watchdog.
    #[must_use]
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            url: DEFAULT_PUBSUB_URL.to_owned(),
            tenant_id: None,
            replay: PubSubReplayFrom::Latest,
            replay_fallback: None,
            commit: CommitPolicy::Automatic,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            watchdog: Some(Duration::from_secs(150)),
            idle_timeout: Duration::from_secs(60),
            max_pending: MAX_OUTSTANDING,
            pending_until_commit: false,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            decode_json: true,
            delivery_limit_retry: Duration::from_secs(3600),
            trace_ids: true,
            seed: None,
        }
    }

    /// Sets the Pub/Sub endpoint.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// Sets the org id sent as `tenantid`.
    #[must_use]
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Sets where topics without a stored position start.
    #[must_use]
    pub fn replay(mut self, replay: PubSubReplayFrom) -> Self {
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

    /// Sets the backoff policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the deadline of token requests and unary calls.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the stream watchdog.
    #[must_use]
    pub fn watchdog(mut self, watchdog: Option<Duration>) -> Self {
        self.watchdog = watchdog;
        self
    }

    /// Sets the server's idle timeout of streams owed nothing.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets how many events of one topic may wait for the application.
    #[must_use]
    pub fn max_pending(mut self, max: u32) -> Self {
        self.max_pending = max;
        self
    }

    /// Sets whether taken events count against `max_pending` until committed (manual commit
    /// policy).
    #[must_use]
    pub fn pending_until_commit(mut self, on: bool) -> Self {
        self.pending_until_commit = on;
        self
    }

    /// Sets the largest gRPC message accepted.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets whether events are decoded to JSON in the session.
    #[must_use]
    pub fn decode_json(mut self, decode: bool) -> Self {
        self.decode_json = decode;
        self
    }

    /// Sets the wait after the delivery allocation ran out.
    #[must_use]
    pub fn delivery_limit_retry(mut self, wait: Duration) -> Self {
        self.delivery_limit_retry = wait;
        self
    }

    /// Sets the jitter seed.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The most events one stream is owed at a time: `max_pending`, capped at
    /// [`MAX_OUTSTANDING`]. It bounds, per topic, what is requested and not received plus what
    /// waits in the session (plus what is taken and not committed, under
    /// [`PubSubConfig::pending_until_commit`]).
    #[must_use]
    pub fn credit_window(&self) -> u32 {
        self.max_pending.clamp(1, MAX_OUTSTANDING)
    }

    /// The endpoint as a URI, checked.
    pub(super) fn endpoint(&self) -> Result<Uri, PubSubError> {
        let bad = |detail: String| {
            PubSubError::Config(format!("Pub/Sub URL {:?}: {detail}", self.url.trim()))
        };
        let uri: Uri = self
            .url
            .trim()
            .parse()
            .map_err(|_| bad("is not a valid absolute URL".into()))?;
        check_uri_scheme(&uri).map_err(bad)?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad(
                "must be scheme, host and port only (e.g. https://api.pubsub.salesforce.com:7443)"
                    .into(),
            ));
        }
        Ok(uri)
    }

    /// Checks the values that would make a session misbehave.
    ///
    /// # Errors
    /// [`PubSubError::Config`] naming the setting and the fix.
    pub fn validate(&self) -> Result<(), PubSubError> {
        let bad = |m: &str| Err(PubSubError::Config(m.to_owned()));
        self.endpoint()?;
        self.credentials
            .validate()
            .map_err(|e| PubSubError::Config(e.to_string()))?;
        if let Some(tenant) = &self.tenant_id {
            if tenant.trim().is_empty() || !tenant.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return bad(
                    "tenant id must be the org id (00D…, letters and digits), or unset to take it \
                     from the token",
                );
            }
        }
        if self.max_pending == 0 {
            return bad("max_pending must be at least 1");
        }
        if self.request_timeout.is_zero() {
            return bad("request_timeout must be above zero");
        }
        if self.idle_timeout < Duration::from_millis(4) {
            return bad("idle_timeout must be at least a few milliseconds (Salesforce's is 60 s)");
        }
        if self.watchdog.is_some_and(|w| w.is_zero()) {
            return bad("the watchdog must be above zero, or None to turn it off");
        }
        if self.max_message_size < 1024 {
            return bad("max_message_size must be at least 1024 bytes");
        }
        if let PubSubReplayFrom::Custom(id) = &self.replay {
            if id.is_empty() {
                return bad("a CUSTOM replay start needs a replay id (it is empty)");
            }
        }
        self.retry
            .check()
            .map_err(|m| PubSubError::Config(format!("retry policy: {m}")))
    }
}
