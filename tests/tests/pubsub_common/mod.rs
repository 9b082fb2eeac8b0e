//! What the Pub/Sub client tests share: an emulator on loopback, and a tokio client of it.
#![allow(dead_code, reason = "each test file uses a part of the harness")]
#![allow(unreachable_pub, reason = "a module shared by test crates")]

use std::future::Future;
use std::time::Duration;

use sfstream_emulator_pubsub::{PubSubEmulator, PubSubEmulatorBuilder};
use sfstream_tokio::pubsub::{
    self, Credentials, PubSubClient, PubSubClientBuilder, PubSubMessage, PubSubReplayFrom,
    RetryPolicy, Secret,
};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(15);

pub const ORDERS: &str = "/event/Order__e";

pub async fn start(builder: PubSubEmulatorBuilder) -> PubSubEmulator {
    // `RUST_LOG=sfstream_driver=trace` shows the client's side of a failing test.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    builder.start().await.expect("the emulator starts")
}

/// A builder for the emulator's org with its ready token, starting from `EARLIEST`, with quick
/// retries.
pub fn builder(emulator: &PubSubEmulator) -> PubSubClientBuilder {
    pubsub::builder(Credentials::AccessToken {
        access_token: Secret::new(emulator.access_token()),
        instance_url: emulator.url().to_owned(),
    })
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

/// `f`, or a panic naming `what` after [`WAIT`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// The next `n` events.
pub async fn receive_n(client: &PubSubClient, n: usize) -> Vec<PubSubMessage> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let m = within(&format!("event {} of {n}", out.len() + 1), client.receive())
            .await
            .expect("an event");
        out.push(m);
    }
    out
}
