//! Topics' `Subscribe` streams: opening them, asking for events as the application makes room,
//! reading what they bring, and deciding what follows when one ends.

use std::time::{Duration, Instant};

use prost::Message as _;

use crate::pubsub::frame::encode_message;
use crate::pubsub::proto::FetchRequest;
use crate::pubsub::proto::FetchResponse;
use crate::pubsub::{GrpcStatus, PubSubErrorClass, Status};

use super::PubSubSession;
use super::call::{CallId, CallKind};
use super::calls::{CallEnd, Route};
use super::credit::Credit;
use super::error::PubSubError;
use super::event::PubSubEvent;
use super::message::RawEvent;
use super::replay::{PubSubReplayFrom, ReplayId};
use super::request::call_head;
use super::topic::{Down, Stream, StreamState, Topic};

impl PubSubSession {
    /// Opens the stream of every topic that has none and may have one now.
    pub(super) fn drive_topics(&mut self, now: Instant) {
        let window = self.config.credit_window();
        let due: Vec<String> = self
            .topics
            .iter()
            .filter(|(_, t)| match t.stream {
                StreamState::Down(Down::Ready | Down::Room) => true,
                StreamState::Down(Down::Until(at)) => at <= now,
                StreamState::Open(_) => false,
            })
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            let Some(topic) = self.topics.get_mut(&name) else {
                continue;
            };
            let room = topic.room(window);
            if room == 0 {
                // A stream must ask for at least one event; it opens when the application has
                // taken some.
                topic.stream = StreamState::Down(Down::Room);
                continue;
            }
            self.open_stream(&name, room, now);
        }
    }

    fn open_stream(&mut self, name: &str, room: u32, now: Instant) {
        let Some(metadata) = self.auth.metadata().cloned() else {
            return;
        };
        let Some(topic) = self.topics.get(name) else {
            return;
        };
        let from = topic.resume_from();
        let (preset, replay_id) = from.wire();
        let request = FetchRequest {
            topic_name: name.to_owned(),
            replay_preset: preset.into(),
            replay_id,
            num_requested: i32::try_from(room).unwrap_or(i32::MAX),
            auth_refresh: String::new(),
        };
        let trace_id = self.trace_id();
        let head = match call_head(
            &self.endpoint,
            CallKind::Subscribe,
            &metadata,
            trace_id,
            None,
        ) {
            Ok(head) => head,
            Err(e) => return self.fatal(e),
        };
        let message = match encode_message(&request) {
            Ok(m) => m,
            Err(e) => return self.fatal(PubSubError::Config(e.to_string())),
        };
        let generation = self.auth.generation();
        let call = self.calls.open(
            Route::Subscribe(name.to_owned()),
            head,
            message,
            None,
            generation,
            now,
        );
        let mut credit = Credit::default();
        credit.requested(room);
        self.stats.streams_opened += 1;
        self.stats.fetch_requests += 1;
        self.stats.credits_requested += u64::from(room);
        if let Some(topic) = self.topics.get_mut(name) {
            topic.stream = StreamState::Open(Stream {
                call,
                from,
                credit,
                responses: 0,
                owed_nothing_since: None,
            });
        }
    }

    /// Asks for more events on a topic's stream when the application has made enough room: once
    /// a quarter of the window is free (so requests stay few, and the server works ahead while
    /// the application processes; an application that has nothing left has the whole window
    /// free), or with `force` for any room (before the server's idle timeout). The server is
    /// never owed more than the window less what the session holds.
    pub(super) fn top_up(&mut self, name: &str, window: u32, force: bool) {
        let Some(topic) = self.topics.get_mut(name) else {
            return;
        };
        let room = topic.room(window);
        let Some(stream) = topic.stream_mut() else {
            return;
        };
        let owed = stream.credit.outstanding();
        let want = room.saturating_sub(owed);
        let threshold = (window / 4).max(1);
        if want == 0 || !(force || want >= threshold) {
            return;
        }
        stream.credit.requested(want);
        stream.owed_nothing_since = None;
        let call = stream.call;
        let request = FetchRequest {
            topic_name: name.to_owned(),
            num_requested: i32::try_from(want).unwrap_or(i32::MAX),
            ..FetchRequest::default()
        };
        if let Ok(message) = encode_message(&request) {
            self.stats.fetch_requests += 1;
            self.stats.credits_requested += u64::from(want);
            self.calls.send(call, message);
        }
    }

    /// The application made room on a topic (took an event, or committed held ones): its stream
    /// asks for more, or a stream that waited for room opens at the next `handle_timeout` (which
    /// brings the time to measure its liveness from).
    pub(super) fn made_room(&mut self, name: &str) {
        let window = self.config.credit_window();
        let Some(topic) = self.topics.get(name) else {
            return;
        };
        if topic.stream().is_some() {
            self.top_up(name, window, false);
        } else if topic.room(window) > 0 {
            self.needs_drive = true;
        }
    }

    /// Sends the small top-ups of streams owed nothing for three quarters of the idle timeout.
    pub(super) fn check_idle(&mut self, now: Instant) {
        let window = self.config.credit_window();
        let due: Vec<String> = self
            .topics
            .iter()
            .filter(|(_, t)| self.idle_request_at(t).is_some_and(|at| at <= now))
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            self.top_up(&name, window, true);
        }
    }

    /// When a stream owed nothing, with room for more, must ask for it.
    fn idle_request_at(&self, topic: &Topic) -> Option<Instant> {
        let since = topic.stream()?.owed_nothing_since?;
        if topic.room(self.config.credit_window()) == 0 {
            return None;
        }
        Some(since + self.config.idle_timeout * 3 / 4)
    }

    /// The server accepted a topic's stream (its response head arrived).
    pub(super) fn on_subscribe_accepted(&mut self, name: &str, call: CallId) {
        let Some(stream) = self.topics.get(name).and_then(Topic::stream) else {
            return;
        };
        if stream.call != call {
            return;
        }
        let replay_from = stream.from.clone();
        if let Some(topic) = self.topics.get_mut(name) {
            if topic.accepted_before {
                self.stats.reconnects += 1;
            }
            topic.accepted_before = true;
        }
        self.stats.streams_accepted += 1;
        self.events.push_back(PubSubEvent::Subscribed {
            topic: name.to_owned(),
            replay_from,
        });
    }

    /// A message on a topic's stream.
    pub(super) fn on_fetch_response(
        &mut self,
        name: &str,
        call: CallId,
        bytes: bytes::Bytes,
        now: Instant,
    ) {
        if !self.topics.get(name).is_some_and(|t| t.is_stream(call)) {
            return;
        }
        let response = match FetchResponse::decode(bytes) {
            Ok(r) => r,
            Err(e) => {
                let detail = format!("a FetchResponse does not decode: {e}");
                self.events
                    .push_back(PubSubEvent::Error(PubSubError::Protocol {
                        kind: CallKind::Subscribe,
                        target: name.to_owned(),
                        detail: detail.clone(),
                    }));
                if let Some(end) = self
                    .calls
                    .fail(call, Status::new(GrpcStatus::Internal, detail))
                {
                    self.on_subscribe_end(name, end, now);
                }
                return;
            }
        };
        self.stats.fetch_responses += 1;
        let window = self.config.credit_window();
        let Some(topic) = self.topics.get_mut(name) else {
            return;
        };
        if let Some(stream) = topic.stream_mut() {
            stream.responses += 1;
            stream
                .credit
                .on_response(response.pending_num_requested, response.events.len());
            if stream.credit.outstanding() > 0 {
                stream.owed_nothing_since = None;
            } else {
                stream.owed_nothing_since.get_or_insert(now);
            }
        }
        // A stream that delivers is healthy: the next failure starts backing off afresh, and the
        // replay id it started from was accepted.
        topic.backoff.reset();
        topic.fallback_applied = false;
        if !response.events.is_empty() {
            self.stats.last_event_at = Some(now);
        }
        if response.events.is_empty() {
            self.stats.keepalives += 1;
            let latest = ReplayId::new(response.latest_replay_id);
            if !latest.is_empty() {
                topic.position = Some(latest.clone());
                if let Some(position) = topic.book.keepalive(latest) {
                    self.checkpoints.insert(name.to_owned(), position);
                }
            }
        }
        for consumer in response.events {
            let replay_id = ReplayId::new(consumer.replay_id);
            let mut problem = None;
            let event = consumer.event.unwrap_or_else(|| {
                problem = Some("the server sent an event without its content".to_owned());
                Default::default()
            });
            let Some(topic) = self.topics.get_mut(name) else {
                return;
            };
            if replay_id.is_empty() {
                problem.get_or_insert_with(|| {
                    "the server sent an event without a replay id: it cannot be committed".into()
                });
            } else {
                topic.position = Some(replay_id.clone());
            }
            let seq = topic.book.accept();
            let subscription = topic.subscription;
            self.stats.events_received += 1;
            let raw = RawEvent {
                topic: name.to_owned(),
                replay_id,
                schema_id: event.schema_id,
                event_id: event.id,
                payload: event.payload,
                headers: event.headers,
                problem,
                seq,
                subscription,
            };
            self.accept_raw(name, raw);
        }
        self.top_up(name, window, false);
    }

    /// A topic's stream ended: decide what follows from how.
    pub(super) fn on_subscribe_end(&mut self, name: &str, end: CallEnd, now: Instant) {
        let Some(topic) = self.topics.get_mut(name) else {
            return;
        };
        if !topic.is_stream(end.call) {
            return;
        }
        let StreamState::Open(stream) =
            std::mem::replace(&mut topic.stream, StreamState::Down(Down::Ready))
        else {
            return;
        };
        let owed = stream.credit.outstanding();
        let error = PubSubError::Call {
            kind: CallKind::Subscribe,
            target: name.to_owned(),
            status: end.status.clone(),
        };
        if end.status.is_ok() {
            if owed == 0 {
                // The server's idle close (or an end it was entitled to): nothing was owed, so
                // nothing is missing. Opened again as soon as there is room.
                self.stats.idle_closes += 1;
                self.events.push_back(PubSubEvent::IdleClosed {
                    topic: name.to_owned(),
                });
            } else {
                self.reconnect(name, error, PubSubErrorClass::Resubscribe, now);
            }
            return;
        }
        match end.status.class() {
            PubSubErrorClass::Auth => self.auth_refused(end.token_generation, error, now),
            PubSubErrorClass::InvalidReplayId => self.replay_rejected(name, stream.from, error),
            PubSubErrorClass::DeliveryLimit => {
                let retry_after = self.config.delivery_limit_retry;
                if let Some(topic) = self.topics.get_mut(name) {
                    topic.stream = StreamState::Down(Down::Until(now + retry_after));
                }
                self.events.push_back(PubSubEvent::DeliveryLimitReached {
                    topic: name.to_owned(),
                    retry_after,
                    error,
                });
            }
            PubSubErrorClass::Topic => self.topic_failed(name, error),
            PubSubErrorClass::Config => self.fatal(error),
            class => self.reconnect(name, error, class, now),
        }
    }

    /// Opens a topic's stream again after a failure: at once the first time a stream that worked
    /// ends without a specific cause, else after a backoff (with a long cap for limits).
    fn reconnect(
        &mut self,
        name: &str,
        reason: PubSubError,
        class: PubSubErrorClass,
        now: Instant,
    ) {
        let Some(topic) = self.topics.get_mut(name) else {
            return;
        };
        let after = if class == PubSubErrorClass::Resubscribe && topic.backoff.failures() == 0 {
            topic.backoff.next_delay(false);
            Duration::ZERO
        } else {
            topic.backoff.next_delay(class == PubSubErrorClass::Limit)
        };
        topic.stream = StreamState::Down(if after.is_zero() {
            Down::Ready
        } else {
            Down::Until(now + after)
        });
        self.events.push_back(PubSubEvent::Reconnecting {
            topic: Some(name.to_owned()),
            after,
            reason,
        });
    }

    /// The server rejected the replay id a stream started from: apply the configured fallback
    /// once, forgetting the rejected position, or give the topic up.
    fn replay_rejected(&mut self, name: &str, from: PubSubReplayFrom, error: PubSubError) {
        let fallback = self.config.replay_fallback;
        let Some(topic) = self.topics.get_mut(name) else {
            return;
        };
        match fallback {
            Some(fallback) if !topic.fallback_applied => {
                let using = PubSubReplayFrom::from_fallback(fallback);
                topic.fallback_applied = true;
                topic.start = using.clone();
                topic.position = None;
                topic.book.forget();
                topic.stream = StreamState::Down(Down::Ready);
                self.checkpoints.remove(name);
                self.stats.replay_fallbacks += 1;
                let rejected = match from {
                    PubSubReplayFrom::Custom(id) => Some(id),
                    _ => None,
                };
                self.events.push_back(PubSubEvent::ReplayFallback {
                    topic: name.to_owned(),
                    rejected,
                    using,
                    error,
                });
            }
            _ => self.topic_failed(name, error),
        }
    }

    /// Gives a topic up; its events already in the session stay deliverable.
    fn topic_failed(&mut self, name: &str, error: PubSubError) {
        if let Some(mut topic) = self.topics.remove(name) {
            if let Some(stream) = topic.stream() {
                self.calls.cancel(stream.call);
            }
            self.orphans.extend(topic.waiting.drain(..));
        }
        self.checkpoints.remove(name);
        self.events.push_back(PubSubEvent::SubscribeFailed {
            topic: name.to_owned(),
            error,
        });
    }

    /// Aborts the streams on which nothing arrived for longer than the watchdog allows.
    pub(super) fn check_watchdog(&mut self, now: Instant) {
        let Some(limit) = self.config.watchdog else {
            return;
        };
        let silent: Vec<(String, CallId, Duration)> = self
            .topics
            .iter()
            .filter_map(|(name, t)| {
                let call = t.stream()?.call;
                let silent_for = now.saturating_duration_since(self.calls.last_activity(call)?);
                (silent_for >= limit).then(|| (name.clone(), call, silent_for))
            })
            .collect();
        for (name, call, silent_for) in silent {
            self.calls.cancel(call);
            self.stats.watchdog_fired += 1;
            self.events.push_back(PubSubEvent::WatchdogFired {
                topic: name.clone(),
                silent_for,
            });
            let Some(topic) = self.topics.get_mut(&name) else {
                continue;
            };
            let owed = topic.stream().map_or(0, |s| s.credit.outstanding());
            topic.stream = StreamState::Down(Down::Ready);
            if owed > 0 {
                let reason = PubSubError::Watchdog {
                    topic: name.clone(),
                    silent_for,
                };
                self.reconnect(&name, reason, PubSubErrorClass::Resubscribe, now);
            }
        }
    }

    /// When a topic needs the session's attention: its backoff ends, or its stream's watchdog.
    pub(super) fn topic_wake(&self, topic: &Topic) -> Option<Instant> {
        match &topic.stream {
            StreamState::Down(Down::Until(at)) => Some(*at),
            StreamState::Down(_) => None,
            StreamState::Open(stream) => {
                let watchdog = self
                    .config
                    .watchdog
                    .and_then(|limit| Some(self.calls.last_activity(stream.call)? + limit));
                match (watchdog, self.idle_request_at(topic)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }
}
