//! The user's API of the Pub/Sub client: open, subscribe, receive, commit, publish, close.
//!
//! As in the Streaming API's client, the session lives behind a mutex never held across an
//! await, and `receive` takes an event out of the session in the caller's own task with no
//! await between taking and returning it, so dropping a `receive` future never loses an event.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use event_listener::Event as Notify;
use futures_util::stream::Stream;
use sfstream_core::pubsub::proto::TopicInfo;
use sfstream_core::pubsub::{
    PubSubMessage, PubSubReplayFrom, PubSubSession, PubSubStats, PublishEvent, PublishId,
    PublishOutcome, ReplayId,
};
use sfstream_store::StoreError;
use tracing::Instrument;

use super::builder::PubSubClientBuilder;
use super::drive;
use super::session_events::PubSubSessionEvent;
use super::shared::{PubSubShared, PubSubState, Slot};
use super::{Error, Http2Runtime};
use crate::shared::Status;
use crate::{CloseTimedOut, SessionEvents, client_common, store_writer};

/// A Salesforce Pub/Sub API client on a runtime `R`. Clones share one session, so one task can
/// `close` while another waits in `receive`.
pub struct PubSubClient<R: Http2Runtime> {
    shared: Arc<PubSubShared<R>>,
}

impl<R: Http2Runtime> Clone for PubSubClient<R> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<R: Http2Runtime> std::fmt::Debug for PubSubClient<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("PubSubClient")
            .field("status", &st.status)
            .field("session", &st.session)
            .finish_non_exhaustive()
    }
}

type Stored = (BTreeMap<String, Vec<u8>>, Option<i64>);

impl<R: Http2Runtime> PubSubClient<R> {
    pub(crate) fn from_builder(b: PubSubClientBuilder<R>) -> Result<Self, Error> {
        let seed = b.config.seed.unwrap_or_default();
        let session = PubSubSession::new(b.config, b.runtime.now(), b.runtime.wall_clock())?;
        Ok(Self {
            shared: Arc::new(PubSubShared {
                state: Mutex::new(PubSubState::new(session)),
                runtime: b.runtime,
                store: b.store,
                driver_wake: Notify::new(),
                client_wake: Notify::new(),
                span: tracing::info_span!("sfstream_pubsub"),
                seed,
            }),
        })
    }

    /// Waits until `ready` returns `Some`, re-checking whenever the driver reports progress.
    async fn wait_for<T>(&self, mut ready: impl FnMut(&mut PubSubState) -> Option<T>) -> T {
        client_common::wait_until(&self.shared.client_wake, || ready(&mut self.shared.lock())).await
    }

    /// Runs a command on the session and carries out what it asked for.
    fn command<T>(
        &self,
        f: impl FnOnce(&mut PubSubState, std::time::Instant) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let out = {
            let mut st = self.shared.lock();
            let now = self.shared.runtime.now();
            let out = f(&mut st, now)?;
            drive::drain(&self.shared, &mut st);
            out
        };
        self.shared.driver_wake.notify(1);
        Ok(out)
    }

