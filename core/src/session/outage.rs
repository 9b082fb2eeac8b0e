//! Outages: when the server has been out of reach for the connection timeout.
//!
//! The rules, all kept here:
//! - An outage starts when the first failing attempt was due an answer (its sending; for a long
//!   poll, the end of the server's hold), not when it failed. Every failure counts, the token
//!   endpoint's 5xx and 429 included: a server that answers every request with an error is as
//!   unusable as one that is down.
//! - A token, handshake or long poll still unanswered counts too, from its due time, once it has
//!   waited the connection timeout and at least [`STALLED_AFTER`]: no request is answered at
//!   once, so a zero timeout gives up at the first failure, not while the server answers.
//! - An outage is reported once, as its length; a long poll that succeeds ends it, and only a
//!   reported outage is followed by a report that the connection is back.
//!
//! The session says which requests block the stream (it knows what is in flight) and when the
//! tracker is asked; the tracker never looks at the session.

use std::time::{Duration, Instant};

use crate::time::later;

/// A request unanswered this long (or the connection timeout, if longer) counts as an outage.
pub(super) const STALLED_AFTER: Duration = Duration::from_secs(5);

/// The outage under way, if any, and whether it was reported.
#[derive(Debug, Default)]
pub(super) struct Outage {
    /// The earliest due time of a failed attempt since the stream last worked.
    since: Option<Instant>,
    reported: bool,
}

impl Outage {
    /// A long poll succeeded: the stream works again. Returns whether a reported outage ended
    /// (the application is told the connection is back).
    pub(super) fn ended(&mut self) -> bool {
        let restored = self.since.take().is_some() && self.reported;
        self.reported = false;
        restored
    }

    /// A request due an answer at `due` failed: the server has been out of reach since then (or
    /// earlier).
    pub(super) fn failed(&mut self, due: Instant) {
        self.since = Some(self.since.map_or(due, |s| s.min(due)));
    }

    /// When the outage under way passes `limit` (the connection timeout), unless it was
    /// reported: `limit` after the first failure's due time, or after `waiting` (the earliest
    /// due time of a blocking request still unanswered) — but no sooner than [`STALLED_AFTER`]
    /// after it.
    pub(super) fn report_due(
        &self,
        limit: Option<Duration>,
        waiting: Option<Instant>,
    ) -> Option<Instant> {
        if self.reported {
            return None;
        }
        let limit = limit?;
        let failed = self.since.map(|since| later(since, limit));
        let stalled = waiting.map(|since| later(since, limit.max(STALLED_AFTER)));
        match (failed, stalled) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// If the outage has lasted `limit` at `now`, marks it reported and returns its length, once
    /// per outage.
    pub(super) fn report(
        &mut self,
        now: Instant,
        limit: Option<Duration>,
        waiting: Option<Instant>,
    ) -> Option<Duration> {
        if self.report_due(limit, waiting).is_none_or(|at| at > now) {
            return None;
        }
        self.reported = true;
        let since = match (self.since, waiting) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(now),
        };
        Some(now.saturating_duration_since(since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Option<Duration> = Some(Duration::from_secs(30));

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn start() -> Instant {
        crate::time::test_origin()
    }

    #[test]
    fn counts_from_the_first_failed_attempts_due_time() {
        let t0 = start();
        let mut o = Outage::default();
        o.failed(t0 + secs(10));
        o.failed(t0 + secs(4)); // an earlier attempt failed later
        o.failed(t0 + secs(20));
        assert_eq!(o.report_due(LIMIT, None), Some(t0 + secs(34)));
        assert_eq!(o.report(t0 + secs(33), LIMIT, None), None);
        assert_eq!(o.report(t0 + secs(34), LIMIT, None), Some(secs(30)));
    }

    #[test]
    fn reported_once_and_restored_only_after_a_report() {
        let t0 = start();
        let mut o = Outage::default();
        o.failed(t0);
        assert!(!o.ended(), "an unreported outage ends silently");
        o.failed(t0);
        assert_eq!(o.report(t0 + secs(31), LIMIT, None), Some(secs(31)));
        assert_eq!(o.report_due(LIMIT, None), None);
        assert_eq!(
            o.report(t0 + secs(90), LIMIT, None),
            None,
            "once per outage"
        );
        assert!(o.ended());
        assert!(!o.ended(), "restored once");
        assert_eq!(o.report_due(LIMIT, None), None, "no outage under way");
    }

    #[test]
    fn an_unanswered_request_counts_after_the_timeout_but_never_before_five_seconds() {
        let t0 = start();
        let o = Outage::default();
        assert_eq!(o.report_due(LIMIT, Some(t0)), Some(t0 + secs(30)));
        let zero = Some(Duration::ZERO);
        assert_eq!(o.report_due(zero, Some(t0)), Some(t0 + STALLED_AFTER));
        let mut o = Outage::default();
        o.failed(t0 + secs(1));
        assert_eq!(
            o.report_due(zero, Some(t0)),
            Some(t0 + secs(1)),
            "a zero timeout gives up at the first failure"
        );
        assert_eq!(
            o.report(t0 + secs(1), zero, Some(t0)),
            Some(secs(1)),
            "the length counts from the earlier of the two"
        );
    }

    #[test]
    fn no_timeout_no_report() {
        let t0 = start();
        let mut o = Outage::default();
        o.failed(t0);
        assert_eq!(o.report_due(None, Some(t0)), None);
        assert_eq!(o.report(t0 + secs(3600), None, Some(t0)), None);
    }
}
