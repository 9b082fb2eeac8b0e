//! `Publish` and `PublishStream`: per-event results in event order. An event with an `id` gets it
//! back as `correlation_key` (success or failure); without one, success gets a generated UUID and
//! failure an empty key. A request over the size limit (4 MiB) fails the call `UNAVAILABLE`,
//! as Salesforce's proxy does, and ends a `PublishStream`.

use std::sync::Arc;

use bytes::Bytes;
use prost::Message;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tonic::{Code, Status, Streaming};

use crate::proto::{ErrorCode, PublishRequest, PublishResponse, PublishResult};
use crate::schema::TopicKind;
use crate::state::{self, Shared};
use crate::status;
use crate::util;

fn invalid(rpc_id: &str, suffix: &str, message: &str) -> Status {
    status::salesforce(Code::InvalidArgument, suffix, message, rpc_id)
}

fn failure(id: &str, message: String) -> PublishResult {
    PublishResult {
        replay_id: Bytes::new(),
        error: Some(crate::proto::Error {
            code: ErrorCode::Publish.into(),
            msg: message,
        }),
        correlation_key: id.to_owned(),
    }
}

/// Publishes one request's events to `topic`; the caller checked the topic name against the
/// stream's.
fn publish(
    shared: &Shared,
    rpc_id: &str,
    topic: &str,
    req: PublishRequest,
) -> Result<PublishResponse, Status> {
    let settings = &shared.settings;
    if req.encoded_len() > settings.max_publish_request_bytes {
        return Err(status::reset());
    }
    if req.events.is_empty() {
        return Err(invalid(
            rpc_id,
            "publish.event.count.invalid",
            "A PublishRequest must carry at least one event.",
        ));
    }
    let now = shared.now_ms();
    let mut st = shared.lock();
    let Some(t) = st.topics.get(topic) else {
        return Err(status::topic_not_found(
            rpc_id,
            topic,
            settings.not_found_as_permission_denied,
        ));
    };
    if t.kind != TopicKind::PlatformEvent {
        return Err(status::salesforce(
            Code::PermissionDenied,
            "topic.meta.permission",
            &format!(
                "Publishing to {topic} is not allowed: change events are published by Salesforce only (can_publish is false)."
            ),
            rpc_id,
        ));
    }
    let current_id = t.schema.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    let mut results = Vec::with_capacity(req.events.len());
    for event in req.events {
        let checked = if event.id.chars().count() > 36 {
            Err(format!(
                "The event id {:?} is longer than 36 characters.",
                event.id
            ))
        } else if event.payload.len() > settings.max_event_bytes {
            Err(format!(
                "The event is {} bytes; the maximum event size is {} bytes.",
                event.payload.len(),
                settings.max_event_bytes
            ))
        } else {
            match st.schemas.get(&event.schema_id) {
                None => Err(format!(
                    "The schema id {:?} is unknown; get the topic's schema id with GetTopic.",
                    event.schema_id
                )),
                Some(_) if event.schema_id != current_id => Err(format!(
                    "The schema id {} is not the current schema of {topic} ({current_id}); get it with GetTopic.",
                    event.schema_id
                )),
                Some(_) => {
                    let parsed = st
                        .topics
                        .get(topic)
                        .and_then(|t| t.schema.as_ref())
                        .map(|s| Arc::clone(&s.parsed));
                    parsed.map_or_else(
                        || Err("The topic has no schema.".to_owned()),
                        |p| state::check_published(&p, &event.payload),
                    )
                }
            }
        };
        match checked {
            Ok(()) => {
                let key = if event.id.is_empty() {
                    util::uuid(&mut st.rng)
                } else {
                    event.id.clone()
                };
                let replay = st
                    .append(topic, key.clone(), &event.schema_id, event.payload, now)
                    .map_err(|e| Status::internal(e.to_string()))?;
                results.push(PublishResult {
                    replay_id: util::replay_bytes(replay),
                    error: None,
                    correlation_key: key,
                });
            }
            Err(message) => {
                st.stats.totals.publish_failures += 1;
                results.push(failure(&event.id, format!("{message} rpcId: {rpc_id}")));
            }
        }
    }
    drop(st);
    shared.bump();
    Ok(PublishResponse {
        results,
        schema_id: current_id,
        rpc_id: rpc_id.to_owned(),
    })
}

