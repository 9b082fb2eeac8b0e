//! A long poll that breaks after the server may have handed it events.
//!
//! Salesforce has no acknowledgement: events written into a `/meta/connect` response are gone
//! for that Bayeux session whether or not the client read them. So when a long poll fails after
//! its request may have reached the server — the connection broke after the request was written,
//! the body broke off, the deadline passed while the server held it, a successful answer did not
//! parse, a gateway answered for the server — every channel is fetched again from its last
//! accepted replay id. Failures before the request left (refused, DNS, TLS) are retried as
//! before ([`TransportError::may_have_reached_server`](crate::TransportError::may_have_reached_server)).
//!
//! The re-fetch runs on a **new Bayeux session** rather than by unsubscribing and subscribing
//! again on the old one: the old session's queue on the server may still hold events queued
//! before the unsubscribe, from past the lost ones, and as replay ids need not be consecutive
//! nothing would tell the first of those from the first event of the replay. A new session's
//! queue holds only what its subscriptions bring: the replay after the last accepted id, so
//! nothing is lost and nothing already accepted comes twice. Messages waiting for the
//! application are kept. The old session expires on the server (no poll within 40 s).

use std::time::Instant;

use super::{InFlight, Phase, Session, Step};
use crate::error::{Error, ErrorClass};
use crate::transmit::{RequestKind, TransportError};
use crate::{Event, RefetchReason};

impl Session {
    /// A request failed after it may have reached the server. For a long poll on a session
    /// with replay and subscriptions, that starts a re-fetch of every channel; anything else is
    /// an ordinary transient failure.
    pub(super) fn failed_after_reaching(&mut self, req: InFlight, err: Error, now: Instant) {
        if req.kind != RequestKind::Connect
            || !self.config.uses_replay()
            || self.phase != Phase::Connected
            || self.channels.is_empty()
        {
            self.request_failed(req, err, ErrorClass::Transient, now);
            return;
        }
        let points = self.channels.resume_all_after_accepted();
        let oversized = matches!(
            err,
            Error::Transport {
                error: TransportError::BodyTooLarge { .. },
                ..
            }
        );
        // A response over the bound again from the very same points cannot get through by
        // fetching it again: stop with the fix rather than loop on it for ever.
        if oversized && self.oversized_from.as_ref() == Some(&points) {
            let limit = self.config.max_response_bytes;
            self.request_failed(req, oversized_again(limit), ErrorClass::Config, now);
            return;
        }
        self.oversized_from = oversized.then(|| points.clone());
        self.unreachable(req.due.min(now));
        self.stats.broken_long_polls += 1;
        for (channel, from) in points {
            self.stats.refetches += 1;
            self.events.push_back(Event::Refetch {
                channel,
                from,
                reason: RefetchReason::BrokenLongPoll(err.clone()),
            });
        }
        // At once the first time; repeats back off like lost sessions.
        self.wait_then(Step::Handshake, err, ErrorClass::SessionLost, now);
    }
}

/// The error for a long poll whose response exceeded `max_response_bytes` twice from the same
/// replay points: an event (or the server's batch of them) larger than the bound.
fn oversized_again(limit: usize) -> Error {
    Error::Config(format!(
        "the server's response to the long poll was larger than max_response_bytes \
         ({limit} bytes) twice from the same replay ids: an event or batch that large cannot \
         be received; raise max_response_bytes (the events stay on the server within its \
         retention and are fetched from the last committed id after a restart)"
    ))
}

/// Whether an HTTP status comes from a gateway that gave up on the server behind it (502, 504):
/// that server may have answered the long poll, with events, after the gateway stopped waiting.
pub(super) fn from_gateway(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 502 | 504)
}
