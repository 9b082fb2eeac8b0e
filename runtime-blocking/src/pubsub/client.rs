//! The blocking Pub/Sub client: the driver's, with each call waited for on the calling thread.

use std::time::Duration;

use futures_executor::block_on;
use futures_util::future::{self, Either};
use sfstream_driver::pubsub::{
    Error, PubSubMessage, PubSubReplayFrom, PubSubStats, PublishEvent, PublishOutcome, ReplayId,
    TopicInfo,
};

use crate::Blocking;

/// The async client this one wraps.
type AsyncClient = sfstream_driver::pubsub::PubSubClient<Blocking>;

/// A blocking Salesforce Pub/Sub API client. Clones share one session: one thread may `close`
/// while another waits in [`receive`](Self::receive) or iterates.
///
/// Each call blocks the calling thread: call it from ordinary threads, not from inside an async
/// task (there, [`as_async`](Self::as_async) gives the async client).
#[derive(Clone, Debug)]
pub struct PubSubClient {
    inner: AsyncClient,
}

impl From<AsyncClient> for PubSubClient {
    fn from(inner: AsyncClient) -> Self {
        Self { inner }
    }
}

/// Methods that hand their arguments to the async client's method of the same name: `wait`
/// ones wait for its future on the calling thread, `now` ones return at once. Each gets a link
/// to the async method, whose documentation has the details and the errors.
macro_rules! delegate {
    (
        wait {$($(#[$wdoc:meta])* fn $wname:ident(&self $(, $warg:ident: $wty:ty)*) -> $wret:ty;)*}
        now {$($(#[$ndoc:meta])* fn $nname:ident(&self $(, $narg:ident: $nty:ty)*) -> $nret:ty;)*}
    ) => {
        $(
            $(#[$wdoc])*
            ///
            #[doc = concat!("Waits for [`PubSubClient::", stringify!($wname),
                "`](sfstream_driver::pubsub::PubSubClient::", stringify!($wname), ").")]
            pub fn $wname(&self $(, $warg: $wty)*) -> $wret {
                block_on(self.inner.$wname($($warg),*))
            }
        )*
        $(
            $(#[$ndoc])*
            ///
            #[doc = concat!("As [`PubSubClient::", stringify!($nname),
                "`](sfstream_driver::pubsub::PubSubClient::", stringify!($nname), ").")]
            pub fn $nname(&self $(, $narg: $nty)*) -> $nret {
                self.inner.$nname($($narg),*)
            }
        )*
    };
}

impl PubSubClient {
    delegate! {
        wait {
            /// Opens the client: reads the store, authenticates, opens a stream per topic
            /// subscribed before, and returns once the server accepted them. A topic the server
            /// refused is that error; the others go on.
            fn open(&self) -> Result<(), Error>;
            /// Subscribes to a topic (`/event/Order__e`, `/data/AccountChangeEvent`, …) and
            /// waits until the server accepted its stream (before `open`: queues it). A topic
            /// with a stored replay id resumes after it.
            fn subscribe(&self, topic: &str) -> Result<(), Error>;
            /// Subscribes with an explicit start, overriding the store and the configured start.
            fn subscribe_from(
                &self, topic: &str, from: Option<PubSubReplayFrom>
            ) -> Result<(), Error>;
            /// Waits for the next event. Events already received are returned even after the
            /// client closed; then an error the session reported, once; then [`Error::Closed`].
            fn receive(&self) -> Result<PubSubMessage, Error>;
            /// Publishes events to a topic (`Publish` calls, up to 200 events and 3 MiB each)
            /// and waits for one outcome per event, in the order given: its replay id, or why it
            /// was refused.
            fn publish(
                &self, topic: &str, events: Vec<PublishEvent>
            ) -> Result<Vec<PublishOutcome>, Error>;
            /// [`publish`](Self::publish) on the topic's `PublishStream`, kept open between
            /// calls.
            fn publish_on_stream(
                &self, topic: &str, events: Vec<PublishEvent>
            ) -> Result<Vec<PublishOutcome>, Error>;
            /// A topic's information (`GetTopic`): whether the user may publish and subscribe,
            /// and its current schema id.
            fn get_topic(&self, topic: &str) -> Result<TopicInfo, Error>;
            /// Closes the client: cancels every call and waits until every checkpoint is in the
            /// store. Works from any thread: a thread blocked in `receive` or in the iterator
            /// gets the events already received, then [`Error::Closed`] (the iterator ends).
            fn close(&self) -> Result<(), Error>;
            /// Closes the client like `close`, waiting no longer than `bound` on the calling
            /// thread; past it, an error of kind `CloseTimedOut` says which committed replay ids
            /// were not yet stored (their writes go on in the background).
            fn close_within(&self, bound: Duration) -> Result<(), Error>;
        }
        now {
            /// Unsubscribes from a topic: its stream is cancelled. Its events already received
            /// stay available to `receive`.
            fn unsubscribe(&self, topic: &str) -> Result<(), Error>;
            /// The topics subscribed (before `open`: those waiting to be).
            #[must_use]
            fn topics(&self) -> Vec<String>;
            /// An event if one waits, without waiting.
            fn try_receive(&self) -> Option<Result<PubSubMessage, Error>>;
            /// Commits an event under the manual policy: it and everything before it on its
            /// topic are processed, and its replay id goes to the store. Returns whether the
            /// committed position moved.
            fn commit(&self, message: &PubSubMessage) -> Result<bool, Error>;
            /// How many received events wait for `receive`.
            #[must_use]
            fn pending(&self) -> usize;
            /// At most how many events a topic's open stream may still bring (requested and not
            /// yet received); `None` without an open stream.
            #[must_use]
            fn outstanding(&self, topic: &str) -> Option<u32>;
            /// A topic's committed position (what the store gets).
            #[must_use]
            fn committed(&self, topic: &str) -> Option<ReplayId>;
            /// Counters of the session (streams, fetch requests, keepalives, events,
            /// publishes …).
            #[must_use]
            fn stats(&self) -> PubSubStats;
            /// The seed of the backoff jitter and generated ids.
            #[must_use]
            fn seed(&self) -> u64;
            /// Whether the client has been closed (or its session ended for good).
            #[must_use]
            fn is_closed(&self) -> bool;
        }
    }

    /// Like [`receive`](Self::receive), but gives up after `timeout`: `None` if nothing came.
    /// No event is lost by giving up.
    pub fn receive_timeout(&self, timeout: Duration) -> Option<Result<PubSubMessage, Error>> {
        let receive = std::pin::pin!(self.inner.receive());
        match block_on(future::select(receive, futures_timer::Delay::new(timeout))) {
            Either::Left((result, _)) => Some(result),
            Either::Right(((), _)) => None,
        }
    }

    /// The events, each waited for, until the client is closed and drained. Errors (a topic's
    /// failure) are items; iteration goes on after them.
    #[must_use]
    pub fn iter(&self) -> PubSubMessages {
        PubSubMessages::new(self.inner.clone())
    }

    /// The session's events from now on (authenticated, stream opened, lost, reconnecting,
    /// restored, replay fallback, closed …), as an iterator whose `next` waits for the next
    /// one: see [`PubSubSessionEvent`](super::PubSubSessionEvent) for each and what to do about
    /// it. Call it before `open` to see the session start; read it on a thread of its own (or
    /// with `next_timeout` / `try_next` between events). A subscriber more than
    /// [`SESSION_EVENTS_BUFFER`](crate::SESSION_EVENTS_BUFFER) events behind gets `Lagged` and
    /// never slows the session.
    #[must_use]
    pub fn session_events(&self) -> super::PubSubSessionEvents {
        crate::SessionEvents::new(self.inner.session_events())
    }

    /// The asynchronous client underneath, for code that wants to `.await` it (on any executor).
    #[must_use]
    pub fn as_async(&self) -> &AsyncClient {
        &self.inner
    }
}

/// The events of a [`PubSubClient`], each waited for; ends when the client is closed and
/// drained.
pub type PubSubMessages = crate::Received<AsyncClient>;

impl IntoIterator for &PubSubClient {
    type Item = Result<PubSubMessage, Error>;
    type IntoIter = PubSubMessages;

    fn into_iter(self) -> PubSubMessages {
        self.iter()
    }
}

impl IntoIterator for PubSubClient {
    type Item = Result<PubSubMessage, Error>;
    type IntoIter = PubSubMessages;

    fn into_iter(self) -> PubSubMessages {
        PubSubMessages::new(self.inner)
    }
}
