//! Outages: the connection timeout counts from when the first failing attempt was due an
//! answer (its sending; for a long poll, the end of the server's hold), and a token, handshake or
//! long poll that is still unanswered that long counts as an outage too. Every failure counts,
//! the token endpoint's 5xx and 429 included: a server that answers every request with an error
//! is as unusable as one that is down.

use std::time::Instant;

use super::early::Arrival;
use super::{Phase, Session};
use crate::Event;
use crate::error::Error;
use crate::time::later;
use crate::transmit::RequestKind;

impl Session {
    /// A long poll succeeded: the stream works again.
    pub(super) fn reachable(&mut self) {
        if self.outage_since.take().is_some() && self.outage_reported {
            self.events.push_back(Event::ConnectionRestored);
        }
        self.outage_reported = false;
    }

    /// A request failed: the server has been out of reach since `since` (or earlier).
    pub(super) fn unreachable(&mut self, since: Instant) {
        self.outage_since = Some(self.outage_since.map_or(since, |s| s.min(since)));
    }

    /// When the current outage began, if one is under way: the earliest of the first failure's
    /// start and the due time of a request that blocks the stream (token, handshake, long poll)
    /// and still has no answer.
    fn outage_began(&self) -> Option<Instant> {
        let waiting = self
            .in_flight
            .iter()
            .filter(|(id, r)| {
                !matches!(r.kind, RequestKind::Control | RequestKind::Disconnect)
                    && r.arrival == Arrival::Pending
                    && !self.is_held(**id)
            })
            .map(|(_, r)| r.due)
            .min();
        match (self.outage_since, waiting) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the outage under way passes the connection timeout, unless it was reported.
    pub(super) fn outage_report_due(&self) -> Option<Instant> {
        if self.outage_reported || self.phase == Phase::Closed {
            return None;
        }
        let limit = self.config.connection_timeout?;
        Some(later(self.outage_began()?, limit))
    }

    /// Reports an outage that has lasted the connection timeout (once per outage).
    pub(super) fn check_outage(&mut self, now: Instant) {
        if self.outage_report_due().is_some_and(|at| at <= now) {
            self.outage_reported = true;
            let since = self.outage_began().unwrap_or(now);
            self.events.push_back(Event::Error(Error::ConnectionLost {
                for_: now.saturating_duration_since(since),
            }));
        }
    }
}
