//! Reply dispatch: what each Bayeux response means for the session.
//!
//! Events in a response are taken first, whatever the replies say, so that no error path loses
//! one; then the reply to the request decides: a handshake connects the session and queues every
//! channel's subscription, a long poll schedules the next one, a control request's replies confirm,
//! retry or fail each subscription (a rejected replay id falls back once, see
//! [`Channels::fall_back`](crate::channels::Channels::fall_back)). Failures go to the phase rules
//! in `phases.rs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::control::ControlOp;
use super::early::Arrival;
use super::{InFlight, LongPoll, Phase, Session, queue, refetch};
use crate::bayeux::{Advice, Incoming, Reconnect, meta};
use crate::channels::{Admission, Fallback};
use crate::config::ReplayFrom;
use crate::error::{self, BayeuxError, Error, ErrorClass, ServerError};
use crate::extension::IncomingMessage;
use crate::message::{DecodeProblem, Message};
use crate::received::Item;
use crate::time::later;
use crate::transmit::RequestKind;
use crate::{DisconnectReason, Event, RefetchReason};

impl Session {
    pub(super) fn on_cometd(
        &mut self,
        req: InFlight,
        status: http::StatusCode,
        items: Result<Vec<Item>, String>,
        now: Instant,
    ) {
        let kind = req.kind;
        let items = match items {
            Ok(items) => items,
            Err(detail) => {
                if status.is_success() {
                    // A successful answer that does not read may have held events.
                    let err = Error::Protocol {
                        request: kind,
                        detail,
                    };
                    self.failed_after_reaching(req, err, now);
                    return;
                }
                let err = Error::HttpStatus {
                    request: kind,
                    status: status.as_u16(),
                };
                if refetch::from_gateway(status) {
                    self.failed_after_reaching(req, err, now);
                } else {
                    self.request_failed(req, err, ErrorClass::of_http_status(status.as_u16()), now);
                }
                return;
            }
        };
        // Events first, whatever the replies say: they are never lost to an error path.
        let mut server_disconnect = false;
        let mut reply = None;
        let mut control_replies = Vec::new();
        let queued_before = self.messages.len();
        let received_before = self.stats.messages_received;
        let extensions = self.config.extensions.clone();
        for item in items {
            let m = match item {
                Item::Event { message, problem } => {
                    extensions
                        .incoming(IncomingMessage::new(message.channel(), message.raw_json()));
                    self.accept_event(message, problem);
                    continue;
                }
                Item::Unreadable(e) => {
                    self.events.push_back(Event::Error(Error::Protocol {
                        request: kind,
                        detail: format!("a message could not be read: {e}"),
                    }));
                    continue;
                }
                Item::Meta(m, raw) => {
                    extensions.incoming(IncomingMessage::new(&m.channel, &raw));
                    m
                }
            };
            match (&*m.channel, kind) {
                (meta::DISCONNECT, _) if m.successful.is_none() && m.id.is_none() => {
                    server_disconnect = true
                }
                (meta::HANDSHAKE, RequestKind::Handshake)
                | (meta::CONNECT, RequestKind::Connect)
                    if reply.is_none() =>
                {
                    reply = Some(m);
                }
                (meta::SUBSCRIBE | meta::UNSUBSCRIBE, RequestKind::Control) => {
                    control_replies.push(m)
                }
                _ => {}
            }
        }
        if kind == RequestKind::Connect {
            self.last_batch = self.messages.len().saturating_sub(queued_before);
        }
        if self.stats.messages_received != received_before {
            self.stats.last_event_at = Some(now);
        }
        match kind {
            RequestKind::Handshake => self.on_handshake(req, reply, status, now),
            RequestKind::Connect => self.on_connect(req, reply, status, server_disconnect, now),
            RequestKind::Control => {
                self.on_control(req, control_replies, status, now);
                if server_disconnect {
                    self.session_lost(server_disconnect_error(), now);
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_handshake(
        &mut self,
        req: InFlight,
        reply: Option<Incoming<'_>>,
        status: http::StatusCode,
        now: Instant,
    ) {
        let Some(reply) = reply else {
            let (err, class) = no_reply(RequestKind::Handshake, status);
            self.request_failed(req, err, class, now);
            return;
        };
        if let Some(advice) = reply.advice {
            self.merge_advice(advice);
        }
        if reply.successful != Some(true) {
            let err = server_error(&reply);
            let class = err.class;
            self.request_failed(req, Error::Server(err), class, now);
            return;
        }
        let Some(client_id) = reply.client_id.clone() else {
            self.request_failed(
                req,
                Error::Protocol {
                    request: RequestKind::Handshake,
                    detail: "successful handshake without a clientId".into(),
                },
                ErrorClass::Transient,
                now,
            );
            return;
        };
        if self.config.uses_replay() && !reply.ext.as_ref().is_some_and(|e| e.replay) {
            self.events.push_back(Event::Error(Error::Protocol {
                request: RequestKind::Handshake,
                detail:
                    "the server did not advertise the replay extension; replay ids may be ignored"
                        .into(),
            }));
        }
        self.client_id = Some(client_id.clone());
        self.phase = Phase::Connected;
        self.last_poll_reply = Some(now);
        self.long_poll = LongPoll::Scheduled {
            at: now,
            immediate: true,
            early: false,
        };
        if self.stats.sessions > 0 {
            self.stats.reconnects += 1;
        }
        self.stats.sessions += 1;
        self.events.push_back(Event::Handshaken { client_id });
        let names: Vec<String> = self.channels.names().map(str::to_owned).collect();
        self.control.clear();
        for name in names {
            self.queue_subscribe(&name);
        }
    }

    pub(super) fn on_connect(
        &mut self,
        req: InFlight,
        reply: Option<Incoming<'_>>,
        status: http::StatusCode,
        server_disconnect: bool,
        now: Instant,
    ) {
        // A long poll whose successor went out early leaves the long poll alone.
        let early = req.arrival == Arrival::Early;
        if !early {
            self.long_poll = LongPoll::Idle;
        }
        if server_disconnect {
            self.session_lost(server_disconnect_error(), now);
            return;
        }
        let Some(reply) = reply else {
            let (err, class) = no_reply(RequestKind::Connect, status);
            self.request_failed(req, err, class, now);
            return;
        };
        if let Some(advice) = reply.advice {
            self.merge_advice(advice);
        }
        self.last_poll_reply = Some(req.arrived_at.unwrap_or(now));
        if reply.successful == Some(true) {
            self.backoff.reset();
            self.reachable();
            if !self.connected_once {
                self.connected_once = true;
                self.events.push_back(Event::Connected);
            }
            if !early {
                let interval = Duration::from_millis(self.advice.interval_ms.unwrap_or(0));
                self.long_poll = LongPoll::Scheduled {
                    at: later(now, interval),
                    immediate: false,
                    early: false,
                };
            }
            return;
        }
        let err = server_error(&reply);
        let mut class = err.class;
        let advice = reply.advice.and_then(|a| a.reconnect);
        if matches!(class, ErrorClass::Transient | ErrorClass::Unknown) {
            match advice {
                Some(Reconnect::Handshake) => class = ErrorClass::SessionLost,
                Some(Reconnect::None)
                    if !self.config.uses_replay() && class == ErrorClass::Unknown =>
                {
                    // A plain Bayeux server that says "do not retry" means it.
                    self.finish(DisconnectReason::ServerClosed(Error::Server(err)));
                    return;
                }
                _ => {}
            }
        }
        self.request_failed(req, Error::Server(err), class, now);
    }

    pub(super) fn on_control(
        &mut self,
        req: InFlight,
        replies: Vec<Incoming<'_>>,
        status: http::StatusCode,
        now: Instant,
    ) {
        let mut by_id: BTreeMap<String, Incoming<'_>> = BTreeMap::new();
        for r in replies {
            if let Some(id) = r.id.clone() {
                by_id.insert(id, r);
            }
        }
        let mut unanswered = Vec::new();
        let mut session_lost = None;
        let mut auth = None;
        let mut retry = None;
        for (msg_id, op) in req.ops {
            let Some(reply) = by_id.remove(&msg_id) else {
                unanswered.push((msg_id, op));
                continue;
            };
            let ok = reply.successful == Some(true);
            match op {
                ControlOp::Unsubscribe { channel, refetch } => {
                    if refetch {
                        // Events of the old subscription may still come (the server queued them
                        // before it took the unsubscribe); the replay gate tells them from the
                        // replay, so the channel is subscribed again at once.
                        self.resubscribe_after_refetch(channel);
                    } else {
                        if !ok {
                            let err = server_error(&reply);
                            if err.class == ErrorClass::SessionLost {
                                session_lost = Some(err.clone());
                            }
                            self.events.push_back(Event::Error(Error::Server(err)));
                        }
                        self.events.push_back(Event::Unsubscribed { channel });
                    }
                }
                ControlOp::Subscribe { channel, from } => {
                    if !self.channels.contains(&channel) {
                        continue; // unsubscribed meanwhile
                    }
                    if ok {
                        self.channels.confirm(&channel);
                        self.events.push_back(Event::Subscribed {
                            channel,
                            replay_from: from,
                        });
                        continue;
                    }
                    let mut err = server_error(&reply);
                    // A channel-level error names its channel, whether or not the server
                    // echoed the subscription.
                    err.subscription.get_or_insert_with(|| channel.clone());
                    match err.class {
                        ErrorClass::SessionLost => session_lost = Some(err),
                        ErrorClass::Auth => auth = Some(err),
                        ErrorClass::InvalidReplayId => self.on_invalid_replay(channel, from, err),
                        ErrorClass::Permission | ErrorClass::Channel | ErrorClass::Config => {
                            self.channels.remove(&channel);
                            self.events.push_back(Event::SubscribeFailed {
                                channel,
                                error: Error::Server(err),
                            });
                        }
                        _ => {
                            let long = err.class == ErrorClass::Limit;
                            self.channels.retry_subscribe(&channel);
                            self.control.subscribe(channel, from);
                            retry = Some((err, long));
                        }
                    }
                }
            }
        }
        if let Some(err) = session_lost {
            self.session_lost(Error::Server(err), now);
            return;
        }
        if let Some(err) = auth {
            self.request_failed(
                InFlight::new(RequestKind::Control, now, now, unanswered),
                Error::Server(err),
                ErrorClass::Auth,
                now,
            );
            return;
        }
        if !unanswered.is_empty() {
            let (err, class) = no_reply(RequestKind::Control, status);
            self.request_failed(
                InFlight::new(RequestKind::Control, now, now, unanswered),
                err,
                class,
                now,
            );
            return;
        }
        if let Some((err, long)) = retry {
            let delay = self.backoff.next_delay(long);
            self.control.wait_until(later(now, delay));
            self.events.push_back(Event::Reconnecting {
                after: delay,
                reason: Error::Server(err),
            });
        }
    }

    pub(super) fn on_invalid_replay(
        &mut self,
        channel: String,
        from: ReplayFrom,
        err: ServerError,
    ) {
        let rejected = error::invalid_replay_id(&err.error).or(match from {
            ReplayFrom::Id(id) => Some(id),
            _ => None,
        });
        match self
            .channels
            .fall_back(&channel, self.config.replay_fallback)
        {
            Fallback::Unknown => {}
            Fallback::Applied(to) => {
                self.events.push_back(Event::ReplayFallback {
                    channel: channel.clone(),
                    rejected,
                    using: to,
                    error: Error::Server(err),
                });
                self.control.subscribe(channel, to);
            }
            Fallback::Failed => {
                self.events.push_back(Event::SubscribeFailed {
                    channel,
                    error: Error::Server(err),
                });
            }
        }
    }

    pub(super) fn accept_event(&mut self, msg: Message, problem: Option<DecodeProblem>) {
        let uses_replay = self.config.uses_replay();
        // A message for a channel we never asked for (or that was unsubscribed) still reaches
        // the application: nothing the server delivered is dropped silently.
        // An empty queue takes any event, so that every event fits eventually.
        let full = !self.messages.is_empty()
            && self.messages.bytes().saturating_add(queue::size_of(&msg))
                > self.config.max_pending_bytes;
        match self
            .channels
            .admit(msg.channel(), msg.replay_id(), full, uses_replay)
        {
            Admission::Accept => {}
            Admission::SetAside => {
                self.stats.dropped_for_refetch += 1;
                return;
            }
            Admission::Stale => {
                self.stats.dropped_stale += 1;
                return;
            }
        }
        let problem = msg.missing_replay_id(uses_replay, problem);
        if let Some(problem) = problem {
            let channel_name = msg.channel();
            let detail = match problem {
                DecodeProblem::BadReplayId => format!(
                    "an event on {channel_name} has a replayId that is not an integer; delivered without one, it cannot be committed"
                ),
                DecodeProblem::BadData(d) => format!("an event on {channel_name}: {d}"),
            };
            self.events.push_back(Event::Error(Error::Protocol {
                request: RequestKind::Connect,
                detail,
            }));
        }
        self.stats.messages_received += 1;
        self.messages.push(msg);
    }

    /// Subscribes an overflowed channel again, from the last event its queue accepted; events
    /// above the first dropped one are stale until the replay starts.
    pub(super) fn resubscribe_after_refetch(&mut self, channel: String) {
        let Some(refetch) = self.channels.resubscribe_after_refetch(&channel) else {
            return;
        };
        let (from, dropped) = (refetch.from, refetch.dropped);
        self.stats.refetches += 1;
        tracing::debug!(%channel, ?from, dropped, "re-fetching events set aside for memory");
        self.events.push_back(Event::Refetch {
            channel: channel.clone(),
            from,
            reason: RefetchReason::MemoryBound { dropped },
        });
        self.control.subscribe(channel, from);
    }

    pub(super) fn merge_advice(&mut self, advice: Advice) {
        if advice.timeout_ms.is_some() {
            self.advice.timeout_ms = advice.timeout_ms;
        }
        if advice.interval_ms.is_some() {
            self.advice.interval_ms = advice.interval_ms;
        }
        if advice.reconnect.is_some() {
            self.advice.reconnect = advice.reconnect;
        }
        if advice.max_interval_ms.is_some() {
            self.advice.max_interval_ms = advice.max_interval_ms;
        }
    }
}

/// The error and class of a response that holds no reply to the request sent.
pub(super) fn no_reply(kind: RequestKind, status: http::StatusCode) -> (Error, ErrorClass) {
    if status.is_success() {
        let detail = "the response holds no reply to the request".into();
        (
            Error::Protocol {
                request: kind,
                detail,
            },
            ErrorClass::Transient,
        )
    } else {
        let err = Error::HttpStatus {
            request: kind,
            status: status.as_u16(),
        };
        (err, ErrorClass::of_http_status(status.as_u16()))
    }
}

pub(super) fn server_error(reply: &Incoming<'_>) -> ServerError {
    let error = BayeuxError::parse(
        reply
            .error
            .as_deref()
            .unwrap_or("unsuccessful reply without an error"),
    );
    let failure_reason = reply
        .ext
        .as_ref()
        .and_then(|e| e.failure_reason.as_deref())
        .map(BayeuxError::parse);
    let class = error::classify(&error, failure_reason.as_ref());
    ServerError {
        channel: reply.channel.to_string(),
        subscription: reply.subscription.clone(),
        error,
        failure_reason,
        class,
    }
}

pub(super) fn server_disconnect_error() -> Error {
    Error::Server(ServerError {
        channel: meta::DISCONNECT.to_owned(),
        subscription: None,
        error: BayeuxError::parse("the server ended the session with /meta/disconnect"),
        failure_reason: None,
        class: ErrorClass::SessionLost,
    })
}
