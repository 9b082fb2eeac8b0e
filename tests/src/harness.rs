//! The emulator on its own thread, and the interface each runtime implements for the suite.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::{CommitPolicy, Config, Message, ReplayFallback, RetryPolicy, Secret, Stats};
use sfstream_driver::{Error, SessionEvent};
use sfstream_emulator::{Control, Emulator};
use sfstream_store::{MemoryStore, ReplayStore};

/// A running emulator, served by its own tokio runtime so that any client runtime can use it.
pub struct Emu {
    /// The control handle (publish, faults, stats).
    pub control: Control,
    /// `http://localhost:PORT`.
    pub base_url: String,
    runtime: Option<tokio::runtime::Runtime>,
    emulator: Option<Emulator>,
}

impl Emu {
    /// Starts an emulator with the suite's short timeouts: 400 ms long polls, a 3 s reconnect
    /// deadline.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(|b| b)
    }

    /// Starts an emulator with extra settings.
    #[must_use]
    pub fn start_with(
        configure: impl FnOnce(sfstream_emulator::EmulatorBuilder) -> sfstream_emulator::EmulatorBuilder,
    ) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the emulator");
        let builder = Emulator::builder()
            .long_poll_timeout(Duration::from_millis(400))
            .reconnect_deadline(Duration::from_secs(3));
        let emulator = runtime
            .block_on(configure(builder).start())
            .expect("the emulator starts");
        Self {
            control: emulator.control(),
            base_url: emulator.base_url().to_owned(),
            runtime: Some(runtime),
            emulator: Some(emulator),
        }
    }

    /// Publishes `n` generated events on `channel`; their replay ids.
    pub fn publish(&self, channel: &str, n: usize) -> Vec<i64> {
        self.control
            .publish_generated(channel, n)
            .expect("publishing")
    }

    /// Password credentials the emulator accepts.
    #[must_use]
    pub fn password(&self) -> Credentials {
        let c = self.control.credentials();
        Credentials::Password {
            client_id: c.client_id.clone(),
            client_secret: Secret::new(c.client_secret.clone()),
            username: c.username.clone(),
            password: Secret::new(format!("{}{}", c.password, c.security_token)),
            login: LoginUrl::Custom(self.base_url.clone()),
        }
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let (Some(rt), Some(emu)) = (self.runtime.take(), self.emulator.take()) {
            rt.block_on(emu.shutdown());
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// `config` with the suite's short retry delays (20 ms doubling to 300 ms), a 2 s long-poll
/// margin and a 5 s request timeout, to suit the emulator's short timeouts.
#[must_use]
pub fn fast(mut config: Config) -> Config {
    config.retry = RetryPolicy {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(300),
        max_for_limits: Duration::from_millis(500),
        multiplier: 2.0,
        jitter: 0.2,
    };
    config.long_poll_margin = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    config
}

/// How a case wants its client.
#[derive(Clone)]
pub struct Setup {
    /// The core configuration.
    pub config: Config,
    /// The replay store.
    pub store: Arc<dyn ReplayStore>,
    /// A file to record the session to (the builder's `record` setting).
    pub record: Option<PathBuf>,
}

impl Setup {
    /// Password flow against the emulator, fast retries, a memory store.
    #[must_use]
    pub fn new(emu: &Emu) -> Self {
        Self {
            config: fast(Config::salesforce(emu.password())),
            store: Arc::new(MemoryStore::new()),
            record: None,
        }
    }

    /// Uses this store.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.store = store;
        self
    }

    /// Sets the replay fallback.
    #[must_use]
    pub fn fallback(mut self, fallback: ReplayFallback) -> Self {
        self.config.replay_fallback = Some(fallback);
        self
    }

    /// Sets the bound on pending messages.
    #[must_use]
    pub fn max_pending(mut self, max: usize) -> Self {
        self.config.max_pending = max;
        self
    }

    /// Sets the commit policy.
    #[must_use]
    pub fn commit(mut self, policy: CommitPolicy) -> Self {
        self.config.commit = policy;
        self
    }
}

/// A client under test, driven synchronously by the suite.
pub trait TestClient: Send {
    /// Opens the client.
    fn open(&self) -> Result<(), Error>;
    /// Subscribes and waits for the confirmation (or queues it before `open`).
    fn subscribe(&self, channel: &str) -> Result<(), Error>;
    /// The next message or error, or `None` after `timeout`.
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>>;
    /// Commits a message (manual policy).
    fn commit(&self, message: &Message) -> Result<(), Error>;
    /// Closes the client, waiting for the store to be flushed.
    fn close(&self) -> Result<(), Error>;
    /// Session counters.
    fn stats(&self) -> Stats;
    /// Messages waiting for `receive`.
    fn pending(&self) -> usize;
    /// A subscriber to the client's session events, from now on.
    fn session_events(&self) -> Box<dyn SessionEventsUnderTest>;
}

/// A runtime's session-event subscriber, driven synchronously by the suite.
pub trait SessionEventsUnderTest: Send {
    /// The next session event, or `None` after `timeout` (or once the events ended).
    fn next_timeout(&mut self, timeout: Duration) -> Option<SessionEvent>;
}

/// A runtime under test.
pub trait Flavor {
    /// The runtime's name, for messages.
    fn name(&self) -> &'static str;
    /// A client for the setup.
    fn client(&self, setup: Setup) -> Box<dyn TestClient>;
}

/// A fresh scratch directory under the target directory, unique per call.
#[must_use]
pub fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sfstream-tests-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Subscribes `client` to `/event/Order__e`, opens it, publishes three events, takes them from
/// its stream (checking they are the three published, in order) and closes it: the smallest
/// whole session, for checks that the client runs in some setting (an executor, a proxy).
pub async fn three_events_through<R: sfstream_driver::Runtime>(
    emu: &Emu,
    client: &sfstream_driver::Client<R>,
) {
    use futures_util::StreamExt as _;
    const ORDERS: &str = "/event/Order__e";
    client.subscribe(ORDERS).await.expect("subscribe");
    client.open().await.expect("open");
    let published = emu.control.publish_generated(ORDERS, 3).expect("publish");
    let got: Vec<Option<i64>> = client
        .stream()
        .take(3)
        .map(|m| m.expect("no error").replay_id())
        .collect()
        .await;
    assert_eq!(got, published.into_iter().map(Some).collect::<Vec<_>>());
    client.close().await.expect("close");
}