/// Serves a unary `Publish` after authentication.
pub(crate) fn unary(
    shared: &Shared,
    rpc_id: &str,
    req: PublishRequest,
) -> Result<PublishResponse, Status> {
    let topic = req.topic_name.trim().to_owned();
    if topic.is_empty() {
        return Err(invalid(
            rpc_id,
            "publish.topic.validation.empty",
            "The topic name is blank.",
        ));
    }
    publish(shared, rpc_id, &topic, req)
}

/// Decrements the open `PublishStream` count when the stream ends.
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.lock().stats.totals.publish_streams_open -= 1;
    }
}

/// Serves one `PublishStream` call after authentication: the first request fixes the topic;
/// each request gets its response when its batch is done; an idle stream (no request with events
/// for `publish_idle_timeout`) is swept.
pub(crate) async fn stream(
    shared: Arc<Shared>,
    rpc_id: String,
    mut inbound: Streaming<PublishRequest>,
    tx: mpsc::Sender<Result<PublishResponse, Status>>,
) {
    shared.lock().stats.totals.publish_streams_open += 1;
    let _guard = OpenGuard(Arc::clone(&shared));
    let settings = &shared.settings;
    let mut topic: Option<String> = None;
    let mut idle_at = Instant::now() + settings.publish_idle_timeout;
    let mut next_keepalive = Instant::now() + settings.keepalive;
    let mut shutdown = shared.shutdown.clone();
    loop {
        let outcome = tokio::select! {
            _ = crate::util::stopped(&mut shutdown) => Err(status::reset()),
            () = tx.closed() => return,
            () = sleep_until(idle_at) => Err(status::salesforce(
                Code::Unavailable,
                "publish.stream.sweeper.timeout",
                "The PublishStream was idle (no request with events) for too long and was closed; open a new one.",
                &rpc_id,
            )),
            () = sleep_until(next_keepalive) => {
                next_keepalive = Instant::now() + settings.keepalive;
                let schema_id = topic
                    .as_ref()
                    .and_then(|t| shared.lock().topics.get(t).and_then(|t| t.schema.as_ref().map(|s| s.id.clone())))
                    .unwrap_or_default();
                Ok(PublishResponse { results: Vec::new(), schema_id, rpc_id: rpc_id.clone() })
            }
            message = inbound.message() => match message {
                Ok(Some(req)) => {
                    let name = req.topic_name.trim().to_owned();
                    let fixed = topic.get_or_insert_with(|| name.clone()).clone();
                    if fixed.is_empty() {
                        Err(invalid(&rpc_id, "publish.topic.validation.empty", "The first PublishRequest must name the topic."))
                    } else if !name.is_empty() && name != fixed {
                        Err(invalid(
                            &rpc_id,
                            "publish.topic.mismatch",
                            &format!("The topic {name} differs from this stream's topic {fixed}; open a new PublishStream for another topic."),
                        ))
                    } else {
                        if !req.events.is_empty() {
                            idle_at = Instant::now() + settings.publish_idle_timeout;
                        }
                        publish(&shared, &rpc_id, &fixed, req)
                    }
                }
                Ok(None) | Err(_) => return,
            },
        };
        match outcome {
            Ok(response) => {
                if tx.send(Ok(response)).await.is_err() {
                    return;
                }
            }
            Err(status) => {
                let _ = tx.send(Err(crate::calls::fail(&shared, status))).await;
                return;
            }
        }
    }
}
