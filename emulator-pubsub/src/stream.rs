//! The delivery loop shared by `Subscribe` and `ManagedSubscribe`: credit accounting, batches,
//! keepalives, the idle close, commits (managed only) and stream faults.
//!
//! Credits: each request adds its `num_requested` to what is owed, and what is owed never exceeds
//! [`MAX_OUTSTANDING`]. A response never carries more events than are owed, and its
//! `pending_num_requested` is what is still owed after it. Batches are cut by
//! `max_events_per_response` and `max_response_bytes`, so one request may be answered by several
//! responses.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tonic::{Code, Status, Streaming};

use crate::config::MAX_OUTSTANDING;
use crate::faults::{Fault, Method, Moment};
use crate::proto::{
    CommitReplayRequest, CommitReplayResponse, ConsumerEvent, ErrorCode, ProducerEvent,
};
use crate::state::{Shared, State};
use crate::status;
use crate::util;

/// What the loop sends; each front renders it as its own response message.
pub(crate) enum Out {
    Events {
        events: Vec<ConsumerEvent>,
        latest: Bytes,
        pending: i32,
    },
    Keepalive {
        latest: Bytes,
        pending: i32,
    },
    Commit {
        response: CommitReplayResponse,
        latest: Bytes,
        pending: i32,
    },
}

/// A later request, once its front validated it.
pub(crate) struct In {
    pub(crate) credits: i32,
    pub(crate) commit: Option<CommitReplayRequest>,
}

/// An open subscription stream.
pub(crate) struct Subscription {
    pub(crate) method: Method,
    pub(crate) rpc_id: String,
    pub(crate) topic: String,
    /// Deliver events after this position; `None` = from the oldest retained.
    pub(crate) cursor: Option<u64>,
    pub(crate) epoch: u64,
    pub(crate) pending: i32,
    /// The managed subscription id, for `ManagedSubscribe`.
    pub(crate) managed: Option<String>,
}

/// `pending + n`, capped at the outstanding limit (negative amounts add nothing).
pub(crate) fn add_credits(pending: i32, n: i32) -> i32 {
    pending.saturating_add(n.max(0)).min(MAX_OUTSTANDING)
}

enum Step {
    Send(Out),
    End(Status),
    Stall,
    Nothing,
}

/// Counts a stream open while it lives (and, for a managed one, marks it active).
pub(crate) struct OpenGuard {
    shared: Arc<Shared>,
    method: Method,
    topic: String,
    managed: Option<String>,
}

impl OpenGuard {
    pub(crate) fn new(shared: &Arc<Shared>, st: &mut State, sub: &Subscription) -> Self {
        match sub.method {
            Method::ManagedSubscribe => st.stats.totals.managed_streams_open += 1,
            _ => st.stats.totals.subscribe_streams_open += 1,
        }
        st.topic_stats(&sub.topic).streams_open += 1;
        Self {
            shared: Arc::clone(shared),
            method: sub.method,
            topic: sub.topic.clone(),
            managed: sub.managed.clone(),
        }
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        let totals = &mut st.stats.totals;
        match self.method {
            Method::ManagedSubscribe => totals.managed_streams_open -= 1,
            _ => totals.subscribe_streams_open -= 1,
        }
        st.topic_stats(&self.topic).streams_open -= 1;
        if let Some(m) = self.managed.as_ref().and_then(|id| st.managed.get_mut(id)) {
            m.active = false;
        }
    }
}

fn latest(st: &State, sub: &Subscription) -> Bytes {
    match st.topics.get(&sub.topic) {
        Some(t) if t.has_after(sub.cursor) => {
            sub.cursor.map(util::replay_bytes).unwrap_or_default()
        }
        Some(t) => util::replay_bytes(t.tip.max(sub.cursor.unwrap_or(0))),
        None => Bytes::new(),
    }
}

/// Why the stream can no longer run, if it cannot.
fn gone(st: &State, sub: &Subscription) -> Option<Status> {
    if let Some(id) = &sub.managed {
        match st.managed.get(id) {
            Some(m) if m.deleted => {
                return Some(crate::managed::config_error(&sub.rpc_id, "config.deleted"));
            }
            Some(m) if m.state == crate::ManagedState::Stop => {
                return Some(crate::managed::config_error(&sub.rpc_id, "config.stopped"));
            }
            Some(_) => {}
            None => return Some(crate::managed::config_error(&sub.rpc_id, "config.deleted")),
        }
    }
    match st.topics.get(&sub.topic) {
        Some(t) if t.epoch == sub.epoch => None,
        // A reset (migration) or a removed topic: the connection is dropped under the client.
        _ => Some(status::reset()),
    }
}

