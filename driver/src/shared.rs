//! What the client and its session task share: the session, the client's status, the results
//! waiting callers pick up, and the requests in flight.
//!
//! The session's events are dispatched here ([`State::on_event`]), the one place that turns them
//! into waiters' results, errors for `receive`, and store operations. The lock is never held
//! across an await.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use event_listener::Event as Notify;
use futures_channel::mpsc;
use futures_util::future::AbortHandle;
use sfstream_core::{
    Config, DisconnectReason, Error as CoreError, Event, RefetchReason, RequestId, Session,
    Transmit,
};
use sfstream_store::ReplayStore;

use crate::session_events::{Publisher, SessionEvent};
use crate::store_writer::StoreOp;
use crate::{Error, Runtime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Created,
    Opening,
    Open,
    Closed,
}

/// What the client and its session task share.
pub(crate) struct State {
    /// Created with the client; channels subscribed before `open` are its own.
    pub(crate) session: Session,
    /// Whether the session was opened: the session task runs (until it has ended).
    pub(crate) opened: bool,
    pub(crate) status: Status,
    pub(crate) errors: VecDeque<Error>,
    pub(crate) sub_waiters: BTreeMap<String, Option<Result<(), Error>>>,
    pub(crate) unsub_waiters: BTreeMap<String, bool>,
    pub(crate) open_result: Option<Result<(), Error>>,
    pub(crate) aborts: BTreeMap<RequestId, AbortHandle>,
    /// Checkpoints on their way to the store writer; `None` before `open` and after `close`.
    pub(crate) store_tx: Option<mpsc::UnboundedSender<StoreOp>>,
    pub(crate) nudged: bool,
    pub(crate) ended: bool,
    /// The file the session is recorded to (the `record` setting).
    pub(crate) recording: Option<crate::recording::Recording>,
    /// Where the application's session events go ([`crate::Client::session_events`]).
    pub(crate) session_events: Publisher<SessionEvent>,
    /// Whether a Bayeux session was established before: a later one is a reconnect.
    handshaken: bool,
    /// The failure the client stopped with, for the closed errors of later calls.
    pub(crate) end_cause: Option<Error>,
    /// Replay ids handed to the store writer and not yet confirmed stored, by channel.
    pub(crate) unsaved: BTreeMap<String, i64>,
}

/// What one drain of the session's outputs leaves for the caller to do.
pub(crate) struct Outputs {
    /// The requests to send.
    pub(crate) transmits: Vec<Transmit>,
    /// The events, for [`State::on_event`] once the requests are on their way.
    pub(crate) events: Vec<Event>,
}

impl State {
    pub(crate) fn new(session: Session) -> Self {
        Self {
            session,
            opened: false,
            status: Status::Created,
            errors: VecDeque::new(),
            sub_waiters: BTreeMap::new(),
            unsub_waiters: BTreeMap::new(),
            open_result: None,
            aborts: BTreeMap::new(),
            store_tx: None,
            nudged: false,
            ended: false,
            recording: None,
            session_events: Publisher::default(),
            handshaken: false,
            end_cause: None,
            unsaved: BTreeMap::new(),
        }
    }

    /// The error of a call on a stopped client: closed by the application, or by the failure
    /// it stopped with.
    pub(crate) fn closed_error(&self) -> Error {
        Error::closed(self.end_cause.as_ref())
    }

    /// The store writer stored these ids: they are no longer unsaved (unless a newer one of the
    /// channel is on its way).
    pub(crate) fn saved(&mut self, saved: &[(String, i64)]) {
        for (channel, id) in saved {
            if self
                .unsaved
                .get(channel)
                .is_some_and(|waiting| waiting <= id)
            {
                self.unsaved.remove(channel);
            }
        }
    }

    /// Ends the session events of a client closed without a session (never opened, or its
    /// open failed before the session started).
    pub(crate) fn closed_without_session(&self, error: Option<Error>) {
        self.session_events
            .0
            .publish(SessionEvent::Closed { error });
    }

    /// Takes every output of the session and aborts the requests it cancelled.
    pub(crate) fn take_outputs(&mut self) -> Outputs {
        self.nudged = false;
        let session = &mut self.session;
        let mut transmits = Vec::new();
        while let Some(t) = session.poll_transmit() {
            transmits.push(t);
        }
        let mut cancels = Vec::new();
        while let Some(id) = session.poll_cancel() {
            cancels.push(id);
        }
        let mut events = Vec::new();
        while let Some(e) = session.poll_event() {
            events.push(e);
        }
        for id in cancels {
            if let Some(handle) = self.aborts.remove(&id) {
                handle.abort();
            }
        }
        if let Some(recording) = &mut self.recording {
            recording.append(&self.session.take_recording());
        }
        Outputs { transmits, events }
    }

    fn store(&mut self, op: StoreOp) {
        let Some(tx) = &self.store_tx else {
            return;
        };
        match &op {
            StoreOp::Save(channel, id) => {
                self.unsaved.insert(channel.clone(), *id);
            }
            StoreOp::Remove(channel) => {
                self.unsaved.remove(channel);
            }
            StoreOp::SaveTopic(..) | StoreOp::RemoveTopic(_) | StoreOp::Flush(_) => {}
        }
        let _ = tx.unbounded_send(op);
    }

