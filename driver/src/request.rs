//! One request's life: sent, its response arrived (which may let the session send the next long
//! poll at once), decoded outside the lock, handed to the session. And the drain that starts
//! each request the session asks for.

use std::sync::Arc;
use std::task::Poll;

use futures_channel::oneshot;
use futures_util::future::{self, abortable};
use http::Response;
use sfstream_core::{Received, RequestId, RequestKind, Transmit};

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
                    match outcome {
                        Ok(received) => st.session.handle_received(id, received, now),
                        Err(error) => {
                            tracing::debug!(%id, %error, "request failed");
                            st.session.handle_transport_error(id, error, now);
                        }
                    }
                }
                shared2.driver_wake.notify(1);
                shared2.client_wake.notify(usize::MAX);
            },
            span,
        )));
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
    st.session.handle_arrived(id, response, now);
    drain(shared, &mut st) > 0
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