fn fault_step(st: &mut State, sub: &Subscription, fault: &Fault) -> Option<Step> {
    st.fault_fired(fault.name());
    match fault {
        Fault::Unavailable => Some(Step::End(status::reset())),
        Fault::Stall => Some(Step::Stall),
        Fault::DeliveryLimitExceeded => Some(Step::End(status::delivery_limit(&sub.rpc_id))),
        _ => None,
    }
}

fn deliver(shared: &Shared, sub: &mut Subscription) -> Step {
    let settings = &shared.settings;
    let mut st = shared.lock();
    if let Some(status) = gone(&st, sub) {
        return Step::End(status);
    }
    let Some(topic) = st.topics.get(&sub.topic) else {
        return Step::Nothing;
    };
    if sub.pending <= 0 || !topic.has_after(sub.cursor) {
        return Step::Nothing;
    }
    let allowance = settings
        .delivery_allocation
        .map(|a| a.saturating_sub(st.stats.totals.delivered));
    if allowance == Some(0) {
        return Step::End(status::delivery_limit(&sub.rpc_id));
    }
    let max = usize::try_from(sub.pending)
        .unwrap_or(0)
        .min(settings.max_events_per_response)
        .min(allowance.map_or(usize::MAX, |a| usize::try_from(a).unwrap_or(usize::MAX)));
    let batch = topic.batch_after(sub.cursor, max, settings.max_response_bytes);
    let fault = st
        .faults
        .take(sub.method, Moment::Response { events: true });
    if let Some(fault) = &fault
        && let Some(step) = fault_step(&mut st, sub, fault)
    {
        return step;
    }
    let n = batch.len();
    sub.pending -= i32::try_from(n).unwrap_or(i32::MAX);
    sub.cursor = batch.last().map(|e| e.replay).or(sub.cursor);
    st.stats.totals.delivered += n as u64;
    st.topic_stats(&sub.topic).delivered += n as u64;
    if fault == Some(Fault::CutAfterDelivery) {
        return Step::End(status::reset());
    }
    let events = batch
        .iter()
        .map(|e| ConsumerEvent {
            event: Some(ProducerEvent {
                id: e.id.clone(),
                schema_id: e.schema_id.clone(),
                payload: e.payload.clone(),
                headers: Vec::new(),
            }),
            replay_id: util::replay_bytes(e.replay),
        })
        .collect();
    Step::Send(Out::Events {
        events,
        latest: util::replay_bytes(sub.cursor.unwrap_or_default()),
        pending: sub.pending,
    })
}

fn keepalive(shared: &Shared, sub: &Subscription) -> Step {
    let mut st = shared.lock();
    if let Some(status) = gone(&st, sub) {
        return Step::End(status);
    }
    if let Some(fault) = st
        .faults
        .take(sub.method, Moment::Response { events: false })
        && let Some(step) = fault_step(&mut st, sub, &fault)
    {
        return step;
    }
    st.stats.totals.keepalives += 1;
    Step::Send(Out::Keepalive {
        latest: latest(&st, sub),
        pending: sub.pending,
    })
}

/// Records a commit of a managed subscription: a valid position is stored and answered later
/// (coalesced); an invalid one is answered at once with a `COMMIT` error.
fn commit(
    shared: &Shared,
    sub: &Subscription,
    req: CommitReplayRequest,
) -> (CommitReplayResponse, bool) {
    let now = shared.now_ms();
    let mut st = shared.lock();
    let valid = st.valid_position(&sub.topic, &req.replay_id);
    let mut response = CommitReplayResponse {
        commit_request_id: req.commit_request_id,
        replay_id: req.replay_id,
        error: None,
        process_time: i64::try_from(now).unwrap_or(i64::MAX),
    };
    match (
        valid,
        sub.managed.as_ref().and_then(|id| st.managed.get_mut(id)),
    ) {
        (Some(r), Some(m)) => {
            m.committed = Some(r);
            (response, true)
        }
        _ => {
            response.error = Some(crate::proto::Error {
                code: ErrorCode::Commit.into(),
                msg: format!(
                    "The replay id of commit {} is not a valid position of {} (malformed, unknown or expired). rpcId: {}",
                    response.commit_request_id, sub.topic, sub.rpc_id
                ),
            });
            (response, false)
        }
    }
}

/// Sends nothing, forever: until the client gives up or the emulator stops.
async fn stall<T>(shared: &Shared, tx: &mpsc::Sender<T>) {
    let mut shutdown = shared.shutdown.clone();
    tokio::select! {
        () = tx.closed() => {}
        _ = crate::util::stopped(&mut shutdown) => {}
    }
}

