//! What the Pub/Sub client and its tasks share: the session, the calls in flight, the results
//! waiting callers pick up. [`PubSubState::on_event`] is the one place the session's events
//! become waiters' results, errors for `receive`, and store operations. The lock is never held
//! across an await.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use event_listener::Event as Notify;
use futures_channel::mpsc;
use futures_util::future::AbortHandle;
use sfstream_core::RequestId;
use sfstream_core::pubsub::proto::TopicInfo;
use sfstream_core::pubsub::{
    CallId, PubSubDisconnectReason, PubSubEvent, PubSubReplayFrom, PubSubSession, PublishId,
    PublishOutcome, ReplayId,
};
use sfstream_store::ReplayStore;

use super::Error;
use super::session_events::{PubSubSessionEvent, StreamTracker};
use super::transport::Http2Runtime;
use crate::session_events::Publisher;
use crate::shared::Status;
use crate::store_writer::StoreOp;

/// One gRPC call in flight: its request body, and the task that reads its response.
pub(crate) struct CallHandle {
    /// `None` once the call is half-closed.
    pub(crate) body: Option<mpsc::UnboundedSender<Bytes>>,
    pub(crate) task: AbortHandle,
}

/// What a waiting caller will find: `None` while it waits.
pub(crate) type Slot<T> = Option<Result<T, Error>>;

pub(crate) struct PubSubState {
    pub(crate) session: PubSubSession,
    pub(crate) status: Status,
    /// The session has ended (`Disconnected`).
    pub(crate) ended: bool,
    /// The failure it ended with, if it failed.
    pub(crate) failure: Option<Error>,
    pub(crate) authenticated: bool,
    pub(crate) calls: BTreeMap<CallId, CallHandle>,
    pub(crate) tokens: BTreeMap<RequestId, AbortHandle>,
    pub(crate) errors: VecDeque<Error>,
    /// Where the application's session events go ([`PubSubClient::session_events`]).
    ///
    /// [`PubSubClient::session_events`]: super::PubSubClient::session_events
    pub(crate) session_events: Publisher<PubSubSessionEvent>,
    /// Each topic's stream, up or down, for the session events.
    streams: StreamTracker,
    pub(crate) open_result: Slot<()>,
    pub(crate) sub_waiters: BTreeMap<String, Slot<()>>,
    pub(crate) publishes: BTreeMap<PublishId, Slot<Vec<PublishOutcome>>>,
    pub(crate) topic_infos: BTreeMap<String, Slot<TopicInfo>>,
    /// Topics subscribed before `open`, with their explicit start: subscribed to the session
    /// at `open`, once the store has said where they stopped.
    pub(crate) before_open: Vec<(String, Option<PubSubReplayFrom>)>,
    /// The store's positions, read at `open`.
    pub(crate) stored: BTreeMap<String, ReplayId>,
    /// The store's imposed start for topics it holds nothing for (a [`ConstantStore`]).
    ///
    /// [`ConstantStore`]: sfstream_store::ConstantStore
    pub(crate) store_start: Option<PubSubReplayFrom>,
    pub(crate) store_tx: Option<mpsc::UnboundedSender<StoreOp>>,
    /// Replay ids handed to the store writer and not yet confirmed stored, by topic.
    pub(crate) unsaved: BTreeMap<String, ReplayId>,
}

impl PubSubState {
    pub(crate) fn new(session: PubSubSession) -> Self {
        Self {
            session,
            status: Status::Created,
            ended: false,
            failure: None,
            authenticated: false,
            calls: BTreeMap::new(),
            tokens: BTreeMap::new(),
            errors: VecDeque::new(),
            session_events: Publisher::default(),
            streams: StreamTracker::default(),
            open_result: None,
            sub_waiters: BTreeMap::new(),
            publishes: BTreeMap::new(),
            topic_infos: BTreeMap::new(),
            before_open: Vec::new(),
            stored: BTreeMap::new(),
            store_start: None,
            store_tx: None,
            unsaved: BTreeMap::new(),
        }
    }

    /// Where a topic without an explicit start begins: after its stored position, else at the
    /// store's imposed start, else (`None`) where the configuration says.
    pub(crate) fn start_of(
        &self,
        topic: &str,
        explicit: Option<PubSubReplayFrom>,
    ) -> Option<PubSubReplayFrom> {
        explicit.or_else(|| {
            self.stored
                .get(topic)
                .filter(|id| !id.is_empty())
                .map(|id| PubSubReplayFrom::Custom(id.clone()))
                .or_else(|| self.store_start.clone())
        })
    }

    fn store(&mut self, op: StoreOp) {
        let Some(tx) = &self.store_tx else {
            return;
        };
        match &op {
            StoreOp::SaveTopic(topic, id) => {
                self.unsaved
                    .insert(topic.clone(), ReplayId::from(id.as_slice()));
            }
            StoreOp::RemoveTopic(topic) => {
                self.unsaved.remove(topic);
            }
            _ => {}
        }
        let _ = tx.unbounded_send(op);
    }

    /// The store writer stored these ids: they are no longer unsaved (unless a newer one of the
    /// topic is on its way).
    pub(crate) fn saved(&mut self, stored: &[(String, Vec<u8>)]) {
        for (topic, id) in stored {
            if self
                .unsaved
                .get(topic)
                .is_some_and(|waiting| waiting.as_bytes() == id.as_slice())
            {
                self.unsaved.remove(topic);
            }
        }
    }

