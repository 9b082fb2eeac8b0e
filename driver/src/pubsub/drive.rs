//! The drain that carries out what the Pub/Sub session asks for, and the tasks it starts: one
//! per token request, one per gRPC call (its response read and reported to the session as it
//! arrives), and the session task, which brings time to the session.

use std::sync::Arc;

use futures_channel::mpsc;
use futures_util::future::abortable;
use futures_util::stream::{BoxStream, StreamExt};
use http::HeaderMap;
use sfstream_core::Transmit;
use sfstream_core::pubsub::{CallId, CallOp, PubSubEvent};

use super::shared::{CallHandle, PubSubShared, PubSubState};
use super::transport::{Http2Runtime, StreamEvent};
use crate::session_task;

/// The largest token response read (a token response is a few hundred bytes).
const MAX_TOKEN_BODY: usize = 1 << 20;

/// Carries out every output of the session: starts token requests, aborts those it cancelled,
/// performs call operations in order, dispatches events (and wakes the callers if there were
/// any).
pub(crate) fn drain<R: Http2Runtime>(shared: &Arc<PubSubShared<R>>, st: &mut PubSubState) {
    while let Some(t) = st.session.poll_transmit() {
        start_token_request(shared, st, t);
    }
    while let Some(id) = st.session.poll_cancel() {
        if let Some(handle) = st.tokens.remove(&id) {
            handle.abort();
        }
    }
    let mut ops = Vec::new();
    while let Some(op) = st.session.poll_call_op() {
        ops.push(op);
    }
    let mut events = Vec::new();
    while let Some(event) = st.session.poll_event() {
        events.push(event);
    }
    if events
        .iter()
        .any(|e| matches!(e, PubSubEvent::WatchdogFired { .. }))
    {
        // Before the stream is opened again: not on the connection that may be half-open.
        if let Ok(origin) = st.session.config().url.trim().parse::<http::Uri>() {
            shared.runtime.forget_connection(&origin);
        }
    }
    for op in ops {
        perform(shared, st, op);
    }
    let had_events = !events.is_empty();
    for event in events {
        st.on_event(event);
    }
    if had_events {
        shared.client_wake.notify(usize::MAX);
    }
}

/// The session task: runs until the session has ended and nothing is in flight.
pub(crate) async fn run<R: Http2Runtime>(shared: Arc<PubSubShared<R>>) {
    session_task::run_until_done(&shared.runtime, &shared.driver_wake, || {
        let mut st = shared.lock();
        let now = shared.runtime.now();
        st.session.handle_timeout(now);
        drain(&shared, &mut st);
        let done = st.ended && st.calls.is_empty() && st.tokens.is_empty();
        (st.session.poll_timeout(), done)
    })
    .await;
    tracing::debug!("Pub/Sub driver stopped");
}

fn perform<R: Http2Runtime>(shared: &Arc<PubSubShared<R>>, st: &mut PubSubState, op: CallOp) {
    match op {
        CallOp::Open(open) => {
            tracing::trace!(call = %open.call, kind = open.kind.as_str(), "opening a call");
            let (body, requests) = mpsc::unbounded();
            let connect_by = shared.runtime.now() + st.session.config().request_timeout;
            let responses =
                shared
                    .runtime
                    .open_stream(open.request, Box::pin(requests), connect_by);
            let (task, abort) = abortable(read_call(shared.clone(), open.call, responses));
            st.calls.insert(
                open.call,
                CallHandle {
                    body: Some(body),
                    task: abort,
                },
            );
            let span = shared.span.clone();
            shared
                .runtime
                .spawn(Box::pin(tracing::Instrument::instrument(
                    async move {
                        let _ = task.await;
                    },
                    span,
                )));
        }
        CallOp::Send { call, message } => {
            tracing::trace!(%call, bytes = message.len(), "sending a message");
            if let Some(body) = st.calls.get(&call).and_then(|c| c.body.as_ref()) {
                let _ = body.unbounded_send(message);
            }
        }
        CallOp::HalfClose { call } => {
            if let Some(c) = st.calls.get_mut(&call) {
                c.body = None;
            }
        }
        CallOp::Cancel { call } => {
            if let Some(c) = st.calls.remove(&call) {
                tracing::trace!(%call, "cancelling a call");
                c.task.abort();
            }
        }
        other => tracing::warn!(?other, "a call operation this driver does not know"),
    }
}

/// Reads a call's response and reports each part to the session as it arrives. A body that
/// ends without trailers is reported as trailers without a status (the session reads that as
/// an error).
async fn read_call<R: Http2Runtime>(
    shared: Arc<PubSubShared<R>>,
    call: CallId,
    mut responses: BoxStream<'static, StreamEvent>,
) {
    loop {
        let next = responses.next().await;
        let mut st = shared.lock();
        let now = shared.runtime.now();
        let ended = match next {
            Some(StreamEvent::Head { status, headers }) => {
                st.session.handle_headers(call, status, &headers, now);
                false
            }
            Some(StreamEvent::Data(chunk)) => {
                st.session.handle_data(call, &chunk, now);
                false
            }
            Some(StreamEvent::Trailers(trailers)) => {
                st.session.handle_trailers(call, &trailers, now);
                true
            }
            Some(StreamEvent::Reset(code)) => {
                tracing::debug!(%call, code, "stream reset");
                st.session.handle_reset(call, code, now);
                true
            }
            Some(StreamEvent::Failed(error)) => {
                tracing::debug!(%call, %error, "call failed");
                st.session.handle_call_error(call, error, now);
                true
            }
            None => {
                st.session.handle_trailers(call, &HeaderMap::new(), now);
                true
            }
        };
        if ended {
            st.calls.remove(&call);
        }
        drain(&shared, &mut st);
        drop(st);
        // Events may be ready for the application now, with no session event to say so.
        shared.driver_wake.notify(1);
        shared.client_wake.notify(usize::MAX);
        if ended {
            return;
        }
    }
}

/// Sends a token request as a task of its own, abortable while the session may cancel it.
fn start_token_request<R: Http2Runtime>(
    shared: &Arc<PubSubShared<R>>,
    st: &mut PubSubState,
    t: Transmit,
) {
    tracing::trace!(id = %t.id, "requesting a token");
    let (send, abort) = abortable(shared.runtime.send(t.request, t.deadline, MAX_TOKEN_BODY));
    st.tokens.insert(t.id, abort);
    let (shared_by_task, id) = (shared.clone(), t.id);
    let life = async move {
        let shared = shared_by_task;
        let Ok(outcome) = send.await else {
            return; // aborted: the session no longer wants it
        };
        let mut st = shared.lock();
        st.tokens.remove(&id);
        let now = shared.runtime.now();
        match outcome {
            Ok(response) => st.session.handle_response(id, response, now),
            Err(error) => st.session.handle_transport_error(id, error, now),
        }
        drain(&shared, &mut st);
        drop(st);
        shared.driver_wake.notify(1);
        shared.client_wake.notify(usize::MAX);
    };
    let span = shared.span.clone();
    shared
        .runtime
        .spawn(Box::pin(tracing::Instrument::instrument(life, span)));
}
