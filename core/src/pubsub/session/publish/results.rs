//! Publishing, the answering side: topic information, each call's results matched to their
//! events, failures, and the outcome of a publish once every event has one.

use std::collections::VecDeque;
use std::time::Instant;

use prost::Message as _;

use crate::pubsub::proto::{PublishResponse, TopicInfo};
use crate::pubsub::{GrpcStatus, PubSubErrorClass, Status};

use super::super::PubSubSession;
use super::super::call::{CallId, CallKind};
use super::super::calls::CallEnd;
use super::super::error::PubSubError;
use super::super::event::PubSubEvent;
use super::super::replay::ReplayId;
use super::{Chunk, Info, PublishFailure, PublishId, PublishOutcome, Queued};

impl PubSubSession {
    /// A `GetTopic` call ended.
    pub(in crate::pubsub::session) fn on_topic_end(
        &mut self,
        topic: String,
        end: CallEnd,
        now: Instant,
    ) {
        let Some(Info::Fetching { call, report }) = self.publisher.info.get(&topic).cloned() else {
            return;
        };
        if call != end.call {
            return;
        }
        let outcome = if end.status.is_ok() {
            match end.reply.as_deref().map(TopicInfo::decode) {
                Some(Ok(info)) => Ok(info),
                _ => Err(PubSubError::Protocol {
                    kind: CallKind::GetTopic,
                    target: topic.clone(),
                    detail: "TopicInfo does not decode".into(),
                }),
            }
        } else {
            Err(PubSubError::Call {
                kind: CallKind::GetTopic,
                target: topic.clone(),
                status: end.status.clone(),
            })
        };
        match outcome {
            Ok(info) => {
                self.auth.healthy(end.token_generation);
                self.publisher.backoff.reset();
                if report {
                    self.events.push_back(PubSubEvent::TopicInfo {
                        topic: topic.clone(),
                        info: info.clone(),
                    });
                }
                self.publisher.info.insert(topic, Info::Known(info));
            }
            Err(error) => {
                let class = error.class();
                if class == Some(PubSubErrorClass::Auth) {
                    self.publisher
                        .info
                        .insert(topic, Info::Wanted { at: now, report });
                    self.auth_refused(end.token_generation, error, now);
                    return;
                }
                if report {
                    self.events.push_back(PubSubEvent::TopicInfoFailed {
                        topic: topic.clone(),
                        error: error.clone(),
                    });
                }
                let waiting = self.publisher.queue.iter().any(|q| q.topic == topic);
                let retry = matches!(
                    class,
                    Some(
                        PubSubErrorClass::Transient
                            | PubSubErrorClass::Resubscribe
                            | PubSubErrorClass::Limit
                    )
                );
                if waiting && retry {
                    let after = self.publisher.backoff.next_delay(false);
                    self.publisher.info.insert(
                        topic,
                        Info::Wanted {
                            at: now + after,
                            report: false,
                        },
                    );
                } else {
                    self.publisher.info.remove(&topic);
                    self.fail_queued(&topic, &error);
                }
            }
        }
    }

    pub(super) fn fail_queued(&mut self, topic: &str, error: &PubSubError) {
        let (failed, kept): (VecDeque<Queued>, VecDeque<Queued>) =
            std::mem::take(&mut self.publisher.queue)
                .into_iter()
                .partition(|q| q.topic == topic);
        self.publisher.queue = kept;
        for q in failed {
            self.events.push_back(PubSubEvent::PublishFailed {
                id: q.id,
                topic: q.topic,
                error: error.clone(),
            });
        }
    }

    /// A unary `Publish` call ended.
    pub(in crate::pubsub::session) fn on_publish_end(&mut self, end: CallEnd, now: Instant) {
        let Some(chunk) = self.publisher.unary.remove(&end.call) else {
            return;
        };
        if end.status.is_ok() {
            self.auth.healthy(end.token_generation);
            match end.reply.as_deref().map(PublishResponse::decode) {
                Some(Ok(response)) => self.apply_results(&chunk, response),
                _ => self.fail_chunk(&chunk, "the PublishResponse does not decode"),
            }
            return;
        }
        let error = PubSubError::Call {
            kind: CallKind::Publish,
            target: chunk.topic.clone(),
            status: end.status.clone(),
        };
        if end.status.class() == PubSubErrorClass::Auth {
            // Refused before anything was read: sent again with the new token.
            self.publisher.outbox.push_front(chunk);
            self.auth_refused(end.token_generation, error, now);
        } else {
            self.fail_chunk(&chunk, &error.to_string());
        }
    }

