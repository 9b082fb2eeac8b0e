//! The user-facing client: open, subscribe, receive, commit, close.
//!
//! The session lives behind a mutex that is never held across an await. `receive` takes a
//! message out of the session in the caller's own task, with no await between taking and
//! returning it, so dropping a `receive` future never loses a message.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use event_listener::Event as Notify;
use futures_util::stream::Stream;
use sfstream_core::{Committable, Message, ReplayFrom, Session, Stats};
use sfstream_store::StoreError;
use tracing::Instrument;

use crate::session_events::SessionEvents;
use crate::shared::{Shared, State, Status};
use crate::store_writer;
use crate::{ClientBuilder, CloseTimedOut, Error, Runtime, client_common, request, session_task};

mod batch;

/// A Salesforce streaming client on a runtime `R`. Clones share one session, so one task can
/// `close` while another waits in `receive`.
pub struct Client<R: Runtime> {
    shared: Arc<Shared<R>>,
}

impl<R: Runtime> Clone for Client<R> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<R: Runtime> std::fmt::Debug for Client<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("Client")
            .field("status", &st.status)
            .field("client_id", &st.session.client_id())
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Client<R> {
    /// A client whose session is created now, so that channels subscribed before `open` are
    /// the session's own (it checks them and decides where each resumes).
    pub(crate) fn from_builder(b: ClientBuilder<R>) -> Result<Self, Error> {
        let mut session = Session::new(b.config.clone(), b.runtime.now(), b.runtime.wall_clock())?;
        let recording = match &b.record {
            Some(path) => {
                session.record();
                Some(crate::recording::Recording::create(path)?)
            }
            None => None,
        };
        let mut state = State::new(session);
        state.recording = recording;
        Ok(Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                runtime: b.runtime,
                config: b.config,
                store: b.store,
                replay: b.replay,
                driver_wake: Notify::new(),
                client_wake: Notify::new(),
                span: tracing::info_span!("sfstream"),
            }),
        })
    }

    /// Waits until `ready` returns `Some`, re-checking whenever the driver reports progress.
    async fn wait_for<T>(&self, mut ready: impl FnMut(&mut State) -> Option<T>) -> T {
        client_common::wait_until(&self.shared.client_wake, || ready(&mut self.shared.lock())).await
    }

    /// Opens the client: loads stored replay ids, authenticates, handshakes, subscribes what was
    /// subscribed before, and returns once events flow (the first long poll succeeded) and those
    /// subscriptions are confirmed. If one of them failed (a permission, say), that error is
    /// returned: a channel-level error (`channel()` names the channel, `is_fatal()` is false);
    /// the client stays open with the other channels.
    ///
    /// Fails with the authentication or configuration error if those are wrong (`is_fatal()`;
    /// the client is then closed, and later calls return [`Error::ClosedByFailure`] carrying
    /// it), or with a connection-lost error if the server stays unreachable for the connection
    /// timeout (the client then keeps trying in the background).
    pub async fn open(&self) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            match st.status {
                Status::Created => st.status = Status::Opening,
                Status::Closed => return Err(st.closed_error()),
                _ => {
                    return Err(sfstream_core::Error::InvalidOperation(
                        "the client is already open".into(),
                    )
                    .into());
                }
            }
        }
        let loaded = self.load_store().await;
        let (stored, default_id) = match loaded {
            Ok(v) => v,
            Err(e) => {
                let e = Error::from(e);
                let mut st = self.shared.lock();
                st.status = Status::Closed;
                st.closed_without_session(Some(e.clone()));
                st.end_cause = Some(e.clone());
                return Err(e);
            }
        };
        {
            let mut st = self.shared.lock();
            if let Err(e) = self.start_session(&mut st, stored, default_id) {
                // Nothing was started: the client is closed, and `close` returns at once.
                st.status = Status::Closed;
                st.closed_without_session(Some(e.clone()));
                st.end_cause = Some(e.clone());
                return Err(e);
            }
            st.status = Status::Open;
        }
        let writer_shared = self.shared.clone();
        let span = self.shared.span.clone();
        let tx = client_common::spawn_store_writer(
            &self.shared.runtime,
            self.shared.store.clone(),
            span.clone(),
            move |outcome| match outcome {
                Ok(stored) => writer_shared.lock().saved(&stored.channels),
                Err(e) => {
                    writer_shared.lock().errors.push_back(e.into());
                    writer_shared.client_wake.notify(usize::MAX);
                }
            },
        );
        self.shared.lock().store_tx = Some(tx);
        let shared = self.shared.clone();
        self.shared
            .runtime
            .spawn(Box::pin(session_task::run(shared).instrument(span)));
        let result = self.wait_for(|st| st.open_result.clone()).await;
        if result.is_err() {
            let mut st = self.shared.lock();
            if st.ended {
                st.status = Status::Closed;
            }
            return result;
        }
        // Channels subscribed before `open` are live when `open` returns: an event published
        // after it is delivered.
        self.wait_for(|st| client_common::subscriptions_done(&mut st.sub_waiters))
            .await
    }

    /// Gives the session the stored replay ids and opens it; `open` then waits for the
    /// channels subscribed before it.
    fn start_session(
        &self,
        st: &mut State,
        stored: BTreeMap<String, i64>,
        default_id: Option<i64>,
    ) -> Result<(), Error> {
        let now = self.shared.runtime.now();
        st.session.resume_from_store(stored, default_id)?;
        st.session.open(now)?;
        st.opened = true;
        let channels: Vec<String> = st
            .session
            .channels()
            .into_iter()
            .map(str::to_owned)
            .collect();
        for channel in channels {
            st.sub_waiters.insert(channel, None);
        }
        Ok(())
    }

    async fn load_store(&self) -> Result<(BTreeMap<String, i64>, Option<i64>), StoreError> {
        let store = self.shared.store.clone();
        store_writer::on_blocking_pool(&self.shared.runtime, move || {
            store.load().map(|m| (m, store.default_replay_id()))
        })
        .await
    }

    /// Subscribes to a channel and waits for the server's confirmation. Before `open`, the
    /// channel is subscribed when the client opens (and `open` waits for it). A channel with a
    /// stored replay id resumes after it.
    pub async fn subscribe(&self, channel: &str) -> Result<(), Error> {
        self.subscribe_from(channel, None).await
    }

    /// Subscribes with an explicit replay start, overriding the store and the default.
    pub async fn subscribe_from(
        &self,
        channel: &str,
        from: Option<ReplayFrom>,
    ) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            let now = self.shared.runtime.now();
            match st.status {
                Status::Created => {
                    st.session.subscribe(channel, from, now)?;
                    return Ok(());
                }
                Status::Closed => return Err(st.closed_error()),
                Status::Opening | Status::Open => {}
            }
            if !st.opened {
                return Err(Error::NotOpen);
            }
            st.session.subscribe(channel, from, now)?;
            st.sub_waiters.insert(channel.to_owned(), None);
        }
        self.shared.driver_wake.notify(1);
        let channel = channel.to_owned();
        self.wait_for(|st| {
            if matches!(st.sub_waiters.get(&channel), Some(Some(_))) {
                return st.sub_waiters.remove(&channel).flatten();
            }
            None
        })
        .await
    }

    /// Unsubscribes from a channel and waits until the server confirmed it.
    pub async fn unsubscribe(&self, channel: &str) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            let now = self.shared.runtime.now();
            if st.status == Status::Created {
                st.session.unsubscribe(channel, now)?;
                return Ok(());
            }
            if !st.opened {
                return Err(Error::NotOpen);
            }
            st.session.unsubscribe(channel, now)?;
            st.unsub_waiters.insert(channel.to_owned(), false);
        }
        self.shared.driver_wake.notify(1);
        let channel = channel.to_owned();
        self.wait_for(|st| match st.unsub_waiters.get(&channel) {
            Some(true) => st.unsub_waiters.remove(&channel).map(|_| ()),
            _ => None,
        })
        .await;
        Ok(())
    }

    /// The channels the server has confirmed (before `open`: the channels waiting to be
    /// subscribed).
    #[must_use]
    pub fn subscriptions(&self) -> Vec<String> {
        let st = self.shared.lock();
        let channels = if st.opened {
            st.session.subscriptions()
        } else {
            st.session.channels()
        };
        channels.into_iter().map(str::to_owned).collect()
    }

    /// The next message. Messages already received are returned even after the connection
    /// failed or the client closed; then the error, once; then [`Error::Closed`].
    ///
    /// Cancellation-safe: dropping the future never loses a message.
    pub async fn receive(&self) -> Result<Message, Error> {
        client_common::receive(&self.shared.client_wake, || self.try_receive()).await
    }

    /// A message if one waits, without waiting; `None` when none does (and the client is
    /// neither closed nor reporting an error).
    pub fn try_receive(&self) -> Option<Result<Message, Error>> {
        let mut st = self.shared.lock();
        self.try_receive_locked(&mut st)
    }

    fn try_receive_locked(&self, st: &mut State) -> Option<Result<Message, Error>> {
        if let Some(m) = st.session.poll_message() {
            self.after_taking(st);
            return Some(Ok(m));
        }
        if let Some(e) = st.errors.pop_front() {
            return Some(Err(e));
        }
        match st.status {
            Status::Created => Some(Err(Error::NotOpen)),
            Status::Closed => Some(Err(st.closed_error())),
            _ if st.ended => Some(Err(st.closed_error())),
            _ => None,
        }
    }

    /// After messages were taken: wakes the session task if taking them made room for a held
    /// long poll, or committed something (automatic policy) to hand to the store.
    fn after_taking(&self, st: &mut State) {
        let wake = st.session.wants_drive() || (st.session.has_checkpoints() && !st.nudged);
        if wake {
            st.nudged = true;
            self.shared.driver_wake.notify(1);
        }
    }

    /// The messages as a stream; it ends when the client is closed and drained (by the
    /// application, or after a failure: the failure is the last item). Errors (connection
    /// lost, a failed automatic resubscription) are items; the stream goes on after them.
    pub fn stream(&self) -> impl Stream<Item = Result<Message, Error>> + Send + Unpin + 'static {
        client_common::until_closed(self.clone(), |client: Self| async move {
            (client.receive().await, client)
        })
    }

    /// Commits processed messages under the manual policy: a [`Message`] (it and everything
    /// before it on its channel), a [`Batch`](crate::Batch) (for each of its channels, its last
    /// message and everything before), or a prefix of one (`&batch[..=i]`: everything up to
    /// message `i`, per channel). The replay ids go to the store.
    ///
    /// Under [`CommitPolicy::Automatic`](crate::CommitPolicy) every message is committed when
    /// it is taken; this returns an error of kind
    /// [`ErrorKind::AutomaticCommit`](crate::ErrorKind) and commits nothing.
    pub fn commit(&self, processed: &(impl Committable + ?Sized)) -> Result<(), Error> {
        let mut st = self.shared.lock();
        if !st.opened {
            return Err(Error::NotOpen);
        }
        st.session.commit_processed(processed)?;
        if !st.nudged {
            st.nudged = true;
            self.shared.driver_wake.notify(1);
        }
        Ok(())
    }

    /// How many received messages wait for `receive`.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.shared.lock().session.pending()
    }

    /// The seed of the backoff jitter: the one given to the builder, or the one drawn from the
    /// operating system when none was. Give it to [`ClientBuilder::seed`] to repeat a run.
    #[must_use]
    pub fn seed(&self) -> u64 {
        // `ClientBuilder::build` always sets one.
        self.shared.config.seed.unwrap_or_default()
    }

    /// The session's events from now on (authenticated, subscribed, session lost, replay
    /// fallback, re-fetch, connection lost or restored, closed …): see
    /// [`SessionEvent`](crate::SessionEvent) for each and what to do about it. Call it before
    /// `open` to see the session start.
    ///
    /// Any number of subscribers may exist; each reads at its own pace from a buffer of the
    /// last [`SESSION_EVENTS_BUFFER`](crate::SESSION_EVENTS_BUFFER) events and gets
    /// [`SessionEvent::Lagged`](crate::SessionEvent::Lagged) if it falls further behind. A slow
    /// or forgotten subscriber never slows the session or holds more than that buffer. The
    /// stream ends after [`SessionEvent::Closed`](crate::SessionEvent::Closed).
    #[must_use]
    pub fn session_events(&self) -> SessionEvents {
        let st = self.shared.lock();
        st.session_events.0.subscribe()
    }

    /// Counters of the session (handshakes, connects, reconnects, re-fetches, messages …), each
    /// channel's accepted and committed replay ids, and when the last event arrived.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.shared.lock().session.stats()
    }

    /// Whether the client has been closed (or its session ended for good).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        let st = self.shared.lock();
        st.status == Status::Closed || st.ended
    }

    /// Closes the client: cancels the long poll, sends `/meta/disconnect`, and waits until every
    /// checkpoint is in the store. Messages already received stay available to `receive`.
    pub async fn close(&self) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            match st.status {
                Status::Created => {
                    st.status = Status::Closed;
                    st.closed_without_session(None);
                    return Ok(());
                }
                Status::Closed if !st.opened => return Ok(()),
                _ => {}
            }
            let now = self.shared.runtime.now();
            st.session.close(now);
        }
        self.shared.driver_wake.notify(1);
        self.wait_for(|st| st.ended.then_some(())).await;
        // Everything the session committed has been drained by the driver; make it durable.
        {
            let mut st = self.shared.lock();
            request::drain(&self.shared, &mut st);
            st.status = Status::Closed;
        }
        let sender = self.shared.lock().store_tx.take();
        client_common::flush_store(sender).await;
        self.shared.client_wake.notify(usize::MAX);
        let mut st = self.shared.lock();
        match client_common::take_store_error(&mut st.errors, |e| matches!(e, Error::Store(_))) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Closes the client like [`close`](Self::close), but waits no longer than `bound` for the
    /// server's acknowledgement and the store's writes. On time, the result is `close`'s. When
    /// the bound passes first, the client is closed for the application all the same, and the
    /// error ([`Error::CloseTimedOut`], kind
    /// [`ErrorKind::CloseTimedOut`](crate::ErrorKind)) says what was not finished: whether the
    /// session had ended, which committed replay ids were not yet stored (their writes go on in
    /// the background), and how many received messages were not taken. Needs no thread of its
    /// own: the bound is a timer of the runtime.
    pub async fn close_within(&self, bound: std::time::Duration) -> Result<(), Error> {
        client_common::close_within(&self.shared.runtime, bound, self.close(), |bound| {
            self.close_timed_out(bound)
        })
        .await
    }

    /// Closes the client for the application when a bounded close ran out of time, and reports
    /// what was not finished. The session's disconnect and the store writer's writes go on in
    /// the background.
    fn close_timed_out(&self, bound: std::time::Duration) -> Error {
        let report = {
            let mut st = self.shared.lock();
            let disconnected = st.ended;
            if st.opened {
                // What the session committed goes to the writer (and counts as unsaved).
                request::drain(&self.shared, &mut st);
            }
            st.status = Status::Closed;
            // The writer stores what it was given and ends with its last sender.
            st.store_tx = None;
            CloseTimedOut {
                bound,
                disconnected,
                unsaved: st.unsaved.clone(),
                pending: st.session.pending(),
            }
        };
        self.shared.client_wake.notify(usize::MAX);
        tracing::warn!(%report, "close ran out of time");
        Error::CloseTimedOut(Arc::new(report))
    }

    /// Runs `f` with the open client and closes it afterwards, whatever `f` returned.
    pub async fn scope<T>(&self, f: impl AsyncFnOnce(&Client<R>) -> T) -> Result<T, Error> {
        self.open().await?;
        let out = f(self).await;
        self.close().await?;
        Ok(out)
    }
}
