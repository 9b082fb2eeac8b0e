//! Taking messages in batches, on the calling thread.

use std::time::Duration;

use futures_executor::block_on;
use futures_util::future::{self, Either};
use sfstream_driver::{Batch, Error};

use super::Client;
use crate::Blocking;

impl Client {
    /// Waits for the next message, then takes every other message already waiting, up to `max`
    /// in all (a `max` of 0 counts as 1): the batch is never empty. An error comes once the
    /// messages before it were taken (a batch ends where an error waits; the next call returns
    /// it). Commit the batch with [`commit`](Self::commit) after processing it.
    pub fn receive_batch(&self, max: usize) -> Result<Batch, Error> {
        block_on(self.inner.receive_batch(max))
    }

    /// Like [`receive_batch`](Self::receive_batch), but gives up after `timeout`: `None` if
    /// nothing came. No message is lost by giving up.
    pub fn receive_batch_timeout(
        &self,
        max: usize,
        timeout: Duration,
    ) -> Option<Result<Batch, Error>> {
        let receive = std::pin::pin!(self.inner.receive_batch(max));
        match block_on(future::select(receive, futures_timer::Delay::new(timeout))) {
            Either::Left((result, _)) => Some(result),
            Either::Right(((), _)) => None,
        }
    }

    /// The messages waiting now, up to `max`, without waiting.
    pub fn try_receive_batch(&self, max: usize) -> Option<Result<Batch, Error>> {
        self.inner.try_receive_batch(max)
    }

    /// Batches of up to `max` messages, each waited for, until the client is closed and
    /// drained. Errors are items; iteration goes on after them.
    #[must_use]
    pub fn batches(&self, max: usize) -> Batches {
        Batches {
            client: self.inner.clone(),
            max,
            done: false,
        }
    }
}

/// The batches of a [`Client`] ([`Client::batches`]); ends when the client is closed and
/// drained.
#[derive(Debug)]
pub struct Batches {
    client: sfstream_driver::Client<Blocking>,
    max: usize,
    done: bool,
}

impl Iterator for Batches {
    type Item = Result<Batch, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match block_on(self.client.receive_batch(self.max)) {
            Err(Error::Closed) => {
                self.done = true;
                None
            }
            other => Some(other),
        }
    }
}

impl std::iter::FusedIterator for Batches {}
