//! One channel: its subscription status, its replay positions and its overflow state. The rules
//! that tie them together are the registry's (see the [parent module](super)).

use crate::config::ReplayFrom;

/// Where a channel's subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Waiting for a session (before the handshake, or after losing one).
    Waiting,
    /// A subscribe message is queued or in flight.
    Subscribing,
    /// The server confirmed the subscription.
    Subscribed,
    /// Dropping events after a queue overflow; an unsubscribe is queued or in flight, after which
    /// the channel is subscribed again from its last accepted id.
    Refetching,
}

/// One channel the application asked for.
#[derive(Debug, Clone)]
pub(super) struct Channel {
    pub(super) status: Status,
    /// Where the application asked to start (or the configured default).
    pub(super) start: ReplayFrom,
    /// The newest replay id accepted into the queue of waiting messages.
    pub(super) accepted: Option<i64>,
    /// The newest replay id processed, and handed to the store as a checkpoint.
    pub(super) committed: Option<i64>,
    /// Whether the fallback was applied for the subscribe in flight (it is applied once).
    pub(super) fallback_applied: bool,
    /// Events were dropped for lack of room; they are fetched again by replay. Once set, every
    /// event of the channel is dropped until it is subscribed again, so the last accepted id is
    /// always the end of an unbroken run and the replay from it skips nothing.
    pub(super) overflowed: bool,
    /// The replay id of the first event dropped in the current overflow: the replay of a re-fetch
    /// starts at or before it.
    pub(super) first_dropped: Option<i64>,
    /// After a re-fetch subscribe: events with a replay id above this are stale (events of the old
    /// subscription the server had queued before the unsubscribe, from past the gap) and are
    /// dropped. The server's queue of a client is first in, first out, so every stale event comes
    /// before the replay, and the replay starts at or before the first dropped event; the first
    /// event at or below the gate opens it.
    pub(super) replay_gate: Option<i64>,
    /// How many events were set aside in the current overflow.
    pub(super) dropped: u64,
    /// The next subscription resumes right after the last accepted event, keeping what waits in
    /// the queue: set when a long poll broke after the server may have handed it events.
    pub(super) resume_after_accepted: bool,
}

impl Channel {
    pub(super) fn new(start: ReplayFrom) -> Self {
        let committed = match start {
            ReplayFrom::Id(id) => Some(id),
            _ => None,
        };
        Self {
            status: Status::Waiting,
            start,
            accepted: committed,
            committed,
            fallback_applied: false,
            overflowed: false,
            first_dropped: None,
            replay_gate: None,
            dropped: 0,
            resume_after_accepted: false,
        }
    }

    /// Where a new subscription of this channel starts, and whether events of the channel that
    /// wait in the queue must be dropped because the replay will bring them again.
    pub(super) fn resume_point(&self) -> (ReplayFrom, bool) {
        if self.resume_after_accepted {
            return (self.refetch_point(), false);
        }
        if let Some(c) = self.committed {
            return (ReplayFrom::Id(c), true);
        }
        match (self.start, self.accepted) {
            // Starting from "new" would skip what arrived meanwhile: resume after what the queue
            // already holds, and keep it.
            (ReplayFrom::New, Some(a)) => (ReplayFrom::Id(a), false),
            (start, _) => (start, true),
        }
    }

    /// Forgets an overflow in progress (the channel is subscribed again from scratch).
    pub(super) fn clear_overflow(&mut self) {
        self.overflowed = false;
        self.first_dropped = None;
        self.replay_gate = None;
        self.dropped = 0;
    }

    /// Where a re-fetch after an overflow starts: right after the last event the queue holds.
    pub(super) fn refetch_point(&self) -> ReplayFrom {
        match self.accepted.or(self.committed) {
            Some(id) => ReplayFrom::Id(id),
            None => self.start,
        }
    }

    /// Whether an event of this channel may be dropped now and fetched again later.
    pub(super) fn can_refetch(&self) -> bool {
        self.accepted.is_some() || self.committed.is_some() || self.start != ReplayFrom::New
    }

    /// Records a commit; returns whether the committed id moved.
    pub(super) fn commit(&mut self, id: i64) -> bool {
        match self.committed {
            Some(c) if c >= id => false,
            _ => {
                self.committed = Some(id);
                true
            }
        }
    }

    pub(super) fn accept(&mut self, id: i64) {
        if self.accepted.is_none_or(|a| a < id) {
            self.accepted = Some(id);
        }
    }

    /// The channel is subscribed again from `from`, its queued events dropped: the replay brings
    /// everything after `from` again, so the unbroken run the queue holds ends there.
    pub(super) fn restart_at(&mut self, from: ReplayFrom) {
        self.accepted = match from {
            ReplayFrom::Id(id) => Some(id),
            ReplayFrom::New | ReplayFrom::All => None,
        };
    }

    /// After a rejected replay id: the stale position is forgotten, so that it is never sent
    /// again, and the channel starts from the fallback.
    pub(super) fn reset_to(&mut self, start: ReplayFrom) {
        self.start = start;
        self.replay_gate = None;
        self.committed = None;
        self.accepted = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_never_moves_backwards() {
        let mut c = Channel::new(ReplayFrom::New);
        assert!(c.commit(10));
        assert!(!c.commit(7));
        assert!(!c.commit(10));
        assert_eq!(c.committed, Some(10));
    }

    #[test]
    fn resume_points() {
        let mut c = Channel::new(ReplayFrom::New);
        assert_eq!(c.resume_point(), (ReplayFrom::New, true));
        c.accept(5);
        assert_eq!(c.resume_point(), (ReplayFrom::Id(5), false));
        c.commit(3);
        assert_eq!(c.resume_point(), (ReplayFrom::Id(3), true));
        let c = Channel::new(ReplayFrom::Id(42));
        assert_eq!(c.resume_point(), (ReplayFrom::Id(42), true));
        assert!(c.can_refetch());
        assert!(!Channel::new(ReplayFrom::New).can_refetch());
        let mut c = Channel::new(ReplayFrom::New);
        c.accept(5);
        c.commit(3);
        c.resume_after_accepted = true;
        assert_eq!(
            c.resume_point(),
            (ReplayFrom::Id(5), false),
            "keeps the queue"
        );
    }
}
