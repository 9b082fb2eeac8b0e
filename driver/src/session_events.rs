//! What happens to a session, for the application: [`SessionEvent`]s, fanned out to every
//! [`SessionEvents`] subscriber through one bounded buffer. The fan-out is generic over the
//! event: the Pub/Sub client's [`PubSubSessionEvent`](crate::pubsub::PubSubSessionEvent)s go
//! through the same one.
//!
//! The session task publishes under the client's lock and never waits for a subscriber: the
//! buffer keeps the last [`SESSION_EVENTS_BUFFER`] events, a subscriber that falls further behind
//! is told how many it missed ([`SessionEvent::Lagged`]) and goes on from the oldest kept, and
//! with no subscriber nothing is kept at all.

use std::collections::VecDeque;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use event_listener::{Event as Notify, EventListener};
use futures_util::Stream;
use sfstream_core::{DisconnectReason, Event, RefetchReason as CoreRefetchReason, ReplayFrom};

use crate::Error;

/// How many session events are kept for subscribers that have not taken them yet. A subscriber
/// further behind gets [`SessionEvent::Lagged`] and continues from the oldest one kept.
pub const SESSION_EVENTS_BUFFER: usize = 256;

/// Something that happened to the client's session: the application's view of its life.
///
/// Take them from [`Client::session_events`](crate::Client::session_events) (a stream; the
/// blocking client: an iterator). Each variant says what the application should do about it;
/// most need nothing, as the client recovers by itself. None carries a secret: errors name
/// what failed, never a token or a password.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A token was obtained (at open, and again whenever the server refused the previous one).
    /// Nothing to do.
    Authenticated {
        /// The instance the session streams from.
        instance_url: String,
        /// The org id, from the token's identity URL.
        org_id: Option<String>,
    },
    /// A Bayeux session was established. `reconnect` is true for every session after the first:
    /// the previous one was lost ([`SessionEvent::SessionLost`]), and every channel subscribes
    /// again from its position. Nothing to do (count it, if you watch reconnects).
    Handshaken {
        /// The Bayeux client id of the new session.
        client_id: String,
        /// Whether an earlier session of this client existed.
        reconnect: bool,
    },
    /// The first long poll of a Bayeux session succeeded: events flow. Nothing to do.
    Connected,
    /// The server confirmed a subscription. Nothing to do.
    Subscribed {
        /// The channel.
        channel: String,
        /// Where its replay started.
        replay_from: ReplayFrom,
    },
    /// A subscription failed for good: no permission, a wrong name, or a rejected replay id with
    /// no fallback. The other channels go on. Fix the channel or the permission; a failed
    /// automatic resubscription is also returned once by `receive`.
    SubscribeFailed {
        /// The channel.
        channel: String,
        /// Why.
        error: Error,
    },
    /// A channel was unsubscribed. Nothing to do.
    Unsubscribed {
        /// The channel.
        channel: String,
    },
    /// The Bayeux session was given up: the server forgot it (`Unknown client`, a server-side
    /// disconnect), its token was refused, or a long poll broke after the server may have handed
    /// it events. A new session follows, and every channel resumes from its position, so with
    /// replay nothing is lost. Nothing to do; on a plain Bayeux server (no replay), events
    /// published until the new session subscribed are missed.
    SessionLost {
        /// What ended it.
        reason: Error,
    },
    /// A request failed; the client tries again after `after` (backing off while failures
    /// repeat). Nothing to do; a reason that keeps coming back may name a setting to fix.
    Reconnecting {
        /// The delay before the next attempt.
        after: Duration,
        /// What failed.
        reason: Error,
    },
    /// The server rejected a channel's replay id (older than its retention, or unknown) and the
    /// configured fallback applies: the channel replays from `using` instead, and the rejected id
    /// is removed from the store.
    ///
    /// With [`ReplayFallback::New`](crate::ReplayFallback::New) (`using` is
    /// [`ReplayFrom::New`]) this is a **gap**: the events after the rejected id that the server
    /// still kept, and every event published before the new subscription, are never delivered.
    /// [`SessionEvent::is_gap`] says so. An application that must not miss events should
    /// reconcile the channel's data from its source (a query) when it sees a gap, or configure
    /// `ReplayFallback::All`, which replays everything retained (duplicates, no gap within the
    /// retention window).
    ReplayFallback {
        /// The channel.
        channel: String,
        /// The rejected id, when known.
        rejected: Option<i64>,
        /// Where the replay starts instead.
        using: ReplayFrom,
        /// The server's error.
        error: Error,
    },
    /// Events of a channel are fetched again by replay, after `from`: a long poll broke after the
    /// server may have handed it events, or events were set aside to keep memory within its
    /// bound. Nothing accepted is lost and nothing already accepted comes twice. Nothing to do;
    /// each re-delivered event counts against Salesforce's daily delivery allocation, so frequent
    /// re-fetches call for a look at the network (broken polls) or a faster consumer
    /// (memory bound).
    Refetch {
        /// The channel.
        channel: String,
        /// Where the replay starts (exclusive): the last event of the channel accepted before.
        from: ReplayFrom,
        /// Why.
        reason: RefetchReason,
    },
    /// The server has been unreachable (or answered only with failures) for the configured
    /// connection timeout. The client keeps trying; `receive` also returns this once as
    /// [`Error::is_connection_lost`]. Alert or wait, as the application's tolerance says;
    /// [`SessionEvent::ConnectionRestored`] follows when it is back.
    ConnectionLost {
        /// How long the server has been unreachable.
        outage: Duration,
    },
    /// The server is reachable again after a [`SessionEvent::ConnectionLost`]. Nothing to do.
    ConnectionRestored,
    /// A problem the session recovered from or worked around: a malformed message, a server
    /// that did not advertise replay, an unexpected reply. Nothing committed was lost. Log it;
    /// a recurring one may be worth a report.
    Problem {
        /// What went wrong.
        error: Error,
    },
    /// The session ended; no more events follow and the stream ends after this one. `error` is
    /// `None` when the application closed the client, otherwise why it ended for good (bad
    /// credentials, bad configuration, a server that said not to come back): `receive` returns
    /// that error too. Fix what it names; the client cannot be opened again (build a new one).
    Closed {
        /// Why the session ended, unless the application closed it.
        error: Option<Error>,
    },
    /// This subscriber fell more than [`SESSION_EVENTS_BUFFER`] events behind: `missed` events
    /// were dropped for it (the session never waits for a subscriber). It continues with the
    /// oldest event still kept. Read [`Client::stats`](crate::Client::stats) for the counters
    /// the missed events would have moved.
    Lagged {
        /// How many events this subscriber missed.
        missed: u64,
    },
}