    /// A message on a topic's `PublishStream`.
    pub(in crate::pubsub::session) fn on_publish_stream_message(
        &mut self,
        topic: &str,
        call: CallId,
        bytes: bytes::Bytes,
    ) {
        let Some(stream) = self
            .publisher
            .streams
            .get_mut(topic)
            .filter(|s| s.call == call)
        else {
            return;
        };
        stream.responses += 1;
        let response = match PublishResponse::decode(bytes) {
            Ok(r) => r,
            Err(e) => {
                self.events
                    .push_back(PubSubEvent::Error(PubSubError::Protocol {
                        kind: CallKind::PublishStream,
                        target: topic.to_owned(),
                        detail: format!("a PublishResponse does not decode: {e}"),
                    }));
                return;
            }
        };
        // A response without results is the stream's keepalive.
        let mut done = Vec::new();
        for result in response.results {
            let Some(queue) = stream.keys.get_mut(&result.correlation_key) else {
                continue;
            };
            let Some((id, index)) = queue.pop_front() else {
                continue;
            };
            if queue.is_empty() {
                stream.keys.remove(&result.correlation_key);
            }
            let outcome = outcome_of(result.error, result.replay_id);
            if let Some(batch) = self.publisher.batches.get_mut(&id) {
                if let Some(slot) = batch.results.get_mut(index) {
                    *slot = Some(outcome);
                }
            }
            done.push(id);
        }
        for id in done {
            self.complete_if_done(id);
        }
    }

    /// A topic's `PublishStream` ended: events without a result fail (sent again with a new token
    /// if the stream was refused before it answered anything).
    pub(in crate::pubsub::session) fn on_publish_stream_end(
        &mut self,
        topic: &str,
        end: CallEnd,
        now: Instant,
    ) {
        if self
            .publisher
            .streams
            .get(topic)
            .is_none_or(|s| s.call != end.call)
        {
            return;
        }
        let Some(stream) = self.publisher.streams.remove(topic) else {
            return;
        };
        if stream.keys.is_empty() {
            return; // the server's idle close, or a close after every result
        }
        let error = PubSubError::Call {
            kind: CallKind::PublishStream,
            target: topic.to_owned(),
            status: end.status.clone(),
        };
        if end.status.class() == PubSubErrorClass::Auth && stream.responses == 0 {
            for chunk in stream.sent.into_iter().rev() {
                self.publisher.outbox.push_front(chunk);
            }
            self.auth_refused(end.token_generation, error, now);
            return;
        }
        let text = if end.status.is_ok() {
            "the stream ended before the server answered for the event".to_owned()
        } else {
            error.to_string()
        };
        let mut ids = Vec::new();
        for (id, index) in stream.keys.into_values().flatten() {
            if let Some(slot) = self
                .publisher
                .batches
                .get_mut(&id)
                .and_then(|b| b.results.get_mut(index))
            {
                *slot = Some(Err(PublishFailure::Call(text.clone())));
            }
            ids.push(id);
        }
        for id in ids {
            self.complete_if_done(id);
        }
    }

    fn apply_results(&mut self, chunk: &Chunk, response: PublishResponse) {
        let mut results = response.results.into_iter();
        if let Some(batch) = self.publisher.batches.get_mut(&chunk.id) {
            for (event, index) in chunk.events.iter().zip(&chunk.indices) {
                // Results come in the order of the request's events; a missing one fails its
                // event rather than leave the publish waiting forever.
                let outcome = match results.next() {
                    Some(r) if r.correlation_key.is_empty() || r.correlation_key == event.id => {
                        outcome_of(r.error, r.replay_id)
                    }
                    Some(r) => Err(PublishFailure::Call(format!(
                        "the server's result names the event {:?}, not {:?}",
                        r.correlation_key, event.id
                    ))),
                    None => Err(PublishFailure::Call(
                        "the server returned no result for the event".into(),
                    )),
                };
                if let Some(slot) = batch.results.get_mut(*index) {
                    *slot = Some(outcome);
                }
            }
        }
        self.complete_if_done(chunk.id);
    }

