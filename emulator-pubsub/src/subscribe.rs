//! `Subscribe`: the first `FetchRequest` names the topic, the start (`LATEST`, `EARLIEST`, or
//! `CUSTOM` after a replay id) and the first credits; later ones only add credits. Start and
//! replay id are read from the first request only.

use std::sync::Arc;

use tokio::sync::mpsc;
use tonic::{Code, Status, Streaming};

use crate::faults::{Fault, Method, Moment};
use crate::proto::{FetchRequest, FetchResponse, ReplayPreset};
use crate::state::Shared;
use crate::status;
use crate::stream::{self, In, OpenGuard, Out, Subscription};

fn invalid(rpc_id: &str, suffix: &str, message: &str) -> Status {
    status::salesforce(Code::InvalidArgument, suffix, message, rpc_id)
}

/// Validates the first request and fixes where the stream starts.
fn open(shared: &Shared, rpc_id: &str, first: &FetchRequest) -> Result<Subscription, Status> {
    let topic = first.topic_name.trim();
    if topic.is_empty() {
        return Err(invalid(
            rpc_id,
            "topic.validation.empty",
            "The topic name is blank; set topic_name in the first FetchRequest.",
        ));
    }
    let mut st = shared.lock();
    let Some(t) = st.topics.get(topic) else {
        return Err(status::topic_not_found(
            rpc_id,
            topic,
            shared.settings.not_found_as_permission_denied,
        ));
    };
    let (tip, epoch) = (t.tip, t.epoch);
    if first.num_requested <= 0 {
        return Err(stream::requested_invalid(
            rpc_id,
            "subscription.fetch.requested.events.invalid",
            first.num_requested,
        ));
    }
    let cursor = match ReplayPreset::try_from(first.replay_preset) {
        Ok(ReplayPreset::Latest) => Some(tip),
        Ok(ReplayPreset::Earliest) => None,
        Ok(ReplayPreset::Custom) => {
            if first.replay_id.is_empty() {
                return Err(invalid(
                    rpc_id,
                    "subscription.fetch.replayid.validation.failed",
                    "The replay preset is CUSTOM but no replay id was given.",
                ));
            }
            let fault = st.faults.take(Method::Subscribe, Moment::CustomReplay);
            if let Some(f) = &fault {
                st.fault_fired(f.name());
            }
            if fault == Some(Fault::CorruptedReplayId) {
                return Err(status::replay_corrupted(rpc_id));
            }
            let Some(position) = st.valid_position(topic, &first.replay_id) else {
                return Err(status::replay_corrupted(rpc_id));
            };
            match fault {
                Some(Fault::DuplicateDelivery { events }) => st
                    .topics
                    .get(topic)
                    .and_then(|t| t.back_from(position, events)),
                _ => Some(position),
            }
        }
        Err(_) => {
            return Err(invalid(
                rpc_id,
                "subscription.fetch.request.invalid",
                &format!("Unknown replay preset {}.", first.replay_preset),
            ));
        }
    };
    st.credits_asked(topic, 0, first.num_requested);
    Ok(Subscription {
        method: Method::Subscribe,
        rpc_id: rpc_id.to_owned(),
        topic: topic.to_owned(),
        cursor,
        epoch,
        pending: stream::add_credits(0, first.num_requested),
        managed: None,
    })
}

fn parse(req: FetchRequest, sub: &Subscription) -> Result<In, Status> {
    let topic = req.topic_name.trim();
    if !topic.is_empty() && topic != sub.topic {
        return Err(invalid(
            &sub.rpc_id,
            "subscription.fetch.topic.mismatch",
            &format!(
                "The topic {topic} differs from this stream's topic {}; open a new Subscribe call for another topic.",
                sub.topic
            ),
        ));
    }
    if req.num_requested <= 0 {
        return Err(stream::requested_invalid(
            &sub.rpc_id,
            "subscription.fetch.requested.events.invalid",
            req.num_requested,
        ));
    }
    Ok(In {
        credits: req.num_requested,
        commit: None,
    })
}

fn render(out: Out, rpc_id: &str) -> FetchResponse {
    let (events, latest, pending) = match out {
        Out::Events {
            events,
            latest,
            pending,
        } => (events, latest, pending),
        Out::Keepalive { latest, pending }
        | Out::Commit {
            latest, pending, ..
        } => (Vec::new(), latest, pending),
    };
    FetchResponse {
        events,
        latest_replay_id: latest,
        rpc_id: rpc_id.to_owned(),
        pending_num_requested: pending,
    }
}

/// Serves one `Subscribe` call after authentication.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    rpc_id: String,
    mut inbound: Streaming<FetchRequest>,
    tx: mpsc::Sender<Result<FetchResponse, Status>>,
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
