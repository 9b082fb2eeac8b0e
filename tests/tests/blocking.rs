//! The conformance suite on the blocking client: no async runtime, HTTP by ureq on threads; and
//! its Pub/Sub API (feature `pubsub`, HTTP/2 by sfstream-http-async-io's pool).

use std::time::Duration;

use sfstream_blocking::{Client, ClientBuilder, SessionEvent, SessionEvents};
use sfstream_core::{Message, Stats};
use sfstream_driver::Error;
use sfstream_tests::{Flavor, SessionEventsUnderTest, Setup, TestClient};

struct BlockingFlavor;

/// The suite's interface is the client's own: each call is the blocking call.
struct BlockingClient(Client);

impl TestClient for BlockingClient {
    fn open(&self) -> Result<(), Error> {
        self.0.open()
    }
    fn subscribe(&self, channel: &str) -> Result<(), Error> {
        self.0.subscribe(channel)
    }
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>> {
        self.0.receive_timeout(timeout)
    }
    fn commit(&self, message: &Message) -> Result<(), Error> {
        self.0.commit(message)
    }
    fn close(&self) -> Result<(), Error> {
        self.0.close()
    }
    fn stats(&self) -> Stats {
        self.0.stats()
    }
    fn pending(&self) -> usize {
        self.0.pending()
    }
    fn session_events(&self) -> Box<dyn SessionEventsUnderTest> {
        Box::new(BlockingEvents(self.0.session_events()))
    }
}

struct BlockingEvents(SessionEvents);

impl SessionEventsUnderTest for BlockingEvents {
    fn next_timeout(&mut self, timeout: Duration) -> Option<SessionEvent> {
        self.0.next_timeout(timeout)
    }
}

impl Flavor for BlockingFlavor {
    fn name(&self) -> &'static str {
        "blocking"
    }
    fn client(&self, setup: Setup) -> Box<dyn TestClient> {
        let builder = ClientBuilder::with_config(setup.config).shared_store(setup.store);
        let builder = match setup.record {
            Some(path) => builder.record(path),
            None => builder,
        };
        let client = builder.build().expect("valid configuration");
        Box::new(BlockingClient(client))
    }
}

sfstream_tests::conformance_suite!(BlockingFlavor);

/// The Pub/Sub API's cases on the blocking client (feature `pubsub`): each call is the client's
/// own blocking call.
mod pubsub {
    use std::future::Future;
    use std::time::Duration;

    use sfstream_blocking::pubsub::{
        Error, PubSubClient, PubSubClientBuilder, PubSubMessage, PubSubStats, PublishEvent,
        PublishOutcome, ReplayId, TopicInfo,
    };
    use sfstream_tests::pubsub::driver::{BlockOn, async_session_events};
    use sfstream_tests::pubsub::{
        PubSubEventsUnderTest, PubSubFlavor, PubSubSetup, PubSubTestClient,
    };

    /// Waits on the calling thread, as the blocking client itself does.
    #[derive(Clone)]
    struct FuturesExecutor;

    impl BlockOn for FuturesExecutor {
        fn block_on<F: Future>(&self, future: F) -> F::Output {
            futures_lite::future::block_on(future)
        }
    }

    struct BlockingPubSubFlavor;

    struct BlockingPubSubClient(PubSubClient);

    impl PubSubTestClient for BlockingPubSubClient {
        fn open(&self) -> Result<(), Error> {
            self.0.open()
        }
        fn subscribe(&self, topic: &str) -> Result<(), Error> {
            self.0.subscribe(topic)
        }
        fn receive_timeout(&self, timeout: Duration) -> Option<Result<PubSubMessage, Error>> {
            self.0.receive_timeout(timeout)
        }
        fn commit(&self, message: &PubSubMessage) -> Result<bool, Error> {
            self.0.commit(message)
        }
        fn publish(
            &self,
            topic: &str,
            events: Vec<PublishEvent>,
        ) -> Result<Vec<PublishOutcome>, Error> {
            self.0.publish(topic, events)
        }
        fn publish_on_stream(
            &self,
            topic: &str,
            events: Vec<PublishEvent>,
        ) -> Result<Vec<PublishOutcome>, Error> {
            self.0.publish_on_stream(topic, events)
        }
        fn get_topic(&self, topic: &str) -> Result<TopicInfo, Error> {
            self.0.get_topic(topic)
        }
        fn close(&self) -> Result<(), Error> {
            self.0.close()
        }
        fn stats(&self) -> PubSubStats {
            self.0.stats()
        }
        fn pending(&self) -> usize {
            self.0.pending()
        }
        fn outstanding(&self, topic: &str) -> Option<u32> {
            self.0.outstanding(topic)
        }
        fn committed(&self, topic: &str) -> Option<ReplayId> {
            self.0.committed(topic)
        }
        fn session_events(&self) -> Box<dyn PubSubEventsUnderTest> {
            // The reports come from the async client underneath.
            async_session_events(FuturesExecutor, self.0.as_async().clone())
        }
    }

    impl PubSubFlavor for BlockingPubSubFlavor {
        fn name(&self) -> &'static str {
            "blocking"
        }
        fn client(&self, setup: PubSubSetup) -> Box<dyn PubSubTestClient> {
            let client = PubSubClientBuilder::with_config(setup.config)
                .store(setup.store)
                .build()
                .expect("valid configuration");
            Box::new(BlockingPubSubClient(client))
        }
    }

    sfstream_tests::pubsub_conformance_suite!(BlockingPubSubFlavor);
}