    /// Acts on one event of the session.
    pub(crate) fn on_event(&mut self, event: Event) {
        let hub = &self.session_events.0;
        if hub.has_subscribers()
            && let Some(e) = SessionEvent::from_core(&event, self.handshaken)
        {
            hub.publish(e);
        }
        if matches!(event, Event::Handshaken { .. }) {
            self.handshaken = true;
        } else if matches!(event, Event::Disconnected(_)) {
            hub.end();
        }
        match event {
            Event::Checkpoint { channel, replay_id } => {
                tracing::trace!(%channel, replay_id, "checkpoint");
                self.store(StoreOp::Save(channel, replay_id));
            }
            Event::ReplayFallback {
                channel,
                rejected,
                using,
                error,
            } => {
                tracing::warn!(%channel, ?rejected, ?using, %error, "stored replay id rejected; using the fallback");
                self.store(StoreOp::Remove(channel));
            }
            Event::Authenticated {
                instance_url,
                org_id,
            } => {
                tracing::info!(%instance_url, org_id = org_id.as_deref().unwrap_or(""), "authenticated");
            }
            Event::Handshaken { client_id } => {
                tracing::info!(%client_id, "handshake done");
            }
            Event::Connected => {
                tracing::info!("connected");
                if self.open_result.is_none() {
                    self.open_result = Some(Ok(()));
                }
            }
            Event::Subscribed {
                channel,
                replay_from,
            } => {
                tracing::info!(%channel, ?replay_from, "subscribed");
                if let Some(slot) = self.sub_waiters.get_mut(&channel) {
                    *slot = Some(Ok(()));
                }
            }
            Event::SubscribeFailed { channel, error } => {
                tracing::error!(%channel, %error, "subscription failed");
                match self.sub_waiters.get_mut(&channel) {
                    Some(slot) => *slot = Some(Err(error.into())),
                    // An automatic resubscription failed: nobody waits, so receive() reports it.
                    None => self.errors.push_back(error.into()),
                }
            }
            Event::Unsubscribed { channel } => {
                tracing::info!(%channel, "unsubscribed");
                if let Some(done) = self.unsub_waiters.get_mut(&channel) {
                    *done = true;
                }
            }
            Event::Reconnecting { after, reason } => {
                // `kind` and `transport` are stable names, for code that reads the log.
                let transport = reason.transport().map(|t| t.kind().as_str());
                tracing::warn!(after_ms = after.as_millis() as u64, %reason, kind = reason.kind().as_str(), transport, "retrying");
            }
            Event::Refetch {
                channel,
                from,
                reason,
            } => match reason {
                RefetchReason::BrokenLongPoll(error) => tracing::warn!(
                    %channel, ?from, %error,
                    "a long poll broke after the server may have handed it events: fetching the \
                     channel again from its last accepted event on a new session"
                ),
                RefetchReason::MemoryBound { dropped } => tracing::info!(
                    %channel, ?from, dropped,
                    "fetching events set aside to keep memory bounded again"
                ),
                other => tracing::info!(%channel, ?from, ?other, "fetching events again"),
            },
            Event::ConnectionRestored => tracing::info!("connection restored"),
            Event::Error(error) => {
                tracing::warn!(%error, "stream problem");
                if matches!(error, CoreError::ConnectionLost { .. }) {
                    if self.open_result.is_none() {
                        self.open_result = Some(Err(error.clone().into()));
                    }
                    self.errors.push_back(error.into());
                }
            }
            Event::Disconnected(reason) => {
                tracing::info!(?reason, "session ended");
                self.ended = true;
                let error = match reason {
                    DisconnectReason::Failed(e) | DisconnectReason::ServerClosed(e) => Some(e),
                    DisconnectReason::Closed => None,
                    _ => None,
                };
                let cause: Option<Error> = error.map(Into::into);
                if self.open_result.is_none() {
                    self.open_result = Some(Err(cause.clone().unwrap_or(Error::Closed)));
                } else if let Some(e) = &cause {
                    self.errors.push_back(e.clone());
                }
                if cause.is_some() {
                    self.end_cause.clone_from(&cause);
                }
                let closed = self.closed_error();
                for slot in self.sub_waiters.values_mut() {
                    if slot.is_none() {
                        *slot = Some(Err(closed.clone()));
                    }
                }
                for done in self.unsub_waiters.values_mut() {
                    *done = true;
                }
            }
            other => tracing::debug!(?other, "event"),
        }
    }
}

pub(crate) struct Shared<R: Runtime> {
    pub(crate) state: Mutex<State>,
    pub(crate) runtime: R,
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn ReplayStore>,
    /// Serves the requests in place of the runtime's HTTP ([`crate::testing`]).
    pub(crate) replay: Option<crate::testing::Replay>,
    /// Wakes the session task: a command was given, a response arrived, room was made.
    pub(crate) driver_wake: Notify,
    /// Wakes callers waiting in `receive`, `open`, `subscribe`, `close`.
    pub(crate) client_wake: Notify,
    /// The span every event of this client is logged in. The Bayeux client id is a field of the
    /// handshake event, not of the span: recording it on each new handshake would append a
    /// field per handshake to every later line.
    pub(crate) span: tracing::Span,
}

impl<R: Runtime> Shared<R> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as consistent as the session's own
        // methods left it; keep going rather than poison every later call.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