    /// Opens the client: reads the store, authenticates, opens a stream per topic subscribed
    /// before, and returns once the server accepted them (or the first token, without topics).
    /// A topic the server refused (missing, not readable) is that error; the others go on.
    ///
    /// # Errors
    /// The authentication or configuration error (the client is then closed), a store error,
    /// or a refused topic.
    pub async fn open(&self) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            match st.status {
                Status::Created => st.status = Status::Opening,
                Status::Closed => return Err(st.ended_error()),
                _ => {
                    return Err(Error::Session(
                        sfstream_core::pubsub::PubSubError::InvalidOperation(
                            "the client is already open".into(),
                        ),
                    ));
                }
            }
        }
        let (stored, constant) = match self.load_store().await {
            Ok(v) => v,
            Err(e) => {
                let e = Error::from(e);
                let mut st = self.shared.lock();
                st.status = Status::Closed;
                st.closed_without_session(Some(e.clone()));
                return Err(e);
            }
        };
        let tx = self.spawn_store_writer();
        let started = self.command(|st, now| {
            st.stored = stored
                .into_iter()
                .map(|(topic, id)| (topic, ReplayId::from(id)))
                .collect();
            st.store_start = constant.and_then(PubSubReplayFrom::from_streaming_constant);
            for (topic, from) in std::mem::take(&mut st.before_open) {
                let from = st.start_of(&topic, from);
                st.session.subscribe(&topic, from, now)?;
                st.sub_waiters.insert(topic, None);
            }
            st.session.open(now)?;
            st.status = Status::Open;
            st.store_tx = Some(tx);
            Ok(())
        });
        if let Err(e) = started {
            let mut st = self.shared.lock();
            st.status = Status::Closed;
            st.sub_waiters.clear();
            st.closed_without_session(Some(e.clone()));
            return Err(e);
        }
        let span = self.shared.span.clone();
        self.shared
            .runtime
            .spawn(Box::pin(drive::run(self.shared.clone()).instrument(span)));
        let opened = self
            .wait_for(|st| {
                if let Some(Err(e)) = &st.open_result {
                    return Some(Err(e.clone()));
                }
                st.authenticated.then_some(Ok(()))
            })
            .await;
        if opened.is_err() {
            let mut st = self.shared.lock();
            if st.ended {
                st.status = Status::Closed;
            }
            return opened;
        }
        self.wait_for(|st| client_common::subscriptions_done(&mut st.sub_waiters))
            .await
    }

    /// Starts the store writer; the sender its checkpoints go to.
    fn spawn_store_writer(&self) -> futures_channel::mpsc::UnboundedSender<store_writer::StoreOp> {
        let writer_shared = self.shared.clone();
        client_common::spawn_store_writer(
            &self.shared.runtime,
            self.shared.store.clone(),
            self.shared.span.clone(),
            move |outcome| match outcome {
                Ok(stored) => writer_shared.lock().saved(&stored.topics),
                Err(e) => {
                    writer_shared.lock().errors.push_back(e.into());
                    writer_shared.client_wake.notify(usize::MAX);
                }
            },
        )
    }

    async fn load_store(&self) -> Result<Stored, StoreError> {
        let store = self.shared.store.clone();
        store_writer::on_blocking_pool(&self.shared.runtime, move || {
            store.load_topics().map(|m| (m, store.default_replay_id()))
        })
        .await
    }

    /// Subscribes to a topic (`/event/Order__e`, `/data/AccountChangeEvent`, …) and waits until
    /// the server accepted its stream. Before `open`, the topic is subscribed when the client
    /// opens (and `open` waits for it). A topic with a stored replay id resumes after it.
    ///
    /// # Errors
    /// A name that is no topic, a topic already subscribed, the server's refusal.
    pub async fn subscribe(&self, topic: &str) -> Result<(), Error> {
        self.subscribe_from(topic, None).await
    }

    /// Subscribes with an explicit start, overriding the store and the configured start.
    ///
    /// # Errors
    /// As [`PubSubClient::subscribe`].
    pub async fn subscribe_from(
        &self,
        topic: &str,
        from: Option<PubSubReplayFrom>,
    ) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            match st.status {
                Status::Created => {
                    if st.before_open.iter().any(|(t, _)| t == topic) {
                        return Err(Error::Session(
                            sfstream_core::pubsub::PubSubError::InvalidOperation(format!(
                                "already subscribed to {topic}"
                            )),
                        ));
                    }
                    st.before_open.push((topic.to_owned(), from));
                    return Ok(());
                }
                Status::Closed => return Err(st.ended_error()),
                Status::Opening | Status::Open => {}
            }
        }
        self.command(|st, now| {
            let from = st.start_of(topic, from);
            st.session.subscribe(topic, from, now)?;
            st.sub_waiters.insert(topic.to_owned(), None);
            Ok(())
        })?;
        let topic = topic.to_owned();
        self.wait_for(|st| match st.sub_waiters.get(&topic) {
            Some(Some(_)) => st.sub_waiters.remove(&topic).flatten(),
            _ => None,
        })
        .await
    }

    /// Unsubscribes from a topic: its stream is cancelled. Its events already received stay
    /// available to `receive`.
    ///
    /// # Errors
    /// A topic not subscribed.
    pub fn unsubscribe(&self, topic: &str) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            if st.status == Status::Created {
                let before = st.before_open.len();
                st.before_open.retain(|(t, _)| t != topic);
                if st.before_open.len() == before {
                    return Err(Error::Session(
                        sfstream_core::pubsub::PubSubError::InvalidOperation(format!(
                            "not subscribed to {topic}"
                        )),
                    ));
                }
                return Ok(());
            }
        }
        self.command(|st, now| Ok(st.session.unsubscribe(topic, now)?))
    }

    /// The topics subscribed (before `open`: those waiting to be).
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        let st = self.shared.lock();
        if st.status == Status::Created {
            return st.before_open.iter().map(|(t, _)| t.clone()).collect();
        }
        st.session.topics().into_iter().map(str::to_owned).collect()
    }

    /// The next event. Events already received are returned even after the client closed;
    /// then an error the session reported, once; then [`Error::Closed`] (closed by the
    /// application) or [`Error::ClosedByFailure`] (carrying the failure).
    ///
    /// Cancellation-safe: dropping the future never loses an event.
    ///
    /// # Errors
    /// [`Error::Closed`] when closed and drained; a failure of a topic or the session.
    pub async fn receive(&self) -> Result<PubSubMessage, Error> {
        client_common::receive(&self.shared.client_wake, || self.try_receive()).await
    }

    /// An event if one waits, without waiting; `None` when none does (and the client is
    /// neither closed nor reporting an error).
    pub fn try_receive(&self) -> Option<Result<PubSubMessage, Error>> {
        let mut st = self.shared.lock();
        if let Some(m) = st.session.poll_message() {
            // Taking an event makes room: the session may ask for more at once.
            drive::drain(&self.shared, &mut st);
            if st.session.wants_drive() {
                self.shared.driver_wake.notify(1);
            }
            return Some(Ok(m));
        }
        if let Some(e) = st.errors.pop_front() {
            return Some(Err(e));
        }
        match st.status {
            Status::Created => Some(Err(Error::NotOpen)),
            Status::Closed => Some(Err(st.ended_error())),
            _ if st.ended => Some(Err(st.ended_error())),
            _ => None,
        }
    }

    /// The events as a stream; it ends when the client is closed and drained. Errors are items;
    /// the stream goes on after them.
    pub fn stream(
        &self,
    ) -> impl Stream<Item = Result<PubSubMessage, Error>> + Send + Unpin + 'static {
        client_common::until_closed(self.clone(), |client: Self| async move {
            (client.receive().await, client)
        })
    }

    /// Commits an event under the manual policy: it and everything before it on its topic are
    /// processed, and its replay id goes to the store. Returns whether the committed position
    /// moved.
    ///
    /// # Errors
    /// [`Error::NotOpen`]; a topic no longer subscribed.
    pub fn commit(&self, message: &PubSubMessage) -> Result<bool, Error> {
        if self.shared.lock().status == Status::Created {
            return Err(Error::NotOpen);
        }
        self.command(|st, _| Ok(st.session.commit(message)?))
    }

    /// Publishes events to a topic (`Publish` calls, up to 200 events and 3 MiB each) and waits
    /// for one outcome per event, in the order given: its replay id, or why it was refused.
    ///
    /// # Errors
    /// [`Error::NotOpen`]; the publish failed as a whole (the topic cannot be published to, the
    /// call failed: whether the server took its events is then unknown).
    pub async fn publish(
        &self,
        topic: &str,
        events: Vec<PublishEvent>,
    ) -> Result<Vec<PublishOutcome>, Error> {
        self.publish_via(topic, events, false).await
    }

    /// [`PubSubClient::publish`] on the topic's `PublishStream`, kept open between calls.
    ///
    /// # Errors
    /// As [`PubSubClient::publish`].
    pub async fn publish_on_stream(
        &self,
        topic: &str,
        events: Vec<PublishEvent>,
    ) -> Result<Vec<PublishOutcome>, Error> {
        self.publish_via(topic, events, true).await
    }

    async fn publish_via(
        &self,
        topic: &str,
        events: Vec<PublishEvent>,
        on_stream: bool,
    ) -> Result<Vec<PublishOutcome>, Error> {
        self.check_open()?;
        let id: PublishId = self.command(|st, now| {
            let id = if on_stream {
                st.session.publish_on_stream(topic, events, now)?
            } else {
                st.session.publish(topic, events, now)?
            };
            st.publishes.entry(id).or_insert(None);
            Ok(id)
        })?;
        // The outcome may have come during the command's drain: the slot was made first.
        self.wait_for(|st| take_done(&mut st.publishes, &id)).await
    }

    /// A topic's information (`GetTopic`): whether the user may publish and subscribe, and its
    /// current schema id.
    ///
    /// # Errors
    /// [`Error::NotOpen`]; the call failed.
    pub async fn get_topic(&self, topic: &str) -> Result<TopicInfo, Error> {
        self.check_open()?;
        self.command(|st, now| {
            st.topic_infos.entry(topic.to_owned()).or_insert(None);
            Ok(st.session.get_topic(topic, now)?)
        })?;
        let topic = topic.to_owned();
        self.wait_for(|st| take_done(&mut st.topic_infos, &topic))
            .await
    }

    fn check_open(&self) -> Result<(), Error> {
        let st = self.shared.lock();
        match st.status {
            Status::Created => Err(Error::NotOpen),
            Status::Closed => Err(st.ended_error()),
            _ if st.ended => Err(st.ended_error()),
            _ => Ok(()),
        }
    }

    /// The session's events from now on (authenticated, stream opened, lost, reconnecting,
    /// restored, replay fallback, closed …): see [`PubSubSessionEvent`] for each and what to do
    /// about it. Call it before `open` to see the session start.
    ///
    /// Any number of subscribers may exist; each reads at its own pace from a buffer of the
    /// last [`SESSION_EVENTS_BUFFER`](crate::SESSION_EVENTS_BUFFER) events and gets
    /// [`PubSubSessionEvent::Lagged`] if it falls further behind. A slow or forgotten
    /// subscriber never slows the session or holds more than that buffer. The stream ends after
    /// [`PubSubSessionEvent::Closed`].
    #[must_use]
    pub fn session_events(&self) -> SessionEvents<PubSubSessionEvent> {
        self.shared.lock().session_events.0.subscribe()
    }

    /// How many received events wait for `receive`.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.shared.lock().session.pending()
    }

    /// At most how many events a topic's open stream may still bring (requested and not yet
    /// received); `None` without an open stream.
    #[must_use]
    pub fn outstanding(&self, topic: &str) -> Option<u32> {
        self.shared.lock().session.outstanding(topic)
    }

    /// A topic's committed position (what the store gets).
    #[must_use]
    pub fn committed(&self, topic: &str) -> Option<ReplayId> {
        self.shared.lock().session.committed(topic).cloned()
    }

    /// Counters of the session (streams opened and accepted, reconnects, fetch requests,
    /// keepalives, events, publishes …), each topic's accepted and committed replay ids, and
    /// when the last event arrived.
    #[must_use]
    pub fn stats(&self) -> PubSubStats {
        self.shared.lock().session.stats()
    }

    /// The seed of the backoff jitter and generated ids.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// Whether the client has been closed (or its session ended for good).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        let st = self.shared.lock();
        st.status == Status::Closed || st.ended
    }

    /// Closes the client: cancels every call and waits until every checkpoint is in the store.
    /// Events already received stay available to `receive`.
    ///
    /// # Errors
    /// A store error that happened while the client ran.
    pub async fn close(&self) -> Result<(), Error> {
        {
            let mut st = self.shared.lock();
            if st.status == Status::Created {
                st.status = Status::Closed;
                st.closed_without_session(None);
                return Ok(());
            }
            if st.status == Status::Closed && st.store_tx.is_none() {
                return Ok(());
            }
            let now = self.shared.runtime.now();
            st.session.close(now);
            drive::drain(&self.shared, &mut st);
            st.status = Status::Closed;
        }
        self.shared.driver_wake.notify(1);
        self.shared.client_wake.notify(usize::MAX);
        let sender = self.shared.lock().store_tx.take();
        client_common::flush_store(sender).await;
        let mut st = self.shared.lock();
        match client_common::take_store_error(&mut st.errors, |e| matches!(e, Error::Store(_))) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Runs `f` with the open client and closes it afterwards, whatever `f` returned.
    ///
    /// # Errors
    /// `open`'s error (then `f` is not run), or `close`'s.
    pub async fn scope<T>(&self, f: impl AsyncFnOnce(&PubSubClient<R>) -> T) -> Result<T, Error> {
        self.open().await?;
        let out = f(self).await;
        self.close().await?;
        Ok(out)
    }

    /// Closes the client like [`close`](Self::close), but waits no longer than `bound` for the
    /// store's writes. On time, the result is `close`'s. When the bound passes first, the client
    /// is closed for the application all the same, and the error ([`Error::CloseTimedOut`],
    /// kind [`ErrorKind::CloseTimedOut`](crate::ErrorKind)) says what was not finished: which
    /// committed replay ids were not yet stored (their writes go on in the background), and how
    /// many received events were not taken. Needs no thread of its own: the bound is a timer of
    /// the runtime.
    ///
    /// # Errors
    /// [`Error::CloseTimedOut`]; otherwise as [`close`](Self::close).
    pub async fn close_within(&self, bound: std::time::Duration) -> Result<(), Error> {
        client_common::close_within(&self.shared.runtime, bound, self.close(), |bound| {
            self.close_timed_out(bound)
        })
        .await
    }

    /// Closes the client for the application when a bounded close ran out of time, and reports
    /// what was not finished. The store writer's writes go on in the background.
    fn close_timed_out(&self, bound: std::time::Duration) -> Error {
        let report = {
            let mut st = self.shared.lock();
            if st.status != Status::Closed {
                let now = self.shared.runtime.now();
                st.session.close(now);
                drive::drain(&self.shared, &mut st);
                st.status = Status::Closed;
            }
            // The writer stores what it was given and ends with its last sender.
            st.store_tx = None;
            CloseTimedOut {
                bound,
                disconnected: st.ended,
                unsaved: st.unsaved.clone(),
                pending: st.session.pending(),
            }
        };
        self.shared.driver_wake.notify(1);
        self.shared.client_wake.notify(usize::MAX);
        tracing::warn!(%report, "close ran out of time");
        Error::CloseTimedOut(Arc::new(report))
    }
}

/// Takes a waiter's result once it is there.
fn take_done<K: Ord, T>(slots: &mut BTreeMap<K, Slot<T>>, key: &K) -> Option<Result<T, Error>> {
    match slots.get(key) {
        Some(Some(_)) => slots.remove(key).flatten(),
        Some(None) => None,
        None => Some(Err(Error::Closed)),
    }
}