    fn fail_chunk(&mut self, chunk: &Chunk, why: &str) {
        if let Some(batch) = self.publisher.batches.get_mut(&chunk.id) {
            for index in &chunk.indices {
                if let Some(slot) = batch.results.get_mut(*index) {
                    *slot = Some(Err(PublishFailure::Call(why.to_owned())));
                }
            }
        }
        self.complete_if_done(chunk.id);
    }

    /// Emits a publish's outcome once every event has one.
    pub(super) fn complete_if_done(&mut self, id: PublishId) {
        let complete = self
            .publisher
            .batches
            .get(&id)
            .is_some_and(|b| b.results.iter().all(Option::is_some));
        if !complete {
            return;
        }
        let Some(batch) = self.publisher.batches.remove(&id) else {
            return;
        };
        let results: Vec<PublishOutcome> = batch
            .keys
            .into_iter()
            .zip(batch.results)
            .map(|(correlation_key, result)| PublishOutcome {
                correlation_key,
                result: result.unwrap_or_else(|| Err(PublishFailure::Call("no result".into()))),
            })
            .collect();
        for r in &results {
            match &r.result {
                Ok(_) => self.stats.events_published += 1,
                Err(PublishFailure::Refused { .. }) => self.stats.events_refused += 1,
                Err(_) => {}
            }
        }
        self.events.push_back(PubSubEvent::Published {
            id,
            topic: batch.topic,
            results,
        });
    }

    /// Ends the publish streams that owe results and were silent past the watchdog (a dead
    /// connection would leave their publishes waiting forever): their events fail as unknown.
    pub(in crate::pubsub::session) fn check_publish_watchdog(&mut self, now: Instant) {
        let Some(limit) = self.config.watchdog else {
            return;
        };
        let silent: Vec<(String, CallId, std::time::Duration)> = self
            .publisher
            .streams
            .iter()
            .filter(|(_, s)| !s.keys.is_empty())
            .filter_map(|(topic, s)| {
                let silent_for = now.saturating_duration_since(self.calls.last_activity(s.call)?);
                (silent_for >= limit).then(|| (topic.clone(), s.call, silent_for))
            })
            .collect();
        for (topic, call, silent_for) in silent {
            let status = Status::new(
                GrpcStatus::Unavailable,
                format!(
                    "no response on the publish stream for {:.1}s: the connection looks dead",
                    silent_for.as_secs_f64()
                ),
            );
            if let Some(end) = self.calls.fail(call, status) {
                self.on_publish_stream_end(&topic, end, now);
            }
        }
    }

    /// When a publish stream that owes results trips the watchdog.
    pub(in crate::pubsub::session) fn publish_wake(&self) -> Option<Instant> {
        let limit = self.config.watchdog?;
        self.publisher
            .streams
            .values()
            .filter(|s| !s.keys.is_empty())
            .filter_map(|s| Some(self.calls.last_activity(s.call)? + limit))
            .min()
    }

    /// Fails every publish (the session is closing).
    pub(in crate::pubsub::session) fn fail_all_publishes(&mut self, error: PubSubError) {
        for q in std::mem::take(&mut self.publisher.queue) {
            self.events.push_back(PubSubEvent::PublishFailed {
                id: q.id,
                topic: q.topic,
                error: error.clone(),
            });
        }
        self.publisher.outbox.clear();
        self.publisher.unary.clear();
        self.publisher.streams.clear();
        let text = error.to_string();
        let ids: Vec<PublishId> = self.publisher.batches.keys().copied().collect();
        for id in ids {
            if let Some(batch) = self.publisher.batches.get_mut(&id) {
                for slot in &mut batch.results {
                    slot.get_or_insert_with(|| Err(PublishFailure::Call(text.clone())));
                }
            }
            self.complete_if_done(id);
        }
    }
}

fn outcome_of(
    error: Option<crate::pubsub::proto::Error>,
    replay_id: bytes::Bytes,
) -> Result<ReplayId, PublishFailure> {
    match error {
        Some(e) => Err(PublishFailure::Refused {
            code: e.code,
            message: e.msg,
        }),
        None if replay_id.is_empty() => Err(PublishFailure::Refused {
            code: 0,
            message: "the server returned neither a replay id nor an error".into(),
        }),
        None => Ok(ReplayId::new(replay_id)),
    }
}
