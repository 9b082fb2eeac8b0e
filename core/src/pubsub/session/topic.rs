//! One subscribed topic: its stream, its credit, its replay positions and the events that wait
//! for their schema.
//!
//! Three positions are kept, as for a Streaming API channel: the newest *reached* (an event
//! accepted into the session, or a keepalive's `latest_replay_id`: a new stream resumes after
//! it), what the application *took*, and what it *committed* (checkpointed). Replay ids have no
//! order, so the session numbers the topic's events as they arrive and orders commits by those
//! numbers: a commit never moves backwards.

use std::collections::VecDeque;
use std::time::Instant;

use crate::backoff::Backoff;

use super::call::CallId;
use super::credit::Credit;
use super::message::RawEvent;
use super::replay::{PubSubReplayFrom, ReplayId};

/// Why a topic has no stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Down {
    /// Not opened yet, or to be opened again as soon as possible.
    Ready,
    /// Waiting until a backoff (or the delivery-limit wait) passes.
    Until(Instant),
    /// Waiting for the application to make room: a stream must ask for at least one event.
    Room,
}

/// A topic's `Subscribe` stream.
#[derive(Debug, Clone)]
pub(super) struct Stream {
    pub(super) call: CallId,
    /// Where it started.
    pub(super) from: PubSubReplayFrom,
    pub(super) credit: Credit,
    /// Responses received on it.
    pub(super) responses: u64,
    /// Since when the server owes nothing (it ends the stream if no request comes for a while).
    pub(super) owed_nothing_since: Option<Instant>,
}

#[derive(Debug, Clone)]
pub(super) enum StreamState {
    Down(Down),
    Open(Stream),
}

/// The commit bookkeeping of a topic, by arrival number.
#[derive(Debug, Clone, Default)]
pub(super) struct Book {
    /// The number of the newest event accepted.
    pub(super) accepted: u64,
    /// The number of the newest event committed.
    pub(super) committed_seq: u64,
    /// The committed position.
    pub(super) committed: Option<ReplayId>,
    /// A keepalive's position and the number of the last event before it: committed once that
    /// event is (nothing before the keepalive is then unprocessed).
    keepalive: Option<(u64, ReplayId)>,
}

impl Book {
    /// Numbers a newly accepted event.
    pub(super) fn accept(&mut self) -> u64 {
        self.accepted += 1;
        self.accepted
    }

    /// Commits the event numbered `seq` at `id`; returns the new checkpoint if the committed
    /// position moved.
    pub(super) fn commit(&mut self, seq: u64, id: &ReplayId) -> Option<ReplayId> {
        if seq <= self.committed_seq || id.is_empty() {
            return None;
        }
        self.committed_seq = seq;
        let mut position = id.clone();
        match self.keepalive.take() {
            // The keepalive came right after this event: its position is newer.
            Some((after, keepalive)) if after == seq => position = keepalive,
            Some((after, keepalive)) if after > seq => self.keepalive = Some((after, keepalive)),
            _ => {}
        }
        self.committed = Some(position.clone());
        Some(position)
    }

    /// A keepalive reached `id`: committed now if every event before it is, else once they are.
    pub(super) fn keepalive(&mut self, id: ReplayId) -> Option<ReplayId> {
        if self.committed_seq >= self.accepted {
            self.keepalive = None;
            self.committed = Some(id.clone());
            Some(id)
        } else {
            self.keepalive = Some((self.accepted, id));
            None
        }
    }

    /// Forgets the committed position (the server rejected it): events accepted before now are
    /// never committed, as their ids belong to the rejected past.
    pub(super) fn forget(&mut self) {
        self.committed = None;
        self.keepalive = None;
        self.committed_seq = self.accepted;
    }
}

/// One topic the application subscribed to.
#[derive(Debug)]
pub(super) struct Topic {
    /// Numbers the subscriptions of the session: events carry it.
    pub(super) subscription: u64,
    /// Where the topic starts when there is no position (the configured start, a stored id, or
    /// the replay fallback).
    pub(super) start: PubSubReplayFrom,
    /// The newest position reached; a new stream resumes after it.
    pub(super) position: Option<ReplayId>,
    pub(super) stream: StreamState,
    /// Whether the replay fallback was applied since the last stream that got a response.
    pub(super) fallback_applied: bool,
    /// Whether the server accepted a stream of the topic before: a later one is a reconnect.
    pub(super) accepted_before: bool,
    pub(super) backoff: Backoff,
    /// Events of the topic in the session: waiting for their schema or for the application.
    pub(super) buffered: u32,
    /// The numbers of the events the application took and has not committed, oldest first,
    /// when they count against the window (`pending_until_commit` under the manual policy).
    pub(super) uncommitted: VecDeque<u64>,
    /// Events waiting for their schema, in arrival order; once one waits, every later event of
    /// the topic waits behind it.
    pub(super) waiting: VecDeque<RawEvent>,
    pub(super) book: Book,
}