/// Runs a subscription stream until it ends. `parse` validates later requests; `render` builds
/// the front's response message.
pub(crate) async fn run<Req, Resp>(
    shared: Arc<Shared>,
    mut sub: Subscription,
    mut inbound: Streaming<Req>,
    tx: mpsc::Sender<Result<Resp, Status>>,
    parse: fn(Req, &Subscription) -> Result<In, Status>,
    render: fn(Out, &str) -> Resp,
) where
    Req: Send + 'static,
    Resp: Send + 'static,
{
    let settings = &shared.settings;
    let mut changed = shared.changed.subscribe();
    let mut shutdown = shared.shutdown.clone();
    let mut last_progress = Instant::now();
    let mut next_keepalive = Instant::now() + settings.keepalive;
    let mut inbound_open = true;
    // A commit answer waiting to be sent (newer commits replace it), and when.
    let mut coalesced: Option<(CommitReplayResponse, Instant)> = None;
    let end = |status: Status| {
        shared.lock().stats.totals.errors_sent += 1;
        status
    };
    loop {
        loop {
            match deliver(&shared, &mut sub) {
                Step::Send(out) => {
                    if tx.send(Ok(render(out, &sub.rpc_id))).await.is_err() {
                        return;
                    }
                    last_progress = Instant::now();
                    next_keepalive = last_progress + settings.keepalive;
                }
                Step::End(status) => {
                    let _ = tx.send(Err(end(status))).await;
                    return;
                }
                Step::Stall => return stall(&shared, &tx).await,
                Step::Nothing => break,
            }
        }
        let idle_at = (sub.pending == 0).then(|| last_progress + settings.idle_timeout);
        let flush_at = coalesced.as_ref().map(|(_, at)| *at);
        tokio::select! {
            _ = crate::util::stopped(&mut shutdown) => {
                let _ = tx.send(Err(status::reset())).await;
                return;
            }
            () = tx.closed() => return,
            message = inbound.message(), if inbound_open => match message {
                Ok(Some(req)) => {
                    let input = match parse(req, &sub) {
                        Ok(input) => input,
                        Err(status) => {
                            let _ = tx.send(Err(end(status))).await;
                            return;
                        }
                    };
                    shared.lock().credits_asked(&sub.topic, sub.pending, input.credits);
                    sub.pending = add_credits(sub.pending, input.credits);
                    last_progress = Instant::now();
                    if let Some(req) = input.commit {
                        let (response, ok) = commit(&shared, &sub, req);
                        if ok {
                            let at = coalesced.as_ref().map_or_else(
                                || Instant::now() + settings.commit_coalesce,
                                |(_, at)| *at,
                            );
                            coalesced = Some((response, at));
                        } else {
                            let latest = latest(&shared.lock(), &sub);
                            let out = Out::Commit { response, latest, pending: sub.pending };
                            if tx.send(Ok(render(out, &sub.rpc_id))).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                Ok(None) => inbound_open = false,
                Err(_) => return,
            },
            changed_result = changed.changed() => if changed_result.is_err() { return },
            () = sleep_until(next_keepalive) => {
                match keepalive(&shared, &sub) {
                    Step::Send(out) => {
                        if tx.send(Ok(render(out, &sub.rpc_id))).await.is_err() {
                            return;
                        }
                    }
                    Step::End(status) => {
                        let _ = tx.send(Err(end(status))).await;
                        return;
                    }
                    Step::Stall => return stall(&shared, &tx).await,
                    Step::Nothing => {}
                }
                next_keepalive = Instant::now() + settings.keepalive;
            }
            () = sleep_until(idle_at.unwrap_or_else(Instant::now)), if idle_at.is_some() => {
                // Salesforce ends an idle stream without an error: the client sees a normal end.
                shared.lock().stats.totals.idle_closes += 1;
                return;
            }
            () = sleep_until(flush_at.unwrap_or_else(Instant::now)), if flush_at.is_some() => {
                if let Some((response, _)) = coalesced.take() {
                    let latest = latest(&shared.lock(), &sub);
                    let out = Out::Commit { response, latest, pending: sub.pending };
                    if tx.send(Ok(render(out, &sub.rpc_id))).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// `INVALID_ARGUMENT` for a bad `num_requested`.
pub(crate) fn requested_invalid(rpc_id: &str, suffix: &str, n: i32) -> Status {
    status::salesforce(
        Code::InvalidArgument,
        suffix,
        &format!("The number of requested events must be greater than 0; got {n}."),
        rpc_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_add_up_to_the_cap() {
        assert_eq!(add_credits(0, 5), 5);
        assert_eq!(add_credits(5, 7), 12);
        assert_eq!(add_credits(90, 50), 100);
        assert_eq!(add_credits(100, 1), 100);
        assert_eq!(add_credits(3, -4), 3);
        assert_eq!(add_credits(0, i32::MAX), 100);
    }
}