impl SessionEvent {
    /// Whether this event means events were skipped for good: a replay fallback to
    /// [`ReplayFrom::New`]. See [`SessionEvent::ReplayFallback`].
    #[must_use]
    pub fn is_gap(&self) -> bool {
        matches!(
            self,
            Self::ReplayFallback {
                using: ReplayFrom::New,
                ..
            }
        )
    }

    /// The channel the event is about, if it is about one.
    #[must_use]
    pub fn channel(&self) -> Option<&str> {
        match self {
            Self::Subscribed { channel, .. }
            | Self::SubscribeFailed { channel, .. }
            | Self::Unsubscribed { channel }
            | Self::ReplayFallback { channel, .. }
            | Self::Refetch { channel, .. } => Some(channel),
            _ => None,
        }
    }

    /// The application's event for a session's event; `None` for the ones that stay inside the
    /// client (checkpoints: [`Client::stats`](crate::Client::stats) shows each channel's
    /// committed id). `reconnect`: whether an earlier Bayeux session existed.
    pub(crate) fn from_core(event: &Event, reconnect: bool) -> Option<Self> {
        Some(match event {
            Event::Authenticated {
                instance_url,
                org_id,
            } => Self::Authenticated {
                instance_url: instance_url.clone(),
                org_id: org_id.clone(),
            },
            Event::Handshaken { client_id } => Self::Handshaken {
                client_id: client_id.clone(),
                reconnect,
            },
            Event::Connected => Self::Connected,
            Event::Subscribed {
                channel,
                replay_from,
            } => Self::Subscribed {
                channel: channel.clone(),
                replay_from: *replay_from,
            },
            Event::SubscribeFailed { channel, error } => Self::SubscribeFailed {
                channel: channel.clone(),
                error: error.clone().into(),
            },
            Event::Unsubscribed { channel } => Self::Unsubscribed {
                channel: channel.clone(),
            },
            Event::SessionLost { reason } => Self::SessionLost {
                reason: reason.clone().into(),
            },
            Event::Reconnecting { after, reason } => Self::Reconnecting {
                after: *after,
                reason: reason.clone().into(),
            },
            Event::ReplayFallback {
                channel,
                rejected,
                using,
                error,
            } => Self::ReplayFallback {
                channel: channel.clone(),
                rejected: *rejected,
                using: *using,
                error: error.clone().into(),
            },
            Event::Refetch {
                channel,
                from,
                reason,
            } => Self::Refetch {
                channel: channel.clone(),
                from: *from,
                reason: match reason {
                    CoreRefetchReason::BrokenLongPoll(e) => RefetchReason::BrokenLongPoll {
                        error: e.clone().into(),
                    },
                    CoreRefetchReason::MemoryBound { dropped } => {
                        RefetchReason::MemoryBound { dropped: *dropped }
                    }
                    _ => return None,
                },
            },
            Event::ConnectionRestored => Self::ConnectionRestored,
            Event::Error(sfstream_core::Error::ConnectionLost { outage }) => {
                Self::ConnectionLost { outage: *outage }
            }
            Event::Error(e) => Self::Problem {
                error: e.clone().into(),
            },
            Event::Disconnected(reason) => Self::Closed {
                error: match reason {
                    DisconnectReason::Failed(e) | DisconnectReason::ServerClosed(e) => {
                        Some(e.clone().into())
                    }
                    _ => None,
                },
            },
            _ => return None,
        })
    }
}

