//! The background loop: carries requests and time to the session and events out of it.

use std::sync::Arc;
use std::task::Poll;

use futures_channel::oneshot;
use futures_util::future::{self, abortable};
use http::Response;
use sfstream_core::{
    DisconnectReason, Error as CoreError, Event, Received, RefetchReason, RequestId, RequestKind,
};

use crate::Runtime;
use crate::client::{Shared, State};
use crate::store_writer::StoreOp;

/// Runs until the session has ended and no request is in flight.
pub(crate) async fn run<R: Runtime>(shared: Arc<Shared<R>>) {
    loop {
        let listener = shared.driver_wake.listen();
        let (timeout, done) = {
            let mut st = shared.lock();
            let now = shared.runtime.now();
            if let Some(session) = st.session.as_mut() {
                // Spurious calls are no-ops; this also sends what a command queued.
                session.handle_timeout(now);
            }
            pump(&shared, &mut st);
            let timeout = st.session.as_ref().and_then(|s| s.poll_timeout());
            (timeout, st.ended && st.aborts.is_empty())
        };
        if done {
            break;
        }
        match timeout {
            Some(at) => {
                let sleep = shared.runtime.sleep_until(at);
                let _ = future::select(Box::pin(listener), sleep).await;
            }
            None => listener.await,
        }
    }
    tracing::debug!("driver stopped");
}

/// Drains every output of the session. Returns how many requests it sent.
pub(crate) fn pump<R: Runtime>(shared: &Arc<Shared<R>>, st: &mut State) -> usize {
    st.nudged = false;
    let Some(session) = st.session.as_mut() else {
        return 0;
    };
    let max_body = session.config().max_response_bytes;
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
        if let Some(handle) = st.aborts.remove(&id) {
            handle.abort();
        }
    }
    let sent = transmits.len();
    for t in transmits {
        tracing::trace!(id = %t.id, kind = t.kind.as_str(), "sending");
        let (request, handle) = abortable(shared.runtime.send(t.request, t.deadline, max_body));
        st.aborts.insert(t.id, handle);
        let shared2 = shared.clone();
        let (id, kind) = (t.id, t.kind);
        let span = shared.span.clone();
        shared
            .runtime
            .spawn(Box::pin(tracing::Instrument::instrument(
                async move {
                    let Ok(outcome) = request.await else {
                        return; // aborted: the session no longer wants it
                    };
                    // Decoded before taking the lock, so the application keeps taking messages
                    // while a large response is read; the session may send the next long poll
                    // first, so the server prepares it meanwhile.
                    let outcome = match outcome {
                        Ok(response) => {
                            if arrived(&shared2, id, &response) {
                                // Let the request just spawned go out before this task decodes:
                                // an executor may run it only when this task yields (tokio's
                                // LIFO slot is not stolen by the other workers).
                                yield_now().await;
                            }
                            Ok(read_response(&shared2.runtime, kind, response).await)
                        }
                        Err(e) => Err(e),
                    };
                    {
                        let mut st = shared2.lock();
                        st.aborts.remove(&id);
                        let now = shared2.runtime.now();
                        if let Some(session) = st.session.as_mut() {
                            match outcome {
                                Ok(received) => session.handle_received(id, received, now),
                                Err(error) => {
                                    tracing::debug!(%id, %error, "request failed");
                                    session.handle_transport_error(id, error, now);
                                }
                            }
                        }
                    }
                    shared2.driver_wake.notify(1);
                    shared2.client_wake.notify(usize::MAX);
                },
                span,
            )));
    }
    let had_events = !events.is_empty();
    for e in events {
        on_event(shared, st, e);
    }
    if had_events {
        shared.client_wake.notify(usize::MAX);
    }
    sent
}

/// Tells the session a response has arrived (before it is decoded) and sends what that allows.
/// Whether a request was sent.
fn arrived<R: Runtime>(
    shared: &Arc<Shared<R>>,
    id: RequestId,
    response: &Response<Vec<u8>>,
) -> bool {
    let mut st = shared.lock();
    let now = shared.runtime.now();
    if let Some(session) = st.session.as_mut() {
        session.handle_arrived(id, response, now);
    }
    pump(shared, &mut st) > 0
}

