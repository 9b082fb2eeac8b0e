//! Flow control of one `Subscribe` stream: how many events the server may still send.
//!
//! The server is the authority: each `FetchResponse` says in `pending_num_requested` how many
//! events it still owes. What it cannot say is whether it has counted the requests sent just
//! before: a request and a response can cross. The server handles requests in order and
//! answers in order, so each response tells how many of the requests it has counted since the
//! previous one: `pending = previous pending + counted − events in the response`. Requests
//! not yet counted stay on a list and are added to the server's figure, which makes the sum an
//! upper bound of what the server owes whatever crossed, and exactly what it owes once every
//! request is counted. A local counter alone drifts (a server that drops credit, a request lost
//! with a stream); the server's figure never does.
//!
//! ```text
//!   request n ─▶ uncounted [.., n]            response (pending P, k events)
//!                                              counted = P + k − previous P
//!   outstanding = P + Σ uncounted              pop `counted` from the front of uncounted
//! ```

use std::collections::VecDeque;

/// The credit of one stream.
#[derive(Debug, Clone, Default)]
pub(super) struct Credit {
    /// `pending_num_requested` of the last response (0 before the first).
    server_pending: u32,
    /// Requests sent that no response has shown to be counted yet, oldest first.
    uncounted: VecDeque<u32>,
}

impl Credit {
    /// At most how many events the server may still send.
    pub(super) fn outstanding(&self) -> u32 {
        self.uncounted
            .iter()
            .fold(self.server_pending, |sum, n| sum.saturating_add(*n))
    }

    /// The server's own figure, from the last response.
    #[cfg(test)]
    pub(super) fn server_pending(&self) -> u32 {
        self.server_pending
    }

    /// A `FetchRequest` for `n` events went out.
    pub(super) fn requested(&mut self, n: u32) {
        self.uncounted.push_back(n);
    }

    /// A response came with `events` events and `pending_num_requested` = `pending`.
    pub(super) fn on_response(&mut self, pending: i32, events: usize) {
        let pending = u32::try_from(pending).unwrap_or(0);
        let events = u32::try_from(events).unwrap_or(u32::MAX);
        let counted = i64::from(pending) + i64::from(events) - i64::from(self.server_pending);
        let mut counted = u64::try_from(counted).unwrap_or(0);
        // A negative count means the server dropped credit: its figure wins, and no request is
        // taken as counted.
        while let Some(front) = self.uncounted.front_mut() {
            if counted == 0 {
                break;
            }
            if u64::from(*front) <= counted {
                counted -= u64::from(*front);
                self.uncounted.pop_front();
            } else {
                // Part of a request counted (a server that clamps): the rest stays uncounted,
                // which errs on the side of asking for less.
                *front -= u32::try_from(counted).unwrap_or(0);
                counted = 0;
            }
        }
        self.server_pending = pending;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_counts_until_a_response_shows_it_counted() {
        let mut c = Credit::default();
        c.requested(100);
        assert_eq!(c.outstanding(), 100);
        // A keepalive the server sent before reading the request.
        c.on_response(0, 0);
        assert_eq!(c.outstanding(), 100);
        // 30 events: the request was counted, 70 owed.
        c.on_response(70, 30);
        assert_eq!(c.outstanding(), 70);
        assert_eq!(c.server_pending(), 70);
    }

    #[test]
    fn crossing_requests_are_added_to_the_servers_figure() {
        let mut c = Credit::default();
        c.requested(50);
        c.on_response(50, 0);
        c.requested(20);
        // Sent before the server counted the 20: 40 owed plus the 20 in flight.
        c.on_response(40, 10);
        assert_eq!(c.outstanding(), 60);
        c.on_response(55, 5);
        assert_eq!(c.outstanding(), 55);
    }

    #[test]
    fn the_server_dropping_credit_wins_over_the_local_count() {
        let mut c = Credit::default();
        c.requested(100);
        c.on_response(100, 0);
        c.on_response(0, 0);
        assert_eq!(c.outstanding(), 0);
    }

    #[test]
    fn negative_pending_reads_as_none() {
        let mut c = Credit::default();
        c.requested(10);
        c.on_response(-5, 0);
        assert_eq!(c.outstanding(), 10);
    }
}