/// Why a channel's events are fetched again (see [`SessionEvent::Refetch`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RefetchReason {
    /// A long poll failed after its request may have reached the server; Salesforce hands events
    /// to a long poll once, so the client starts a new Bayeux session and resubscribes every
    /// channel from its last accepted replay id.
    BrokenLongPoll {
        /// How the long poll failed.
        error: Error,
    },
    /// The application fell so far behind that the waiting messages would have passed
    /// `max_pending_bytes`; the events that did not fit were set aside and come again.
    MemoryBound {
        /// How many events of the channel were set aside.
        dropped: u64,
    },
}

/// An event type the fan-out carries: it can say that a subscriber fell behind, and which of
/// its events is the session's last.
pub trait FanOutEvent: Clone + Send + 'static {
    /// The event that tells a subscriber it missed `missed` events.
    #[doc(hidden)]
    fn lagged(missed: u64) -> Self;
    /// Whether this is the session's last event (its stream ends after it).
    #[doc(hidden)]
    fn is_last(&self) -> bool;
}

impl FanOutEvent for SessionEvent {
    fn lagged(missed: u64) -> Self {
        Self::Lagged { missed }
    }

    fn is_last(&self) -> bool {
        matches!(self, Self::Closed { .. })
    }
}

/// The buffer every subscriber reads: the last events, numbered.
struct Buffer<E> {
    events: VecDeque<E>,
    /// The number of `events[0]` (or of the next event, when empty).
    first: u64,
    /// No more events will come.
    ended: bool,
}

impl<E> Buffer<E> {
    fn end(&self) -> u64 {
        self.first + self.events.len() as u64
    }
}

/// The publishing side, shared by the client and its subscribers.
pub(crate) struct Hub<E> {
    buffer: Mutex<Buffer<E>>,
    subscribers: AtomicUsize,
    wake: Notify,
}

impl<E> Default for Hub<E> {
    fn default() -> Self {
        Self {
            buffer: Mutex::new(Buffer {
                events: VecDeque::new(),
                first: 0,
                ended: false,
            }),
            subscribers: AtomicUsize::new(0),
            wake: Notify::new(),
        }
    }
}

impl<E: FanOutEvent> Hub<E> {
    fn lock(&self) -> MutexGuard<'_, Buffer<E>> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether anyone listens: events are built only then.
    pub(crate) fn has_subscribers(&self) -> bool {
        self.subscribers.load(Ordering::Acquire) > 0
    }