/// Yields once to the executor.
async fn yield_now() {
    let mut yielded = false;
    future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// Reads a response. A large Bayeux body is decoded in two halves, the second on the runtime's
/// blocking pool while this task decodes the first, so two cores share the client's main work.
async fn read_response<R: Runtime>(
    runtime: &R,
    kind: RequestKind,
    response: Response<Vec<u8>>,
) -> Received {
    let Some(split) = Received::split_point(kind, response.body()) else {
        return Received::read(kind, response);
    };
    let (head, body) = response.into_parts();
    let body = Arc::new(body);
    let (tx, rx) = oneshot::channel();
    let shared_body = Arc::clone(&body);
    let second = runtime.spawn_blocking(Box::new(move || {
        let _ = tx.send(Received::read_second_half(&shared_body, split));
    }));
    let first = Received::read_first_half(&body, split);
    second.await;
    Received::join_halves(kind, head, &body, first, rx.await.ok())
}

fn store(shared: &Shared<impl Runtime>, op: StoreOp) {
    if let Some(tx) = shared
        .store_tx
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        let _ = tx.unbounded_send(op);
    }
}

fn on_event<R: Runtime>(shared: &Arc<Shared<R>>, st: &mut State, event: Event) {
    match event {
        Event::Checkpoint { channel, replay_id } => {
            tracing::trace!(%channel, replay_id, "checkpoint");
            store(shared, StoreOp::Save(channel, replay_id));
        }
        Event::ReplayFallback {
            channel,
            rejected,
            using,
            error,
        } => {
            tracing::warn!(%channel, ?rejected, ?using, %error, "stored replay id rejected; using the fallback");
            store(shared, StoreOp::Remove(channel));
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
            if st.open_result.is_none() {
                st.open_result = Some(Ok(()));
            }
        }
        Event::Subscribed {
            channel,
            replay_from,
        } => {
            tracing::info!(%channel, ?replay_from, "subscribed");
            if let Some(slot) = st.sub_waiters.get_mut(&channel) {
                *slot = Some(Ok(()));
            }
        }
        Event::SubscribeFailed { channel, error } => {
            tracing::error!(%channel, %error, "subscription failed");
            match st.sub_waiters.get_mut(&channel) {
                Some(slot) => *slot = Some(Err(error.into())),
                // An automatic resubscription failed: nobody waits, so receive() reports it.
                None => st.errors.push_back(error.into()),
            }
        }
        Event::Unsubscribed { channel } => {
            tracing::info!(%channel, "unsubscribed");
            if let Some(done) = st.unsub_waiters.get_mut(&channel) {
                *done = true;
            }
        }
        Event::Reconnecting { after, reason } => {
            tracing::warn!(after_ms = after.as_millis() as u64, %reason, "retrying");
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
                if st.open_result.is_none() {
                    st.open_result = Some(Err(error.clone().into()));
                }
                st.errors.push_back(error.into());
            }
        }
        Event::Disconnected(reason) => {
            tracing::info!(?reason, "session ended");
            st.ended = true;
            let error = match reason {
                DisconnectReason::Failed(e) | DisconnectReason::ServerClosed(e) => Some(e),
                DisconnectReason::Closed => None,
                _ => None,
            };
            if st.open_result.is_none() {
                st.open_result = Some(Err(error.clone().map_or(crate::Error::Closed, Into::into)));
            } else if let Some(e) = error {
                st.errors.push_back(e.into());
            }
            for slot in st.sub_waiters.values_mut() {
                if slot.is_none() {
                    *slot = Some(Err(crate::Error::Closed));
                }
            }
            for done in st.unsub_waiters.values_mut() {
                *done = true;
            }
        }
        other => tracing::debug!(?other, "event"),
    }
}
