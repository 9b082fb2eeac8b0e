//! `ManagedSubscribe` (beta): a server-side cursor per managed subscription. The first request
//! names the subscription by id or developer name (exactly one), may ask for 0 or more events and
//! may not commit; later requests add credits and commit replay ids. A stream resumes after the
//! last commit (`errorRecoveryReplay` when that id is no longer valid, `defaultReplay` when
//! nothing is committed). One stream at a time per subscription; `STOP` ends it.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;
use tonic::{Code, Status, Streaming};

use crate::config::{ManagedState, ReplayStart};
use crate::faults::Method;
use crate::proto::{ManagedFetchRequest, ManagedFetchResponse};
use crate::state::Shared;
use crate::status;
use crate::stream::{self, In, OpenGuard, Out, Subscription};
use crate::util;

/// A managed subscription as the control API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ManagedSubscription {
    /// The id (`18x…`, 18 characters).
    pub id: String,
    /// The developer name.
    pub developer_name: String,
    /// The topic.
    pub topic: String,
    /// Start when nothing is committed.
    pub default_replay: ReplayStart,
    /// Start when the committed id is no longer valid.
    pub error_recovery_replay: ReplayStart,
    /// `RUN` or `STOP`.
    pub state: ManagedState,
    /// The last committed replay id, base64, if any.
    pub committed_replay_id: Option<String>,
    /// Whether a stream is open on it.
    pub active: bool,
}

/// A `managed.subscription.<what>` error (`config.stopped`, `config.deleted` …).
pub(crate) fn config_error(rpc_id: &str, what: &str) -> Status {
    let (code, message) = match what {
        "config.stopped" => (
            Code::FailedPrecondition,
            "The managed subscription is stopped (state STOP); set it to RUN.",
        ),
        "config.deleted" => (Code::NotFound, "The managed subscription was deleted."),
        "already.active" => (
            Code::FailedPrecondition,
            "The managed subscription already has an active stream; only one is allowed.",
        ),
        "subscription.id.not.found" => (Code::NotFound, "No managed subscription has this id."),
        "developer.name.not.found" => (
            Code::NotFound,
            "No managed subscription has this developer name.",
        ),
        "id.or.developer.name.empty" => (
            Code::InvalidArgument,
            "Name the managed subscription by subscription_id or developer_name (exactly one of them).",
        ),
        "fetch.request.commit.request.restricted" => (
            Code::InvalidArgument,
            "The first ManagedFetchRequest may not commit a replay id.",
        ),
        _ => (Code::InvalidArgument, "The ManagedFetchRequest is invalid."),
    };
    status::salesforce(
        code,
        &format!("managed.subscription.{what}"),
        message,
        rpc_id,
    )
}

fn open(
    shared: &Shared,
    rpc_id: &str,
    first: &ManagedFetchRequest,
) -> Result<Subscription, Status> {
    if first.commit_replay_id_request.is_some() {
        return Err(config_error(
            rpc_id,
            "fetch.request.commit.request.restricted",
        ));
    }
    let by_id = first.subscription_id.trim();
    let by_name = first.developer_name.trim();
    if by_id.is_empty() == by_name.is_empty() {
        return Err(config_error(rpc_id, "id.or.developer.name.empty"));
    }
    if first.num_requested < 0 {
        return Err(stream::requested_invalid(
            rpc_id,
            "managed.subscription.fetch.request.events.invalid",
            first.num_requested,
        ));
    }
    let mut st = shared.lock();
    let found = if by_id.is_empty() {
        st.managed
            .iter()
            .find(|(_, m)| m.developer_name == by_name && !m.deleted)
            .map(|(id, _)| id.clone())
    } else {
        st.managed
            .get(by_id)
            .filter(|m| !m.deleted)
            .map(|_| by_id.to_owned())
    };
    let Some(id) = found else {
        let what = if by_id.is_empty() {
            "developer.name.not.found"
        } else {
            "subscription.id.not.found"
        };
        return Err(config_error(rpc_id, what));
    };
    let m = &st.managed[&id];
    if m.state == ManagedState::Stop {
        return Err(config_error(rpc_id, "config.stopped"));
    }
    if m.active {
        return Err(config_error(rpc_id, "already.active"));
    }
    let topic_name = m.topic.clone();
    let (committed, default_replay, recovery) =
        (m.committed, m.default_replay, m.error_recovery_replay);
    let Some(topic) = st.topics.get(&topic_name) else {
        return Err(status::topic_not_found(rpc_id, &topic_name, false));
    };
    let start = |preset: ReplayStart| match preset {
        ReplayStart::Earliest => None,
        _ => Some(topic.tip),
    };
    let cursor = match committed {
        Some(r) if topic.is_position(r) => Some(r),
        Some(_) => start(recovery),
        None => start(default_replay),
    };
    let epoch = topic.epoch;
    if let Some(m) = st.managed.get_mut(&id) {
        m.active = true;
    }
    st.credits_asked(&topic_name, 0, first.num_requested);
    Ok(Subscription {
        method: Method::ManagedSubscribe,
        rpc_id: rpc_id.to_owned(),
        topic: topic_name,
        cursor,
        epoch,
        pending: stream::add_credits(0, first.num_requested),
        managed: Some(id),
    })
}

fn parse(req: ManagedFetchRequest, sub: &Subscription) -> Result<In, Status> {
    if req.num_requested < 0 {
        return Err(stream::requested_invalid(
            &sub.rpc_id,
            "managed.subscription.fetch.request.events.invalid",
            req.num_requested,
        ));
    }
    let id = req.subscription_id.trim();
    if !id.is_empty() && Some(id) != sub.managed.as_deref() {
        return Err(config_error(&sub.rpc_id, "fetch.request.invalid"));
    }
    Ok(In {
        credits: req.num_requested,
        commit: req.commit_replay_id_request,
    })
}

fn render(out: Out, rpc_id: &str) -> ManagedFetchResponse {
    let (events, latest, pending, commit) = match out {
        Out::Events {
            events,
            latest,
            pending,
        } => (events, latest, pending, None),
        Out::Keepalive { latest, pending } => (Vec::new(), latest, pending, None),
        Out::Commit {
            response,
            latest,
            pending,
        } => (Vec::new(), latest, pending, Some(response)),
    };
    ManagedFetchResponse {
        events,
        latest_replay_id: latest,
        rpc_id: rpc_id.to_owned(),
        pending_num_requested: pending,
        commit_response: commit,
    }
}

/// Serves one `ManagedSubscribe` call after authentication.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    rpc_id: String,
    mut inbound: Streaming<ManagedFetchRequest>,
    tx: mpsc::Sender<Result<ManagedFetchResponse, Status>>,
) {
    let first = match inbound.message().await {
        Ok(Some(first)) => first,
        _ => return,
    };
    let sub = match open(&shared, &rpc_id, &first) {
        Ok(sub) => sub,
        Err(status) => {
            let _ = tx.send(Err(crate::calls::fail(&shared, status))).await;
            return;
        }
    };
    let _guard = OpenGuard::new(&shared, &mut shared.lock(), &sub);
    stream::run(shared.clone(), sub, inbound, tx, parse, render).await;
}

/// A new managed subscription id: `18x` and 12 more characters, in the 18-character form.
pub(crate) fn new_id(rng: &mut util::Rng) -> String {
    util::id18(&format!("18x{}", util::alnum(rng, 12)))
}