    /// Ends the session events of a client closed without a session (never opened, or its
    /// open failed before the session started).
    pub(crate) fn closed_without_session(&self, error: Option<Error>) {
        self.session_events
            .0
            .publish(PubSubSessionEvent::Closed { error });
    }

    /// Hands the application's view of a session event to the subscribers, if there are any.
    fn publish(&mut self, event: &PubSubEvent) {
        let hub = &self.session_events.0;
        let mut out = Vec::new();
        self.streams
            .translate(event, hub.has_subscribers(), &mut out);
        for e in out {
            hub.publish(e);
        }
        if matches!(event, PubSubEvent::Disconnected(_)) {
            hub.end();
        }
    }

    /// Acts on one event of the session.
    pub(crate) fn on_event(&mut self, event: PubSubEvent) {
        self.publish(&event);
        match &event {
            PubSubEvent::Checkpoint { topic, replay_id } => {
                tracing::trace!(%topic, %replay_id, "checkpoint");
                self.store(StoreOp::SaveTopic(
                    topic.clone(),
                    replay_id.as_bytes().to_vec(),
                ));
            }
            PubSubEvent::ReplayFallback {
                topic,
                rejected,
                using,
                error,
            } => {
                tracing::warn!(%topic, ?rejected, %using, %error, "replay id rejected; using the fallback");
                self.stored.remove(topic);
                self.store(StoreOp::RemoveTopic(topic.clone()));
            }
            PubSubEvent::Authenticated { instance_url, .. } => {
                tracing::info!(%instance_url, "authenticated");
                self.authenticated = true;
            }
            PubSubEvent::Subscribed { topic, replay_from } => {
                tracing::info!(%topic, %replay_from, "subscribed");
                if let Some(slot) = self.sub_waiters.get_mut(topic) {
                    slot.get_or_insert(Ok(()));
                }
            }
            PubSubEvent::SubscribeFailed { topic, error } => {
                tracing::error!(%topic, %error, "subscription failed");
                match self.sub_waiters.get_mut(topic) {
                    Some(slot) if slot.is_none() => *slot = Some(Err(error.clone().into())),
                    _ => self.errors.push_back(error.clone().into()),
                }
            }
            PubSubEvent::Published { id, results, .. } => {
                if let Some(slot) = self.publishes.get_mut(id) {
                    *slot = Some(Ok(results.clone()));
                }
            }
            PubSubEvent::PublishFailed { id, error, .. } => {
                if let Some(slot) = self.publishes.get_mut(id) {
                    *slot = Some(Err(error.clone().into()));
                }
            }
            PubSubEvent::TopicInfo { topic, info } => {
                if let Some(slot) = self.topic_infos.get_mut(topic) {
                    *slot = Some(Ok(info.clone()));
                }
            }
            PubSubEvent::TopicInfoFailed { topic, error } => {
                if let Some(slot) = self.topic_infos.get_mut(topic) {
                    *slot = Some(Err(error.clone().into()));
                }
            }
            PubSubEvent::Reconnecting {
                topic,
                after,
                reason,
            } => {
                tracing::warn!(topic = topic.as_deref().unwrap_or(""), after_ms = after.as_millis() as u64, %reason, "retrying");
            }
            PubSubEvent::Disconnected(reason) => {
                tracing::info!(?reason, "session ended");
                self.on_disconnected(reason);
            }
            other => tracing::debug!(?other, "event"),
        }
    }

    fn on_disconnected(&mut self, reason: &PubSubDisconnectReason) {
        self.ended = true;
        let error = match reason {
            PubSubDisconnectReason::Failed(e) => Some(Error::from(e.clone())),
            _ => None,
        };
        if self.open_result.is_none() {
            self.open_result = Some(Err(error.clone().unwrap_or(Error::Closed)));
        } else if let Some(e) = error.clone() {
            self.errors.push_back(e);
        }
        self.failure.clone_from(&error);
        let failed = error.unwrap_or(Error::Closed);
        fail_waiting(&mut self.sub_waiters, &failed);
        fail_waiting(&mut self.publishes, &failed);
        fail_waiting(&mut self.topic_infos, &failed);
    }
}

impl PubSubState {
    /// The error of a call on a client whose session has ended: closed by the application, or
    /// by the failure it ended with.
    pub(crate) fn ended_error(&self) -> Error {
        match &self.failure {
            Some(cause) => Error::ClosedByFailure {
                cause: std::sync::Arc::new(cause.clone()),
            },
            None => Error::Closed,
        }
    }
}

/// Gives every caller still waiting in `slots` this error.
fn fail_waiting<K, T>(slots: &mut BTreeMap<K, Slot<T>>, error: &Error) {
    for slot in slots.values_mut().filter(|s| s.is_none()) {
        *slot = Some(Err(error.clone()));
    }
}

pub(crate) struct PubSubShared<R: Http2Runtime> {
    pub(crate) state: Mutex<PubSubState>,
    pub(crate) runtime: R,
    pub(crate) store: std::sync::Arc<dyn ReplayStore>,
    /// Wakes the session task: a command was given, something arrived.
    pub(crate) driver_wake: Notify,
    /// Wakes callers waiting in `receive`, `open`, `subscribe`, `publish`, `close`.
    pub(crate) client_wake: Notify,
    pub(crate) span: tracing::Span,
    pub(crate) seed: u64,
}

impl<R: Http2Runtime> PubSubShared<R> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, PubSubState> {
        // A panic while holding the lock leaves the state as consistent as the session's own
        // methods left it; keep going rather than poison every later call.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
