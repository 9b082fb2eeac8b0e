//! The synchronous client: the shared driver client, with each call waited for on the calling
//! thread.

use std::time::Duration;

use futures_executor::block_on;
use futures_util::future::{self, Either};
use sfstream_driver::{Committable, Error, Message, ReplayFrom, Stats};

use crate::{Blocking, SessionEvents};

mod batches;

pub use batches::Batches;

/// A blocking Salesforce streaming client. Clones share one session: one thread may `close`
/// while another waits in [`receive`](Self::receive) or iterates.
///
/// HTTP runs on threads of its own, so `subscribe`, `unsubscribe` and `close` never wait
/// behind a held long poll. Each call blocks the calling thread: call it from ordinary threads,
/// not from inside an async task (there, [`as_async`](Self::as_async) gives the async client).
#[derive(Clone, Debug)]
pub struct Client {
    inner: sfstream_driver::Client<Blocking>,
}

impl From<sfstream_driver::Client<Blocking>> for Client {
    fn from(inner: sfstream_driver::Client<Blocking>) -> Self {
        Self { inner }
    }
}

impl Client {
    /// Opens the client: loads stored replay ids, authenticates, handshakes, subscribes what was
    /// subscribed before, and returns once events flow and those subscriptions are confirmed.
    /// See [`sfstream_driver::Client::open`] for the errors.
    pub fn open(&self) -> Result<(), Error> {
        block_on(self.inner.open())
    }

    /// Subscribes to a channel and waits for the server's confirmation (before `open`: queues
    /// it). A channel with a stored replay id resumes after it.
    pub fn subscribe(&self, channel: &str) -> Result<(), Error> {
        block_on(self.inner.subscribe(channel))
    }

    /// Subscribes with an explicit replay start, overriding the store and the default.
    pub fn subscribe_from(&self, channel: &str, from: Option<ReplayFrom>) -> Result<(), Error> {
        block_on(self.inner.subscribe_from(channel, from))
    }

    /// Unsubscribes from a channel and waits until the server confirmed it.
    pub fn unsubscribe(&self, channel: &str) -> Result<(), Error> {
        block_on(self.inner.unsubscribe(channel))
    }

    /// The channels the server has confirmed (before `open`: the channels waiting).
    #[must_use]
    pub fn subscriptions(&self) -> Vec<String> {
        self.inner.subscriptions()
    }

    /// Waits for the next message. Messages already received are returned even after the
    /// connection failed or the client closed; then the error, once; then [`Error::Closed`]
    /// (closed by the application) or [`Error::ClosedByFailure`] (carrying the failure).
    pub fn receive(&self) -> Result<Message, Error> {
        block_on(self.inner.receive())
    }

    /// Like [`receive`](Self::receive), but gives up after `timeout`: `None` if nothing came.
    /// No message is lost by giving up.
    pub fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>> {
        let receive = std::pin::pin!(self.inner.receive());
        match block_on(future::select(receive, futures_timer::Delay::new(timeout))) {
            Either::Left((result, _)) => Some(result),
            Either::Right(((), _)) => None,
        }
    }

    /// A message if one waits, without waiting.
    pub fn try_receive(&self) -> Option<Result<Message, Error>> {
        self.inner.try_receive()
    }

    /// The messages, each waited for, until the client is closed and drained. Errors
    /// (connection lost, a failed automatic resubscription) are items; iteration goes on after
    /// them.
    #[must_use]
    pub fn iter(&self) -> Messages {
        Messages::new(self.inner.clone())
    }

    /// Commits processed messages under the manual policy: a [`Message`] (it and everything
    /// before it on its channel), a [`Batch`](crate::Batch) (for each of its channels, its last
    /// message and everything before), or a prefix of one (`&batch[..=i]`). The replay ids go
    /// to the store. Under the automatic policy (which committed each message when it was
    /// taken): an error of kind `AutomaticCommit`.
    pub fn commit(&self, processed: &(impl Committable + ?Sized)) -> Result<(), Error> {
        self.inner.commit(processed)
    }

    /// How many received messages wait for `receive`.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.inner.pending()
    }

    /// The session's events from now on, as a blocking iterator: see [`SessionEvents`] and
    /// [`SessionEvent`](crate::SessionEvent). Call it before `open` to see the session start.
    #[must_use]
    pub fn session_events(&self) -> SessionEvents {
        SessionEvents::new(self.inner.session_events())
    }

    /// Counters of the session (handshakes, connects, reconnects, re-fetches, messages …), each
    /// channel's accepted and committed replay ids, and when the last event arrived.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// The seed of the backoff jitter: the one given to the builder, or the one drawn from the
    /// operating system when none was.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.inner.seed()
    }

    /// Whether the client has been closed (or its session ended for good).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Closes the client: cancels the long poll, sends `/meta/disconnect`, and waits until every
    /// checkpoint is in the store. Works from any thread; a thread blocked in `receive` or in
    /// the iterator gets the remaining messages, then [`Error::Closed`] (the iterator ends, as it
    /// does after [`Error::ClosedByFailure`]).
    pub fn close(&self) -> Result<(), Error> {
        block_on(self.inner.close())
    }

    /// Closes the client like [`close`](Self::close), but waits no longer than `bound`, on the
    /// calling thread (no thread of its own). When the bound passes first, the client is closed
    /// all the same and the error ([`Error::CloseTimedOut`]) says what was not finished: see
    /// [`sfstream_driver::Client::close_within`].
    pub fn close_within(&self, bound: Duration) -> Result<(), Error> {
        block_on(self.inner.close_within(bound))
    }

    /// Opens the client, runs `f`, and closes the client whatever `f` returned.
    pub fn scope<T>(&self, f: impl FnOnce(&Client) -> T) -> Result<T, Error> {
        self.open()?;
        let out = f(self);
        self.close()?;
        Ok(out)
    }

    /// The asynchronous client underneath, for code that wants to `.await` it (on any executor).
    #[must_use]
    pub fn as_async(&self) -> &sfstream_driver::Client<Blocking> {
        &self.inner
    }
}

/// The messages of a [`Client`], each waited for; ends when the client is closed and drained.
pub type Messages = crate::Received<sfstream_driver::Client<Blocking>>;

impl IntoIterator for &Client {
    type Item = Result<Message, Error>;
    type IntoIter = Messages;

    fn into_iter(self) -> Messages {
        self.iter()
    }
}

impl IntoIterator for Client {
    type Item = Result<Message, Error>;
    type IntoIter = Messages;

    fn into_iter(self) -> Messages {
        Messages::new(self.inner)
    }
}
