//! The Pub/Sub API's flavour of the conformance suite: the Pub/Sub emulator on a thread of its
//! own, the interface each runtime's Pub/Sub client implements for the suite, and one case per
//! behaviour, expanded per runtime by [`pubsub_conformance_suite!`](crate::pubsub_conformance_suite).
//!
//! Every case talks gRPC over loopback h2c to a [`sfstream_emulator_pubsub`] instance whose tokens
//! come from the Streaming API emulator's OAuth endpoint (as `sfstream emulator` wires them), so a
//! client authenticates, renews its token and subscribes as it would at Salesforce.

pub mod auth;
pub mod delivery;
pub mod driver;
pub mod flow;
pub mod publish;
pub mod replay;
pub mod resume;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sfstream_core::pubsub::{
    PubSubConfig, PubSubMessage, PubSubReplayFrom, PubSubStats, PublishEvent, PublishOutcome,
    ReplayId,
};
use sfstream_core::{CommitPolicy, ReplayFallback, RetryPolicy};
use sfstream_driver::pubsub::{Error, PubSubSessionEvent, TopicInfo};
use sfstream_emulator_pubsub::{AuthOutcome, Control, PubSubEmulator, PubSubEmulatorBuilder};
use sfstream_store::{MemoryStore, ReplayStore};

use crate::Emu;

/// A Platform Event topic of the emulator.
pub const ORDERS: &str = "/event/Order__e";
/// A Change Data Capture topic of the emulator.
pub const ACCOUNTS: &str = "/data/AccountChangeEvent";

/// How long a case waits for something that should happen before it fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// A running Pub/Sub emulator with its OAuth side (a Streaming API emulator), each served by a
/// tokio runtime of its own so that any client runtime can use them.
pub struct PubSubEmu {
    /// The Pub/Sub emulator's control handle (publish, faults, stats).
    pub control: Control,
    /// The OAuth side: its control handle revokes tokens.
    pub oauth: Emu,
    runtime: Option<tokio::runtime::Runtime>,
    emulator: Option<PubSubEmulator>,
}

impl PubSubEmu {
    /// Starts the emulators with the defaults.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(|b| b)
    }

    /// Starts the emulators, the Pub/Sub one with extra settings (short keepalives, idle
    /// timeouts …). Its token check accepts the tokens the OAuth side issued and has not revoked.
    #[must_use]
    pub fn start_with(
        configure: impl FnOnce(PubSubEmulatorBuilder) -> PubSubEmulatorBuilder,
    ) -> Self {
        let oauth = Emu::start();
        let tokens = oauth.control.clone();
        let org = oauth.control.org_id().to_owned();
        let builder = PubSubEmulator::builder().org_id(&org).token_check(
            move |token: &str, _instance: &str, tenant: &str| {
                // The org id in its 15- or 18-character form, and a token the OAuth side issued.
                if tenant.starts_with(&org) && tokens.accepts_token(token) {
                    AuthOutcome::Ok
                } else {
                    AuthOutcome::Unauthenticated
                }
            },
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the Pub/Sub emulator");
        let emulator = runtime
            .block_on(configure(builder).start())
            .expect("the Pub/Sub emulator starts");
        Self {
            control: emulator.control(),
            oauth,
            runtime: Some(runtime),
            emulator: Some(emulator),
        }
    }

    /// The gRPC endpoint, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> &str {
        self.control.url()
    }

    /// Publishes `n` generated events on `topic`; their replay ids' bytes.
    #[must_use]
    pub fn publish(&self, topic: &str, n: usize) -> Vec<Vec<u8>> {
        self.control
            .publish_generated(topic, n)
            .expect("publishing")
            .into_iter()
            .map(|id| id.to_bytes().to_vec())
            .collect()
    }

    /// The emulator's counters for `topic` (zeros before anything happened on it).
    #[must_use]
    pub fn topic_stats(&self, topic: &str) -> sfstream_emulator_pubsub::TopicStats {
        self.control
            .stats()
            .topics
            .get(topic)
            .cloned()
            .unwrap_or_default()
    }

    /// How many times the fault named `name` fired.
    #[must_use]
    pub fn faults_fired(&self, name: &str) -> u64 {
        self.control.stats().faults.get(name).copied().unwrap_or(0)
    }
}

