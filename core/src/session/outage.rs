//! Outages: the connection timeout counts from when the first failing attempt was due an
//! answer (its sending; for a long poll, the end of the server's hold), and a token, handshake or
//! long poll that is still unanswered that long counts as an outage too. Every failure counts,
//! the token endpoint's 5xx and 429 included: a server that answers every request with an error
//! is as unusable as one that is down.

use std::time::{Duration, Instant};

use super::early::Arrival;
use super::{Phase, Session};
use crate::Event;
use crate::error::Error;
use crate::time::later;
use crate::transmit::RequestKind;

/// A request unanswered this long (or the connection timeout, if longer) counts as an outage.
const STALLED_AFTER: Duration = Duration::from_secs(5);

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

    /// The earliest due time of a request that blocks the stream (token, handshake, long poll)
    /// and still has no answer.
    fn waiting_since(&self) -> Option<Instant> {
        self.in_flight
            .iter()
            .filter(|(id, r)| {
                !matches!(r.kind, RequestKind::Control | RequestKind::Disconnect)
                    && r.arrival == Arrival::Pending
                    && !self.is_held(**id)
            })
            .map(|(_, r)| r.due)
            .min()
    }

    /// When the outage under way passes the connection timeout, unless it was reported: the
    /// timeout after the first failure's due time, or after the due time of a request still
    /// unanswered — but no sooner than [`STALLED_AFTER`] after it, as no request is answered at
    /// once (a zero timeout gives up at the first failure, not while the server answers).
    pub(super) fn outage_report_due(&self) -> Option<Instant> {
        if self.outage_reported || self.phase == Phase::Closed {
            return None;
        }
        let limit = self.config.connection_timeout?;
        let failed = self.outage_since.map(|since| later(since, limit));
        let stalled = self
            .waiting_since()
            .map(|since| later(since, limit.max(STALLED_AFTER)));
        match (failed, stalled) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Reports an outage that has lasted the connection timeout (once per outage).
    pub(super) fn check_outage(&mut self, now: Instant) {
        if self.outage_report_due().is_some_and(|at| at <= now) {
            self.outage_reported = true;
            let since = match (self.outage_since, self.waiting_since()) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(now),
            };
            self.events.push_back(Event::Error(Error::ConnectionLost {
                for_: now.saturating_duration_since(since),
            }));
        }
    }
}
