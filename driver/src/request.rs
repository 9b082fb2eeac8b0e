//! One request's life: sent; its response arrived (the session may send the next long poll at
//! once); at the next poll of its task, decoded outside the lock; handed over to the session.
//! And the drain that starts a request for each one the session asks for.

use std::sync::Arc;
use std::task::Poll;

use futures_channel::oneshot;
use futures_util::future::{self, abortable};
use http::Response;
use sfstream_core::{Arrived, Received, RequestId, Transmit, TransportError};

use crate::Runtime;
use crate::shared::{Shared, State};

/// Drains every output of the session: starts the requests it asks for, aborts those it
/// cancelled, dispatches its events. Returns how many requests it started.
pub(crate) fn drain<R: Runtime>(shared: &Arc<Shared<R>>, st: &mut State) -> usize {
    let outputs = st.take_outputs();
    let sent = outputs.transmits.len();
    let max_body = st.session.config().max_response_bytes;
    for t in outputs.transmits {
        start(shared, st, t, max_body);
    }
    let had_events = !outputs.events.is_empty();
    for e in outputs.events {
        st.on_event(e);
    }
    if had_events {
        shared.client_wake.notify(usize::MAX);
    }
    sent
}

/// Sends one request as a task of its own, abortable while the session may cancel it.
fn start<R: Runtime>(shared: &Arc<Shared<R>>, st: &mut State, t: Transmit, max_body: usize) {
    tracing::trace!(id = %t.id, kind = t.kind.as_str(), "sending");
    let exchange = match &shared.replay {
        Some(replay) => replay.send(t.request),
        None => shared.runtime.send(t.request, t.deadline, max_body),
    };
    let (send, abort) = abortable(exchange);
    st.aborts.insert(t.id, abort);
    let span = shared.span.clone();
    let (shared_by_task, id) = (shared.clone(), t.id);
    let life = async move {
        let shared = shared_by_task;
        let Ok(outcome) = send.await else {
            return; // aborted: the session no longer wants it
        };
        let outcome = match outcome {
            Ok(response) => decoded(&shared, id, response).await.map(Ok),
            Err(error) => Some(Err(error)),
        };
        hand_over(&shared, id, outcome);
    };
    shared
        .runtime
        .spawn(Box::pin(tracing::Instrument::instrument(life, span)));
}

/// Reports the arrival and decodes the response before taking the lock again, so the
/// application keeps taking messages while a large response is read, and the session may send
/// the next long poll first, so the server prepares it meanwhile. `None`: the session no longer
/// waits for this request.
async fn decoded<R: Runtime>(
    shared: &Arc<Shared<R>>,
    id: RequestId,
    response: Response<Vec<u8>>,
) -> Option<Received> {
    let (arrived, sent) = {
        let mut st = shared.lock();
        let now = shared.runtime.now();
        let arrived = st.session.handle_arrived(id, response, now);
        (arrived, drain(shared, &mut st) > 0)
    };
    if sent {
        // Let the request just spawned go out before this task decodes: an executor may run it
        // only when this task yields (tokio's LIFO slot is not stolen by the other workers).
        yield_now().await;
    }
    Some(decode(&shared.runtime, arrived?).await)
}

/// Gives the session the outcome (nothing when it no longer waits) and wakes who may care.
fn hand_over<R: Runtime>(
    shared: &Arc<Shared<R>>,
    id: RequestId,
    outcome: Option<Result<Received, TransportError>>,
) {
    {
        let mut st = shared.lock();
        st.aborts.remove(&id);
        let now = shared.runtime.now();
        match outcome {
            Some(Ok(received)) => st.session.handle_received(received, now),
            Some(Err(error)) => {
                tracing::debug!(%id, %error, "request failed");
                st.session.handle_transport_error(id, error, now);
            }
            None => tracing::trace!(%id, "response to an abandoned request dropped"),
        }
    }
    shared.driver_wake.notify(1);
    shared.client_wake.notify(usize::MAX);
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

/// Decodes a response. A large Bayeux body is decoded in two halves, the second on the runtime's
/// blocking pool while this task decodes the first, so two cores share the client's main work.
async fn decode<R: Runtime>(runtime: &R, arrived: Arrived) -> Received {
    let split = match arrived.split() {
        Ok(split) => split,
        Err(arrived) => return arrived.decode(),
    };
    let (tx, rx) = oneshot::channel();
    let second_half = split.second_half();
    let second = runtime.spawn_blocking(Box::new(move || {
        let _ = tx.send(second_half.read());
    }));
    let first = split.read_first_half();
    second.await;
    split.join(first, rx.await.ok())
}
