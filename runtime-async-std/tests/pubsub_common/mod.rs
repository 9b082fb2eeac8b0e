//! What the Pub/Sub tests on async-io share: the Pub/Sub emulator (tonic, so on a tokio runtime
//! of its own threads, as an application's server would be), and async-std clients of it.
#![allow(dead_code, reason = "each test file uses a part of the harness")]
#![allow(unreachable_pub, reason = "a module shared by test files")]

use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use futures_lite::future;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use sfstream_async_std::AsyncStd;
use sfstream_async_std::pubsub::{
    self, Credentials, PubSubClient, PubSubClientBuilder, PubSubMessage, PubSubReplayFrom,
    RetryPolicy, Secret,
};
use sfstream_emulator_pubsub::{PubSubEmulator, PubSubEmulatorBuilder};
use sfstream_http_async_io::{Client, Proxies};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(15);

pub const ORDERS: &str = "/event/Order__e";

/// The emulator and the tokio runtime that serves it; shut down when dropped.
pub struct Emulator {
    emulator: Option<PubSubEmulator>,
    runtime: tokio::runtime::Runtime,
}

impl Emulator {
    pub fn start(builder: PubSubEmulatorBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let emulator = runtime
            .block_on(builder.start())
            .expect("the emulator starts");
        Self {
            emulator: Some(emulator),
            runtime,
        }
    }
}

impl Deref for Emulator {
    type Target = PubSubEmulator;

    fn deref(&self) -> &PubSubEmulator {
        self.emulator.as_ref().expect("running")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

/// `pubsub::builder` for the emulator's org with its ready token, starting from `EARLIEST`,
/// with quick retries.
pub fn builder(emulator: &PubSubEmulator) -> PubSubClientBuilder {
    settings(pubsub::builder(credentials(emulator)), emulator)
}

/// [`builder`] on a runtime of the test's (a hyper client with roots or proxies of its own).
pub fn builder_on(runtime: AsyncStd, emulator: &PubSubEmulator) -> PubSubClientBuilder {
    settings(
        PubSubClientBuilder::new(runtime, credentials(emulator)),
        emulator,
    )
}

fn credentials(emulator: &PubSubEmulator) -> Credentials {
    Credentials::AccessToken {
        access_token: Secret::new(emulator.access_token()),
        instance_url: emulator.url().to_owned(),
    }
}

fn settings(builder: PubSubClientBuilder, emulator: &PubSubEmulator) -> PubSubClientBuilder {
    builder
        .url(emulator.url())
        .tenant_id(emulator.org_id())
        .replay(PubSubReplayFrom::Earliest)
        .retry(RetryPolicy {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            ..RetryPolicy::default()
        })
        .seed(7)
}

/// A hyper client that trusts only the emulator's generated certificate, with these proxies.
pub fn trusting(emulator: &PubSubEmulator, proxies: Proxies) -> AsyncStd {
    let pem = emulator.tls_cert_pem().expect("the emulator serves TLS");
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.expect("a PEM certificate")).expect("a root");
    }
    AsyncStd::with_hyper_client(
        Client::builder()
            .proxies(proxies)
            .root_certificates(roots)
            .build(),
    )
}

/// `f`, or a panic naming `what` after [`WAIT`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    future::or(f, async {
        async_io::Timer::after(WAIT).await;
        panic!("timed out waiting for {what}")
    })
    .await
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
