//! What the blocking Pub/Sub tests share: the Pub/Sub emulator on loopback (tonic, on a tokio
//! runtime whose threads are its own: the client under test runs on the test's thread, outside
//! any async runtime), and a blocking client of it.
#![allow(dead_code, reason = "each test file uses a part of the harness")]
#![allow(unreachable_pub, reason = "a module shared by test crates")]

use std::time::Duration;

use sfstream_blocking::pubsub::{
    Credentials, PubSubClient, PubSubClientBuilder, PubSubMessage, PubSubReplayFrom, RetryPolicy,
    Secret,
};
use sfstream_blocking::{Blocking, driver};
use sfstream_emulator_pubsub::{Control, PubSubEmulator, PubSubEmulatorBuilder};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(15);

pub const ORDERS: &str = "/event/Order__e";
pub const ACCOUNTS: &str = "/data/AccountChangeEvent";

/// A running Pub/Sub emulator and the runtime that serves it; shut down when dropped.
pub struct Emulator {
    runtime: Option<tokio::runtime::Runtime>,
    emulator: Option<PubSubEmulator>,
}

impl Emulator {
    pub fn start(builder: PubSubEmulatorBuilder) -> Self {
        // `RUST_LOG=sfstream_driver=trace` shows the client's side of a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the emulator");
        let emulator = runtime
            .block_on(builder.start())
            .expect("the emulator starts");
        Self {
            runtime: Some(runtime),
            emulator: Some(emulator),
        }
    }

    pub fn get(&self) -> &PubSubEmulator {
        self.emulator.as_ref().expect("running")
    }

    pub fn control(&self) -> Control {
        self.get().control()
    }

    pub fn url(&self) -> &str {
        self.get().url()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let (Some(rt), Some(emulator)) = (self.runtime.take(), self.emulator.take()) {
            rt.block_on(emulator.shutdown());
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// A builder for the emulator's org with its ready token, starting from `EARLIEST`, with quick
/// retries.
pub fn builder(emulator: &Emulator) -> PubSubClientBuilder {
    builder_on(Blocking::new(), emulator)
}

/// [`builder`] on a runtime of the test's own.
pub fn builder_on(runtime: Blocking, emulator: &Emulator) -> PubSubClientBuilder {
    let emulator = emulator.get();
    PubSubClientBuilder::from(driver::pubsub::PubSubClientBuilder::new(
        runtime,
        Credentials::AccessToken {
            access_token: Secret::new(emulator.access_token()),
            instance_url: emulator.url().to_owned(),
        },
    ))
    .url(emulator.url())
    .tenant_id(emulator.org_id())
    .replay(PubSubReplayFrom::Earliest)
    .retry(quick_retry())
    .seed(7)
}

pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

/// The next `n` events, each within [`WAIT`].
pub fn receive_n(client: &PubSubClient, n: usize) -> Vec<PubSubMessage> {
    (0..n)
        .map(|i| {
            client
                .receive_timeout(WAIT)
                .unwrap_or_else(|| panic!("timed out waiting for event {} of {n}", i + 1))
                .expect("an event")
        })
        .collect()
}

/// The bytes of each event's replay id.
pub fn ids(events: &[PubSubMessage]) -> Vec<Vec<u8>> {
    events
        .iter()
        .map(|m| m.replay_id().as_bytes().to_vec())
        .collect()
}

/// The bytes of the emulator's replay ids.
pub fn published(ids: &[sfstream_emulator_pubsub::ReplayId]) -> Vec<Vec<u8>> {
    ids.iter().map(|id| id.to_bytes().to_vec()).collect()
}
