//! The suite's interface over the driver's async [`PubSubClient`], for every runtime whose
//! Pub/Sub client is that client (tokio, async-std): a flavour supplies only its executor.

use std::future::Future;
use std::time::Duration;

use sfstream_core::pubsub::{PubSubMessage, PubSubStats, PublishEvent, PublishOutcome, ReplayId};
use sfstream_driver::pubsub::{
    Error, Http2Runtime, PubSubClient, PubSubClientBuilder, PubSubSessionEvent,
    PubSubSessionEvents, TopicInfo,
};

use super::{PubSubEventsUnderTest, PubSubSetup, PubSubTestClient};

/// Runs a future to completion on a runtime's executor.
pub trait BlockOn: Clone + Send + 'static {
    /// `future`'s output, waiting for it on this thread.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

/// `future`'s output, or `None` after `timeout` (a timer of its own, so under any executor).
async fn within<F: Future>(timeout: Duration, future: F) -> Option<F::Output> {
    futures_lite::future::or(async { Some(future.await) }, async {
        async_io::Timer::after(timeout).await;
        None
    })
    .await
}

/// Builds the client of `setup` from `builder` (its runtime's, with the setup's configuration
/// and store) for the suite, driven by `executor`.
///
/// # Panics
/// When the setup's configuration is invalid (a mistake in the case).
pub fn async_client<R: Http2Runtime, E: BlockOn>(
    executor: E,
    builder: PubSubClientBuilder<R>,
    setup: PubSubSetup,
) -> Box<dyn PubSubTestClient>
where
    PubSubClient<R>: Send,
{
    let config = setup.config;
    let client = builder
        .configure(|_| config)
        .store(setup.store)
        .build()
        .expect("valid configuration");
    Box::new(AsyncClient { executor, client })
}

struct AsyncClient<R: Http2Runtime, E> {
    executor: E,
    client: PubSubClient<R>,
}

impl<R: Http2Runtime, E: BlockOn> PubSubTestClient for AsyncClient<R, E>
where
    PubSubClient<R>: Send,
{
    fn open(&self) -> Result<(), Error> {
        self.executor.block_on(self.client.open())
    }
    fn subscribe(&self, topic: &str) -> Result<(), Error> {
        self.executor.block_on(self.client.subscribe(topic))
    }
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<PubSubMessage, Error>> {
        self.executor
            .block_on(within(timeout, self.client.receive()))
    }
    fn commit(&self, message: &PubSubMessage) -> Result<bool, Error> {
        self.client.commit(message)
    }
    fn publish(
        &self,
        topic: &str,
        events: Vec<PublishEvent>,
    ) -> Result<Vec<PublishOutcome>, Error> {
        self.executor.block_on(self.client.publish(topic, events))
    }
    fn publish_on_stream(
        &self,
        topic: &str,
        events: Vec<PublishEvent>,
    ) -> Result<Vec<PublishOutcome>, Error> {
        self.executor
            .block_on(self.client.publish_on_stream(topic, events))
    }
    fn get_topic(&self, topic: &str) -> Result<TopicInfo, Error> {
        self.executor.block_on(self.client.get_topic(topic))
    }
    fn close(&self) -> Result<(), Error> {
        self.executor.block_on(self.client.close())
    }
    fn stats(&self) -> PubSubStats {
        self.client.stats()
    }
    fn pending(&self) -> usize {
        self.client.pending()
    }
    fn outstanding(&self, topic: &str) -> Option<u32> {
        self.client.outstanding(topic)
    }
    fn committed(&self, topic: &str) -> Option<ReplayId> {
        self.client.committed(topic)
    }
    fn session_events(&self) -> Box<dyn PubSubEventsUnderTest> {
        async_session_events(self.executor.clone(), self.client.clone())
    }
}

/// The session's reports of `client`, waited for with `executor` (also for a blocking client,
/// through the async client underneath it).
pub fn async_session_events<R: Http2Runtime, E: BlockOn>(
    executor: E,
    client: PubSubClient<R>,
) -> Box<dyn PubSubEventsUnderTest> {
    Box::new(AsyncEvents {
        executor,
        events: client.session_events(),
    })
}

struct AsyncEvents<E> {
    executor: E,
    events: PubSubSessionEvents,
}

impl<E: BlockOn> PubSubEventsUnderTest for AsyncEvents<E> {
    fn next_timeout(&mut self, timeout: Duration) -> Option<PubSubSessionEvent> {
        self.executor
            .block_on(within(timeout, self.events.recv()))
            .flatten()
    }
}
