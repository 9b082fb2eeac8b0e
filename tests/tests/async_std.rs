//! The conformance suite on sfstream-async-std, driven by async-std's `block_on`: HTTP by hyper
//! (the default), by isahc, and by surf as well when this crate's `surf` feature is on.

use std::time::Duration;

use async_std::future::timeout;
use async_std::task::block_on;
use futures_util::StreamExt as _;
use sfstream_async_std::{AsyncStd, Client, ClientBuilder, SessionEvent, SessionEvents};
use sfstream_core::{Message, Stats};
use sfstream_driver::Error;
use sfstream_tests::{Flavor, SessionEventsUnderTest, Setup, TestClient};

struct AsyncStdFlavor {
    name: &'static str,
    runtime: fn() -> AsyncStd,
}

struct AsyncStdClient(Client);

impl TestClient for AsyncStdClient {
    fn open(&self) -> Result<(), Error> {
        block_on(self.0.open())
    }
    fn subscribe(&self, channel: &str) -> Result<(), Error> {
        block_on(self.0.subscribe(channel))
    }
    fn receive_timeout(&self, wait: Duration) -> Option<Result<Message, Error>> {
        block_on(timeout(wait, self.0.receive())).ok()
    }
    fn commit(&self, message: &Message) -> Result<(), Error> {
        self.0.commit(message)
    }
    fn close(&self) -> Result<(), Error> {
        block_on(self.0.close())
    }
    fn stats(&self) -> Stats {
        self.0.stats()
    }
    fn pending(&self) -> usize {
        self.0.pending()
    }
    fn session_events(&self) -> Box<dyn SessionEventsUnderTest> {
        Box::new(AsyncStdEvents(self.0.session_events()))
    }
}

struct AsyncStdEvents(SessionEvents);

impl SessionEventsUnderTest for AsyncStdEvents {
    fn next_timeout(&mut self, wait: Duration) -> Option<SessionEvent> {
        block_on(timeout(wait, self.0.next())).ok().flatten()
    }
}

impl Flavor for AsyncStdFlavor {
    fn name(&self) -> &'static str {
        self.name
    }
    fn client(&self, setup: Setup) -> Box<dyn TestClient> {
        let builder =
            ClientBuilder::with_config((self.runtime)(), setup.config).shared_store(setup.store);
        let builder = match setup.record {
            Some(path) => builder.record(path),
            None => builder,
        };
        let client = builder.build().expect("valid configuration");
        Box::new(AsyncStdClient(client))
    }
}

sfstream_tests::conformance_suite!(AsyncStdFlavor {
    name: "async-std/hyper",
    runtime: AsyncStd::hyper,
});

/// The same cases with isahc, no longer the default but still offered.
mod isahc {
    use super::{AsyncStd, AsyncStdFlavor};

    sfstream_tests::conformance_suite!(AsyncStdFlavor {
        name: "async-std/isahc",
        runtime: AsyncStd::isahc,
    });
}

/// The same cases with surf as the HTTP client: `cargo test -p sfstream-tests --features surf`.
#[cfg(feature = "surf")]
mod surf {
    use super::{AsyncStd, AsyncStdFlavor};

    sfstream_tests::conformance_suite!(AsyncStdFlavor {
        name: "async-std/surf",
        runtime: AsyncStd::surf,
    });
}

/// The Pub/Sub API's cases on async-std (HTTP/2 by sfstream-http-async-io's pool).
mod pubsub {
    use std::future::Future;

    use sfstream_tests::pubsub::driver::{BlockOn, async_client};
    use sfstream_tests::pubsub::{PubSubFlavor, PubSubSetup, PubSubTestClient};

    #[derive(Clone)]
    struct AsyncStdExecutor;

    impl BlockOn for AsyncStdExecutor {
        fn block_on<F: Future>(&self, future: F) -> F::Output {
            async_std::task::block_on(future)
        }
    }

    struct AsyncStdPubSubFlavor;

    impl PubSubFlavor for AsyncStdPubSubFlavor {
        fn name(&self) -> &'static str {
            "async-std"
        }
        fn client(&self, setup: PubSubSetup) -> Box<dyn PubSubTestClient> {
            let builder = sfstream_async_std::pubsub::builder(setup.config.credentials.clone());
            async_client(AsyncStdExecutor, builder, setup)
        }
    }

    sfstream_tests::pubsub_conformance_suite!(AsyncStdPubSubFlavor);
}
