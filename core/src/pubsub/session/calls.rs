//! The bookkeeping of each gRPC call between its opening and its end: who it works for, its
//! response's framing, its unary reply, and how it ended (a reset, a transport failure, bad
//! framing or a deadline are given the status a gRPC client reports for them).

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::pubsub::frame::FrameDecoder;
use crate::pubsub::status::{ResponseHead, read_response_head, read_trailers};
use crate::pubsub::{GrpcStatus, Status};
use crate::transmit::TransportError;

use super::call::{CallId, CallKind, CallOp, OpenCall};
use super::publish::PublishId;

/// Who a call works for: the session routes what it brings to that owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// A topic's subscription stream.
    Subscribe(String),
    /// A schema fetch, by schema id.
    Schema(String),
    /// A topic's information, by topic name.
    Topic(String),
    /// A unary publish.
    Publish(PublishId),
    /// A topic's publish stream.
    PublishStream(String),
}

impl Route {
    /// The method a call for this owner uses.
    pub(super) fn kind(&self) -> CallKind {
        match self {
            Self::Subscribe(_) => CallKind::Subscribe,
            Self::Schema(_) => CallKind::GetSchema,
            Self::Topic(_) => CallKind::GetTopic,
            Self::Publish(_) => CallKind::Publish,
            Self::PublishStream(_) => CallKind::PublishStream,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Waiting,
    Streaming,
}

#[derive(Debug)]
struct CallState {
    kind: CallKind,
    route: Route,
    decoder: FrameDecoder,
    deadline: Option<Instant>,
    last_activity: Instant,
    head: Head,
    token_generation: u64,
    /// A unary call's reply, used only if the call ends with `OK`.
    unary_reply: Option<Bytes>,
}

/// How a call ended, with the owner it worked for.
#[derive(Debug, Clone)]
pub(super) struct CallEnd {
    pub(super) call: CallId,
    pub(super) route: Route,
    /// The outcome; a reset, a transport failure, bad framing or a deadline are given the status
    /// a gRPC client reports for them.
    pub(super) status: Status,
    /// The token generation the call was opened with (see `Auth`).
    pub(super) token_generation: u64,
    /// A unary call's reply (only with an `OK` status).
    pub(super) reply: Option<Bytes>,
}

/// What one input brought: messages for the call's owner, and perhaps the call's end.
#[derive(Debug, Default)]
pub(super) struct Arrived {
    pub(super) route: Option<(CallId, Route)>,
    /// The response head arrived and says the call is streaming (the server accepted it).
    pub(super) accepted: bool,
    pub(super) messages: Vec<Bytes>,
    pub(super) end: Option<CallEnd>,
}

/// Every call in progress, and the operations the adapter has yet to take.
#[derive(Debug)]
pub(super) struct Calls {
    next: u64,
    live: BTreeMap<CallId, CallState>,
    ops: VecDeque<CallOp>,
    max_message_size: usize,
}

impl Calls {
    pub(super) fn new(max_message_size: usize) -> Self {
        Self {
            next: 1,
            live: BTreeMap::new(),
            ops: VecDeque::new(),
            max_message_size,
        }
    }

    /// Opens a call with its first message; a unary call is half-closed at once.
    pub(super) fn open(
        &mut self,
        route: Route,
        request: http::Request<()>,
        first: Bytes,
        deadline: Option<Instant>,
        token_generation: u64,
        now: Instant,
    ) -> CallId {
        let kind = route.kind();
        let call = CallId(self.next);
        self.next += 1;
        self.live.insert(
            call,
            CallState {
                kind,
                route,
                decoder: FrameDecoder::with_max_message_size(self.max_message_size),
                deadline,
                last_activity: now,
                head: Head::Waiting,
                token_generation,
                unary_reply: None,
            },
        );
        self.ops.push_back(CallOp::Open(OpenCall {
            call,
            kind,
            request,
            deadline,
        }));
        self.ops.push_back(CallOp::Send {
            call,
            message: first,
        });
        if !kind.is_streaming() {
            self.ops.push_back(CallOp::HalfClose { call });
        }
        call
    }

    pub(super) fn send(&mut self, call: CallId, message: Bytes) {
        if self.live.contains_key(&call) {
            self.ops.push_back(CallOp::Send { call, message });
        }
    }

    /// Abandons a call: the adapter aborts it, and whatever comes for it later is ignored.
    pub(super) fn cancel(&mut self, call: CallId) {
        if self.live.remove(&call).is_some() {
            self.ops.push_back(CallOp::Cancel { call });
        }
    }

    pub(super) fn pop_op(&mut self) -> Option<CallOp> {
        self.ops.pop_front()
    }

    pub(super) fn len(&self) -> usize {
        self.live.len()
    }

    /// Ids of every live call, oldest first.
    pub(super) fn ids(&self) -> Vec<CallId> {
        self.live.keys().copied().collect()
    }

    /// The token generation a live call was opened with.
    pub(super) fn generation(&self, call: CallId) -> Option<u64> {
        self.live.get(&call).map(|c| c.token_generation)
    }

    /// When the call last brought anything (or was opened).
    pub(super) fn last_activity(&self, call: CallId) -> Option<Instant> {
        self.live.get(&call).map(|c| c.last_activity)
    }

    /// The earliest deadline of a unary call.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.live.values().filter_map(|c| c.deadline).min()
    }

    /// Ends the unary calls past their deadline, with `DEADLINE_EXCEEDED`.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<CallEnd> {
        let due: Vec<CallId> = self
            .live
            .iter()
            .filter(|(_, c)| c.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        due.into_iter()
            .filter_map(|call| {
                self.ops.push_back(CallOp::Cancel { call });
                self.end(
                    call,
                    Status::new(
                        GrpcStatus::DeadlineExceeded,
                        "no response before the deadline",
                    ),
                )
            })
            .collect()
    }

    fn end(&mut self, call: CallId, status: Status) -> Option<CallEnd> {
        let state = self.live.remove(&call)?;
        let reply = if status.is_ok() {
            state.unary_reply
        } else {
            None
        };
        Some(CallEnd {
            call,
            route: state.route,
            status,
            token_generation: state.token_generation,
            reply,
        })
    }

    /// Ends a call because the session could not use what it brought (an undecodable message):
    /// the adapter aborts it.
    pub(super) fn fail(&mut self, call: CallId, status: Status) -> Option<CallEnd> {
        if self.live.contains_key(&call) {
            self.ops.push_back(CallOp::Cancel { call });
        }
        self.end(call, status)
    }

    pub(super) fn on_headers(
        &mut self,
        call: CallId,
        status: StatusCode,
        headers: &HeaderMap,
        now: Instant,
    ) -> Arrived {
        let Some(state) = self.live.get_mut(&call) else {
            return Arrived::default();
        };
        state.last_activity = now;
        let route = Some((call, state.route.clone()));
        if state.head == Head::Streaming {
            // A second head is not gRPC; read it as trailers, which end the call.
            return self.on_trailers(call, headers, now);
        }
        match read_response_head(status, headers) {
            ResponseHead::Streaming => {
                state.head = Head::Streaming;
                Arrived {
                    route,
                    accepted: true,
                    ..Arrived::default()
                }
            }
            ResponseHead::Ended(status) => Arrived {
                route,
                end: self.end(call, status),
                ..Arrived::default()
            },
            // `ResponseHead` may grow; an unknown head is read as the end of the call.
            #[allow(unreachable_patterns, reason = "ResponseHead is non_exhaustive")]
            _ => Arrived {
                route,
                end: self.end(
                    call,
                    Status::new(GrpcStatus::Unknown, "an unreadable response head"),
                ),
                ..Arrived::default()
            },
        }
    }

    pub(super) fn on_data(&mut self, call: CallId, chunk: &[u8], now: Instant) -> Arrived {
        let Some(state) = self.live.get_mut(&call) else {
            return Arrived::default();
        };
        state.last_activity = now;
        let route = Some((call, state.route.clone()));
        state.decoder.push(chunk);
        let mut messages = Vec::new();
        loop {
            match state.decoder.next_frame() {
                Ok(Some(frame)) => {
                    if state.kind.is_streaming() {
                        messages.push(frame.payload);
                    } else if state.unary_reply.is_none() {
                        state.unary_reply = Some(frame.payload);
                    } else {
                        let status = Status::new(
                            GrpcStatus::Internal,
                            format!(
                                "the server sent more than one response message on the unary \
                                 {} call",
                                state.kind.as_str()
                            ),
                        );
                        return Arrived {
                            route,
                            messages,
                            end: self.fail(call, status),
                            ..Arrived::default()
                        };
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    let status = Status::new(GrpcStatus::Internal, error.to_string());
                    return Arrived {
                        route,
                        messages,
                        end: self.fail(call, status),
                        ..Arrived::default()
                    };
                }
            }
        }
        Arrived {
            route,
            messages,
            ..Arrived::default()
        }
    }

    pub(super) fn on_trailers(
        &mut self,
        call: CallId,
        trailers: &HeaderMap,
        now: Instant,
    ) -> Arrived {
        let Some(state) = self.live.get_mut(&call) else {
            return Arrived::default();
        };
        state.last_activity = now;
        let route = Some((call, state.route.clone()));
        let mut status = read_trailers(trailers);
        if let Err(error) = state.decoder.finish() {
            if status.is_ok() {
                status = Status::new(GrpcStatus::Internal, error.to_string());
            }
        } else if status.is_ok() && !state.kind.is_streaming() && state.unary_reply.is_none() {
            status = Status::new(
                GrpcStatus::Internal,
                format!(
                    "the unary {} call ended with OK but no response message",
                    state.kind.as_str()
                ),
            );
        }
        Arrived {
            route,
            end: self.end(call, status),
            ..Arrived::default()
        }
    }

    pub(super) fn on_reset(&mut self, call: CallId, h2_error_code: u32) -> Arrived {
        let route = self.live.get(&call).map(|s| (call, s.route.clone()));
        Arrived {
            route,
            end: self.end(call, Status::from_reset(h2_error_code)),
            ..Arrived::default()
        }
    }

    pub(super) fn on_error(&mut self, call: CallId, error: &TransportError) -> Arrived {
        let route = self.live.get(&call).map(|s| (call, s.route.clone()));
        let code = match error {
            TransportError::Timeout => GrpcStatus::DeadlineExceeded,
            _ => GrpcStatus::Unavailable,
        };
        Arrived {
            route,
            end: self.end(call, Status::new(code, error.to_string())),
            ..Arrived::default()
        }
    }

    /// Abandons every call.
    pub(super) fn cancel_all(&mut self) {
        for call in self.ids() {
            self.cancel(call);
        }
    }
}
