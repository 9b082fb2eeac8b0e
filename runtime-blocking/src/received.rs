//! The iterator of a blocking client's messages, for both APIs: each message waited for on the
//! calling thread, errors as items, the end once the client is closed and drained.

use std::iter::FusedIterator;

use futures_executor::block_on;

use crate::Blocking;

/// The messages of a client (the Streaming API's [`Client`](crate::Client) or, with the
/// `pubsub` feature, the Pub/Sub API's), each waited for; ends when the client is closed and
/// drained. Errors are items: iteration goes on after them.
#[derive(Debug)]
pub struct Received<C> {
    client: C,
    done: bool,
}

impl<C> Received<C> {
    pub(crate) fn new(client: C) -> Self {
        Self {
            client,
            done: false,
        }
    }
}

mod sealed {
    /// A driver client whose messages [`Received`](super::Received) iterates.
    pub trait Receiver {
        /// What it delivers.
        type Message;
        /// What it fails with.
        type Error;
        /// The next message, waited for on this thread.
        fn wait(&self) -> Result<Self::Message, Self::Error>;
        /// Whether the error says the client is closed: the end of the iteration.
        fn is_end(error: &Self::Error) -> bool;
    }
}
use sealed::Receiver;

impl Receiver for sfstream_driver::Client<Blocking> {
    type Message = sfstream_driver::Message;
    type Error = sfstream_driver::Error;
    fn wait(&self) -> Result<Self::Message, Self::Error> {
        block_on(self.receive())
    }
    fn is_end(error: &Self::Error) -> bool {
        error.is_closed()
    }
}

#[cfg(feature = "pubsub")]
impl Receiver for sfstream_driver::pubsub::PubSubClient<Blocking> {
    type Message = sfstream_driver::pubsub::PubSubMessage;
    type Error = sfstream_driver::pubsub::Error;
    fn wait(&self) -> Result<Self::Message, Self::Error> {
        block_on(self.receive())
    }
    fn is_end(error: &Self::Error) -> bool {
        error.is_closed()
    }
}

impl<C: Receiver> Iterator for Received<C> {
    type Item = Result<C::Message, C::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.client.wait() {
            Err(e) if C::is_end(&e) => {
                self.done = true;
                None
            }
            other => Some(other),
        }
    }
}

impl<C: Receiver> FusedIterator for Received<C> {}
