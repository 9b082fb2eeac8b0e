//! The conformance suite on the blocking client: no async runtime, HTTP by ureq on threads.

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