impl Drop for PubSubEmu {
    fn drop(&mut self) {
        if let (Some(rt), Some(emu)) = (self.runtime.take(), self.emulator.take()) {
            rt.block_on(emu.shutdown());
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// How a case wants its Pub/Sub client: the session's configuration and a store.
#[derive(Clone)]
pub struct PubSubSetup {
    /// The session's configuration (credentials, endpoint, replay, credit, timeouts).
    pub config: PubSubConfig,
    /// The replay store.
    pub store: Arc<dyn ReplayStore>,
}

impl PubSubSetup {
    /// The password flow against the OAuth side, the emulator's endpoint, `EARLIEST` for topics
    /// without a stored position, quick retries (20 ms doubling to 200 ms), a memory store.
    #[must_use]
    pub fn new(emu: &PubSubEmu) -> Self {
        let mut config = PubSubConfig::new(emu.oauth.password())
            .url(emu.url())
            .replay(PubSubReplayFrom::Earliest)
            .retry(RetryPolicy {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(200),
                ..RetryPolicy::default()
            });
        config.request_timeout = Duration::from_secs(5);
        config.seed = Some(7);
        Self {
            config,
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// Uses this store.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.store = store;
        self
    }

    /// Where topics without a stored position start.
    #[must_use]
    pub fn replay(mut self, replay: PubSubReplayFrom) -> Self {
        self.config.replay = replay;
        self
    }

    /// Sets the replay fallback.
    #[must_use]
    pub fn fallback(mut self, fallback: Option<ReplayFallback>) -> Self {
        self.config.replay_fallback = fallback;
        self
    }

    /// Sets the commit policy.
    #[must_use]
    pub fn commit(mut self, policy: CommitPolicy) -> Self {
        self.config.commit = policy;
        self
    }

    /// Sets the bound on events requested and not yet taken, per topic.
    #[must_use]
    pub fn max_pending(mut self, max: u32) -> Self {
        self.config.max_pending = max;
        self
    }

    /// Sets the watchdog of silent streams.
    #[must_use]
    pub fn watchdog(mut self, watchdog: Option<Duration>) -> Self {
        self.config.watchdog = watchdog;
        self
    }

    /// Sets the server's idle timeout the client plans for.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }
}

/// A runtime's Pub/Sub client under test, driven synchronously by the suite.
pub trait PubSubTestClient: Send {
    /// Opens the client (authenticates, opens the topics' streams).
    fn open(&self) -> Result<(), Error>;
    /// Subscribes to a topic (before or after `open`).
    fn subscribe(&self, topic: &str) -> Result<(), Error>;
    /// The next event or error, or `None` after `timeout`.
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<PubSubMessage, Error>>;
    /// Commits an event (manual policy); whether the committed position moved.
    fn commit(&self, message: &PubSubMessage) -> Result<bool, Error>;
    /// Publishes with `Publish` calls; one outcome per event.
    fn publish(&self, topic: &str, events: Vec<PublishEvent>)
    -> Result<Vec<PublishOutcome>, Error>;
    /// Publishes on the topic's `PublishStream`; one outcome per event.
    fn publish_on_stream(
        &self,
        topic: &str,
        events: Vec<PublishEvent>,
    ) -> Result<Vec<PublishOutcome>, Error>;
    /// A topic's information (`GetTopic`).
    fn get_topic(&self, topic: &str) -> Result<TopicInfo, Error>;
    /// Closes the client, waiting for the store to be written.
    fn close(&self) -> Result<(), Error>;
    /// The session's counters.
    fn stats(&self) -> PubSubStats;
    /// Events received and waiting for `receive`.
    fn pending(&self) -> usize;
    /// Events a topic's open stream may still bring (requested, not yet received).
    fn outstanding(&self, topic: &str) -> Option<u32>;
    /// A topic's committed position.
    fn committed(&self, topic: &str) -> Option<ReplayId>;
    /// The session's reports (subscribed, reconnecting, replay fallback, watchdog …).
    fn session_events(&self) -> Box<dyn PubSubEventsUnderTest>;
}

/// A runtime's reader of the Pub/Sub session's reports, driven synchronously by the suite.
pub trait PubSubEventsUnderTest: Send {
    /// The next report, or `None` after `timeout` (or once the session ended).
    fn next_timeout(&mut self, timeout: Duration) -> Option<PubSubSessionEvent>;
}

/// A runtime under test, for the Pub/Sub API.
pub trait PubSubFlavor {
    /// The runtime's name, for messages.
    fn name(&self) -> &'static str;
    /// A client (not yet open) for the setup.
    fn client(&self, setup: PubSubSetup) -> Box<dyn PubSubTestClient>;
}

/// The next `n` events, failing the case on an error or after [`WAIT`] without one.
pub fn receive_n(client: &dyn PubSubTestClient, n: usize) -> Vec<PubSubMessage> {
    (0..n)
        .map(|i| match client.receive_timeout(WAIT) {
            Some(Ok(m)) => m,
            Some(Err(e)) => panic!("event {} of {n}: {e}", i + 1),
            None => panic!("event {} of {n} did not come within {WAIT:?}", i + 1),
        })
        .collect()
}

/// The replay ids' bytes of `messages`, to compare with what was published.
#[must_use]
pub fn ids(messages: &[PubSubMessage]) -> Vec<Vec<u8>> {
    messages
        .iter()
        .map(|m| m.replay_id().as_bytes().to_vec())
        .collect()
}

/// Asserts that nothing more comes for a short while (nothing delivered twice at the end).
pub fn assert_nothing_more(client: &dyn PubSubTestClient) {
    if let Some(extra) = client.receive_timeout(Duration::from_millis(200)) {
        panic!("nothing more was published, yet: {extra:?}");
    }
}

/// Waits until `done` holds, checking every 10 ms; fails the case after [`WAIT`].
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The first report `pick` accepts, failing the case after [`WAIT`].
pub fn wait_for_report<T>(
    events: &mut dyn PubSubEventsUnderTest,
    what: &str,
    mut pick: impl FnMut(PubSubSessionEvent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.next_timeout(left) {
            Some(event) => {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
            None => panic!("no report of {what} within {WAIT:?}"),
        }
    }
}