impl Topic {
    pub(super) fn new(start: PubSubReplayFrom, backoff: Backoff, subscription: u64) -> Self {
        let position = match &start {
            PubSubReplayFrom::Custom(id) => Some(id.clone()),
            _ => None,
        };
        Self {
            subscription,
            book: Book {
                committed: position.clone(),
                ..Book::default()
            },
            start,
            position,
            stream: StreamState::Down(Down::Ready),
            fallback_applied: false,
            accepted_before: false,
            backoff,
            buffered: 0,
            uncommitted: VecDeque::new(),
            waiting: VecDeque::new(),
        }
    }

    /// Where a new stream starts: after the newest position reached, else the start. Never
    /// `LATEST` when a position is known: that would skip what was published meanwhile.
    pub(super) fn resume_from(&self) -> PubSubReplayFrom {
        match &self.position {
            Some(id) => PubSubReplayFrom::Custom(id.clone()),
            None => self.start.clone(),
        }
    }

    pub(super) fn stream(&self) -> Option<&Stream> {
        match &self.stream {
            StreamState::Open(s) => Some(s),
            StreamState::Down(_) => None,
        }
    }

    pub(super) fn stream_mut(&mut self) -> Option<&mut Stream> {
        match &mut self.stream {
            StreamState::Open(s) => Some(s),
            StreamState::Down(_) => None,
        }
    }

    /// The open stream, if it is `call`.
    pub(super) fn is_stream(&self, call: CallId) -> bool {
        self.stream().is_some_and(|s| s.call == call)
    }

    /// How many more events the topic can take: the credit window less what it holds (and what
    /// the application holds uncommitted, when that counts).
    pub(super) fn room(&self, window: u32) -> u32 {
        window
            .saturating_sub(self.buffered)
            .saturating_sub(u32::try_from(self.uncommitted.len()).unwrap_or(u32::MAX))
    }

    /// The application committed up to the event numbered `seq`: the uncommitted events up to
    /// it stop counting. Whether any did.
    pub(super) fn release_up_to(&mut self, seq: u64) -> bool {
        let before = self.uncommitted.len();
        while self.uncommitted.front().is_some_and(|&s| s <= seq) {
            self.uncommitted.pop_front();
        }
        self.uncommitted.len() < before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> ReplayId {
        ReplayId::from_u64(n)
    }

    #[test]
    fn commits_never_move_backwards() {
        let mut b = Book::default();
        let (s1, s2) = (b.accept(), b.accept());
        assert_eq!(b.commit(s2, &id(2)), Some(id(2)));
        assert_eq!(b.commit(s1, &id(1)), None);
        assert_eq!(b.committed, Some(id(2)));
    }

    #[test]
    fn a_keepalive_waits_for_the_events_before_it() {
        let mut b = Book::default();
        let s1 = b.accept();
        assert_eq!(b.keepalive(id(9)), None, "event 1 is not processed yet");
        let s2 = b.accept();
        assert_eq!(
            b.commit(s1, &id(1)),
            Some(id(9)),
            "the keepalive came right after 1"
        );
        assert_eq!(b.commit(s2, &id(10)), Some(id(10)));
    }

    #[test]
    fn a_keepalive_with_nothing_pending_commits_at_once() {
        let mut b = Book::default();
        let s1 = b.accept();
        b.commit(s1, &id(1));
        assert_eq!(b.keepalive(id(5)), Some(id(5)));
    }

    #[test]
    fn forgetting_leaves_older_events_uncommittable() {
        let mut b = Book::default();
        let s1 = b.accept();
        b.forget();
        assert_eq!(b.commit(s1, &id(1)), None);
        let s2 = b.accept();
        assert_eq!(b.commit(s2, &id(2)), Some(id(2)));
    }
}
