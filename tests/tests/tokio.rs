//! The conformance suite on the tokio runtime.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use sfstream_core::{Message, Stats};
use sfstream_driver::{ClientBuilder, Error};
use sfstream_tests::{Flavor, SessionEventsUnderTest, Setup, TestClient};
use sfstream_tokio::{Client, SessionEvent, SessionEvents, Tokio};

struct TokioFlavor {
    rt: Arc<tokio::runtime::Runtime>,
}

struct TokioClient {
    rt: Arc<tokio::runtime::Runtime>,
    client: Client,
}

impl TokioClient {
    fn run<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

impl TestClient for TokioClient {
    fn open(&self) -> Result<(), Error> {
        self.run(self.client.open())
    }
    fn subscribe(&self, channel: &str) -> Result<(), Error> {
        self.run(self.client.subscribe(channel))
    }
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>> {
        self.run(async {
            tokio::time::timeout(timeout, self.client.receive())
                .await
                .ok()
        })
    }
    fn commit(&self, message: &Message) -> Result<(), Error> {
        self.client.commit(message)
    }
    fn close(&self) -> Result<(), Error> {
        self.run(self.client.close())
    }
    fn stats(&self) -> Stats {
        self.client.stats()
    }
    fn pending(&self) -> usize {
        self.client.pending()
    }
    fn session_events(&self) -> Box<dyn SessionEventsUnderTest> {
        Box::new(TokioEvents {
            rt: self.rt.clone(),
            events: self.client.session_events(),
        })
    }
}

struct TokioEvents {
    rt: Arc<tokio::runtime::Runtime>,
    events: SessionEvents,
}

impl SessionEventsUnderTest for TokioEvents {
    fn next_timeout(&mut self, timeout: Duration) -> Option<SessionEvent> {
        let next = self.events.next();
        self.rt
            .block_on(async { tokio::time::timeout(timeout, next).await })
            .ok()
            .flatten()
    }
}

impl Flavor for TokioFlavor {
    fn name(&self) -> &'static str {
        "tokio"
    }
    fn client(&self, setup: Setup) -> Box<dyn TestClient> {
        let _guard = self.rt.enter();
        let builder =
            ClientBuilder::with_config(Tokio::new(), setup.config).shared_store(setup.store);
        let builder = match setup.record {
            Some(path) => builder.record(path),
            None => builder,
        };
        let client = builder.build().expect("valid configuration");
        Box::new(TokioClient {
            rt: self.rt.clone(),
            client,
        })
    }
}

fn flavor() -> TokioFlavor {
    // SFSTREAM_TEST_LOG=debug shows the client's log while a case runs.
    if let Ok(filter) = std::env::var("SFSTREAM_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    TokioFlavor { rt: Arc::new(rt) }
}

sfstream_tests::conformance_suite!(flavor());

/// The Pub/Sub API's cases on tokio.
mod pubsub {
    use std::future::Future;
    use std::sync::Arc;

    use sfstream_tests::pubsub::driver::{BlockOn, async_client};
    use sfstream_tests::pubsub::{PubSubFlavor, PubSubSetup, PubSubTestClient};

    #[derive(Clone)]
    struct TokioExecutor(Arc<tokio::runtime::Runtime>);

    impl BlockOn for TokioExecutor {
        fn block_on<F: Future>(&self, future: F) -> F::Output {
            self.0.block_on(future)
        }
    }

    struct TokioPubSubFlavor(TokioExecutor);

    impl PubSubFlavor for TokioPubSubFlavor {
        fn name(&self) -> &'static str {
            "tokio"
        }
        fn client(&self, setup: PubSubSetup) -> Box<dyn PubSubTestClient> {
            let _guard = self.0.0.enter();
            let builder = sfstream_tokio::pubsub::builder(setup.config.credentials.clone());
            async_client(self.0.clone(), builder, setup)
        }
    }

    fn flavor() -> TokioPubSubFlavor {
        TokioPubSubFlavor(TokioExecutor(super::flavor().rt))
    }

    sfstream_tests::pubsub_conformance_suite!(flavor());
}
