//! The session events of a blocking client, as an iterator.

use std::time::Duration;

use futures_executor::block_on;
use futures_util::StreamExt as _;
use futures_util::future::{self, Either};
use sfstream_driver::{FanOutEvent, SessionEvent};

/// The session events of a [`Client`](crate::Client), from when this was created: an
/// [`Iterator`] whose `next` waits for the next event and ends after
/// [`SessionEvent::Closed`] (or once the client is dropped). See [`SessionEvent`] for each event
/// and what to do about it. The Pub/Sub client's are `SessionEvents<PubSubSessionEvent>`
/// (feature `pubsub`), the same in every other respect.
///
/// Each subscriber reads at its own pace from a buffer of the last
/// [`SESSION_EVENTS_BUFFER`](crate::SESSION_EVENTS_BUFFER) events; one that falls further behind
/// gets [`SessionEvent::Lagged`] and never slows the session. Read it on a thread of its own (or
/// with [`next_timeout`](Self::next_timeout) / [`try_next`](Self::try_next) between messages).
#[derive(Debug)]
pub struct SessionEvents<E: FanOutEvent = SessionEvent> {
    inner: sfstream_driver::SessionEvents<E>,
}

impl<E: FanOutEvent> SessionEvents<E> {
    pub(crate) fn new(inner: sfstream_driver::SessionEvents<E>) -> Self {
        Self { inner }
    }

    /// The next event, waiting at most `timeout`: `None` if none came (or the events ended:
    /// [`is_ended`](Self::is_ended) tells).
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<E> {
        let next = self.inner.next();
        match block_on(future::select(next, futures_timer::Delay::new(timeout))) {
            Either::Left((event, _)) => event,
            Either::Right(((), _)) => None,
        }
    }

    /// The next event if one waits, without waiting.
    pub fn try_next(&mut self) -> Option<E> {
        self.inner.try_next()
    }

    /// Whether the events have ended (the client closed) and every one was read.
    #[must_use]
    pub fn is_ended(&self) -> bool {
        self.inner.is_ended()
    }
}

impl<E: FanOutEvent> Iterator for SessionEvents<E> {
    type Item = E;

    fn next(&mut self) -> Option<E> {
        block_on(self.inner.next())
    }
}
