//! The next long poll, sent as soon as a long-poll response has arrived rather than after it is
//! decoded: a pipeline of one.
//!
//! Decoding a response of a thousand events is most of the client's work, and Bayeux allows one
//! long poll at a time, so without this the server waits, idle, while the client decodes. The
//! reply that decides the next poll is the last message of the body (CometD servers, Salesforce's
//! among them, send it after the events; others first), and it can be read alone in a few
//! hundred bytes. Responses are still handled in the
//! order their polls were sent: one that arrives while an earlier one is being decoded is held
//! until that one is handled.

use std::time::{Duration, Instant};

use http::Response;

use super::{LongPoll, Phase, Session};
use crate::bayeux::{self, Advice, Reconnect};
use crate::received::Arrived;
use crate::transmit::{RequestId, RequestKind};

/// What the arrival of a request's response told, before its body was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    /// Not arrived, or the adapter does not report arrivals.
    Pending,
    /// Arrived; its cookies are stored; nothing was sent on its account.
    Seen,
    /// A long poll that arrived with a successful reply while an earlier response was still
    /// being decoded: its successor goes out once that one is handled.
    Peeked(Option<Advice>),
    /// A long poll whose successor went out when it arrived.
    Early,
}

impl Arrival {
    /// Whether [`Session::handle_arrived`] stored the response's cookies already.
    pub(super) fn cookies_stored(self) -> bool {
        self != Self::Pending
    }
}

impl Session {
    /// Reports that the whole response to request `id` has arrived: the first step of the
    /// response path in steps (see [`Received`](crate::Received)). Returns the token to decode
    /// (on any thread) and hand over with [`Session::handle_received`]; `None` when the session
    /// no longer waits for the request (it was abandoned), and the response can be dropped.
    ///
    /// For a long poll whose body ends with a successful reply, the session sends the next long
    /// poll now, so the server prepares the next batch while this one is decoded. Cheap: it
    /// reads the headers and the last few hundred bytes of the body.
    pub fn handle_arrived(
        &mut self,
        id: RequestId,
        response: Response<Vec<u8>>,
        now: Instant,
    ) -> Option<Arrived> {
        let known = self.in_flight.get(&id).map(|r| r.kind);
        if let Some(r) = self.recorder() {
            r.response("arrive", id, known, &response, now);
        }
        self.tick(now);
        self.note_arrival(id, &response, now);
        let kind = self.in_flight.get(&id)?.kind;
        Some(Arrived::new(id, kind, response))
    }

    /// What the arrival of a long poll's response allows: its cookies for the next request, and
    /// that next request at once.
    fn note_arrival(&mut self, id: RequestId, response: &Response<Vec<u8>>, now: Instant) {
        if self.long_poll != LongPoll::InFlight(id) {
            return;
        }
        let Some(req) = self.in_flight.get_mut(&id) else {
            return;
        };
        if req.arrival != Arrival::Pending {
            return;
        }
        req.arrival = Arrival::Seen;
        req.arrived_at = Some(now);
        // The next request carries what this response set (a load balancer's affinity cookie).
        if let Some(url) = self.request_url(RequestKind::Connect) {
            let wall = self.wall(now);
            self.cookies
                .store_from_response(&url, response.headers(), wall);
        }
        if !response.status().is_success()
            || response.body().len() > self.config.max_response_bytes
            || self.phase != Phase::Connected
        {
            return;
        }
        let Some(reply) = bayeux::edge_connect_reply(response.body()) else {
            return;
        };
        let advice = reply.advice;
        let retry = advice
            .and_then(|a| a.reconnect)
            .is_none_or(|r| r == Reconnect::Retry);
        if reply.successful != Some(true) || !retry {
            return;
        }
        if self.in_flight.values().any(|r| r.arrival == Arrival::Early) {
            if let Some(req) = self.in_flight.get_mut(&id) {
                req.arrival = Arrival::Peeked(advice);
            }
            return;
        }
        self.send_early(id, advice, now);
    }

    /// Schedules the long poll that follows `id` (sent at once unless the advice sets an
    /// interval), before `id`'s response is handled.
    fn send_early(&mut self, id: RequestId, advice: Option<Advice>, now: Instant) {
        if self.behind_for_early_poll() {
            // The application is behind: the next poll waits until this response is handled
            // and the backpressure rules let it go.
            return;
        }
        if let Some(req) = self.in_flight.get_mut(&id) {
            req.arrival = Arrival::Early;
        }
        if let Some(advice) = advice {
            self.merge_advice(advice);
        }
        let interval = Duration::from_millis(self.advice.interval_ms.unwrap_or(0));
        self.long_poll = LongPoll::Scheduled {
            at: crate::time::later(now, interval),
            immediate: false,
            early: true,
        };
        self.drive(now);
    }

    /// Whether the response to `id` must wait: it answers a long poll sent early, and the one
    /// before it has not been handled yet.
    pub(super) fn waits_for_earlier(&self, id: RequestId) -> bool {
        self.in_flight
            .get(&id)
            .is_some_and(|r| r.kind == RequestKind::Connect)
            && self
                .in_flight
                .range(..id)
                .any(|(_, r)| r.arrival == Arrival::Early)
    }

    /// Whether the response to `id` has arrived and waits for an earlier one.
    pub(super) fn is_held(&self, id: RequestId) -> bool {
        self.held.iter().any(|h| h.id == id)
    }

    /// A long poll whose successor went out early failed or expired: the successor, if it
    /// arrived meanwhile, may send its own successor, and the responses held behind it are
    /// handled. (A handled one does the same in [`Session::handle_received`].)
    pub(super) fn early_done(&mut self, now: Instant) {
        self.send_peeked(now);
        let held = std::mem::take(&mut self.held);
        self.hand_over(held.into(), now);
    }

    /// The long poll in flight arrived with a successful reply while the one before it was
    /// decoded: now that one is done with, its successor goes out.
    pub(super) fn send_peeked(&mut self, now: Instant) {
        if let LongPoll::InFlight(next) = self.long_poll {
            if let Some(Arrival::Peeked(advice)) = self.in_flight.get(&next).map(|r| r.arrival) {
                self.send_early(next, advice, now);
            }
        }
    }
}