    /// Adds an event for every subscriber; drops the oldest beyond the bound.
    pub(crate) fn publish(&self, event: E) {
        {
            let mut b = self.lock();
            if b.ended {
                return;
            }
            let ends = event.is_last();
            if self.has_subscribers() {
                b.events.push_back(event);
                if b.events.len() > SESSION_EVENTS_BUFFER {
                    b.events.pop_front();
                    b.first += 1;
                }
            } else {
                // Nobody to keep it for: a later subscriber starts after it.
                b.first += 1;
            }
            b.ended = ends;
        }
        self.wake.notify(usize::MAX);
    }

    /// No more events: subscribers end once they have read what is kept.
    pub(crate) fn end(&self) {
        self.lock().ended = true;
        self.wake.notify(usize::MAX);
    }

    /// A subscriber that sees the events published from now on.
    pub(crate) fn subscribe(self: &Arc<Self>) -> SessionEvents<E> {
        self.subscribers.fetch_add(1, Ordering::AcqRel);
        let next = self.lock().end();
        SessionEvents {
            hub: self.clone(),
            next,
            listener: None,
        }
    }
}

/// Ends the subscribers' streams when the client is gone (every clone and task dropped).
pub(crate) struct Publisher<E: FanOutEvent>(pub(crate) Arc<Hub<E>>);

impl<E: FanOutEvent> Default for Publisher<E> {
    fn default() -> Self {
        Self(Arc::new(Hub::default()))
    }
}

impl<E: FanOutEvent> Drop for Publisher<E> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The session events of a client, from when this was created (see [`SessionEvent`]; for the
/// Pub/Sub client, `E` is [`PubSubSessionEvent`](crate::pubsub::PubSubSessionEvent)).
///
/// A [`Stream`]; it ends after the session's `Closed` event (or once the client is dropped).
/// Each subscriber reads at its own pace from a buffer of the last [`SESSION_EVENTS_BUFFER`]
/// events; one that falls further behind gets a `Lagged` event and never slows the session.
/// Dropping it unsubscribes.
pub struct SessionEvents<E: FanOutEvent = SessionEvent> {
    hub: Arc<Hub<E>>,
    next: u64,
    listener: Option<EventListener>,
}

impl<E: FanOutEvent> std::fmt::Debug for SessionEvents<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionEvents")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// What a subscriber found in the buffer.
enum Read<E> {
    Event(E),
    Ended,
    Nothing,
}

impl<E: FanOutEvent> SessionEvents<E> {
    fn read(&mut self) -> Read<E> {
        let b = self.hub.lock();
        if self.next < b.first {
            let missed = b.first - self.next;
            self.next = b.first;
            return Read::Event(E::lagged(missed));
        }
        if self.next < b.end() {
            let i = usize::try_from(self.next - b.first).unwrap_or(usize::MAX);
            if let Some(event) = b.events.get(i) {
                self.next += 1;
                return Read::Event(event.clone());
            }
        }
        if b.ended { Read::Ended } else { Read::Nothing }
    }

    /// The next event, waiting for it; `None` once the events ended (as `StreamExt::next`,
    /// without the import).
    pub async fn recv(&mut self) -> Option<E> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next event if one waits, without waiting; `None` when none does (or the stream
    /// ended).
    pub fn try_next(&mut self) -> Option<E> {
        match self.read() {
            Read::Event(e) => Some(e),
            Read::Ended | Read::Nothing => None,
        }
    }

    /// Whether the stream has ended and every event was read.
    #[must_use]
    pub fn is_ended(&self) -> bool {
        let b = self.hub.lock();
        b.ended && self.next >= b.end()
    }
}

impl<E: FanOutEvent> Stream for SessionEvents<E> {
    type Item = E;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        loop {
            match self.read() {
                Read::Event(e) => {
                    self.listener = None;
                    return Poll::Ready(Some(e));
                }
                Read::Ended => {
                    self.listener = None;
                    return Poll::Ready(None);
                }
                Read::Nothing => {}
            }
            match &mut self.listener {
                // Registered before reading again, so no publish in between is missed.
                None => self.listener = Some(self.hub.wake.listen()),
                Some(listener) => match Pin::new(listener).poll(cx) {
                    Poll::Ready(()) => self.listener = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl<E: FanOutEvent> Drop for SessionEvents<E> {
    fn drop(&mut self) {
        self.hub.subscribers.fetch_sub(1, Ordering::AcqRel);
    }
}
