//! The channels the application asked for: their subscriptions, replay positions and overflows.
//!
//! The registry owns every rule about a channel; the session tells it what happened (a reply, an
//! event, a commit) and acts on what it answers (queue a subscribe, drop an event, emit an
//! event). It never looks at the session.
//!
//! **Subscriptions.** `Waiting` (for a session) ▸ `Subscribing` (a subscribe is queued or in
//! flight) ▸ `Subscribed` (confirmed). A lost session puts every channel back to `Waiting`; the
//! next session subscribes each again from its resume point.
//!
//! **Replay positions.** Two per channel: the newest id *accepted* into the queue of waiting
//! messages and the newest *committed* (processed; handed to the store as a checkpoint, coalesced
//! per channel until taken). Committed never moves backwards. A new subscription resumes:
//! - after the last accepted id, keeping the queue, when a long poll broke after the server may
//!   have handed it events (Salesforce hands an event to a long poll once);
//! - otherwise from the committed id, dropping the channel's queued messages (the replay brings
//!   them again, so the queue's unbroken run restarts there);
//! - for a channel that started from "new" with nothing committed, after the last accepted id,
//!   keeping the queue (starting from "new" again would skip what arrived meanwhile).
//!
//! **Backpressure** (what [`Channels::admit`] enforces). The session keeps what arrives and holds
//! the next long poll back while the application is behind; only an event that would take the
//! waiting messages past `max_pending_bytes` is set aside. Then:
//! - Only an event with a replay id, of a channel with a replay point (something accepted or
//!   committed, or a start other than "new"), can be fetched again; any other is kept over the
//!   bound rather than lost.
//! - Once a channel overflows, every event of it is set aside until it is subscribed again, so
//!   its last accepted id is always the end of an unbroken run and a replay from it skips
//!   nothing.
//! - When the application has caught up, an overflowed channel is unsubscribed (`Refetching`:
//!   its events are set aside meanwhile) and, once that is confirmed, subscribed again from its
//!   last accepted id.
//! - Events of the old subscription the server had queued before the unsubscribe can still
//!   arrive. A client's server-side queue is first in, first out, so they come before the
//!   replay, with ids above the first dropped one, while the replay starts at or below it: that
//!   id is the *replay gate*. Events above it are stale and dropped; the first at or below it
//!   opens the gate. A gate at or below the replay start could never open (a server that
//!   delivered a channel's ids out of order), so none is set then.
//!
//! **Rejected replay ids.** The configured fallback applies once per subscription: the stale
//! position (and its pending checkpoint) is forgotten so it is never sent again, and the channel
//! subscribes from the fallback. A second rejection, or none configured, fails the channel.

use std::collections::BTreeMap;

use crate::config::{ReplayFallback, ReplayFrom};

mod channel;
#[cfg(test)]
mod tests;

use channel::Channel;
pub(crate) use channel::Status;

/// Every channel the application subscribed to, and the checkpoints not yet taken.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    channels: BTreeMap<String, Channel>,
    /// The newest committed id of each channel whose committed id moved since it was last taken.
    checkpoints: BTreeMap<String, i64>,
}

/// What becomes of an event that arrived on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Queue it (its replay id is recorded as accepted).
    Accept,
    /// Set aside: it is fetched again by replay (the channel overflowed or is being re-fetched).
    SetAside,
    /// Dropped: an event of a re-fetched channel's old subscription, from past the gap; the
    /// replay brings it again, in order.
    Stale,
}

/// Where a channel's new subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resume {
    pub(crate) from: ReplayFrom,
    /// The channel's waiting messages are to be dropped: the replay brings them again.
    pub(crate) drop_queued: bool,
}

/// What a rejected replay id leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// The channel is no longer subscribed: nothing to do.
    Unknown,
    /// The channel subscribes again from this start.
    Applied(ReplayFrom),
    /// The channel failed for good and is removed.
    Failed,
}

/// A re-fetch subscribe after an overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refetch {
    /// Where the replay starts (exclusive).
    pub(crate) from: ReplayFrom,
    /// How many events were set aside.
    pub(crate) dropped: u64,
}

impl Channels {
    // ----- membership -----------------------------------------------------------------------

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.channels.contains_key(name)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// Adds a channel that starts at `start`; it waits for a session.
    pub(crate) fn add(&mut self, name: &str, start: ReplayFrom) {
        self.channels.insert(name.to_owned(), Channel::new(start));
    }

    /// Removes a channel; returns where its subscription stood. A checkpoint already due stays
    /// due.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Status> {
        self.channels.remove(name).map(|c| c.status)
    }

    /// Every channel's name, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.channels.keys().map(String::as_str)
    }

    /// Every channel's name and status, in order.
    pub(crate) fn statuses(&self) -> impl Iterator<Item = (&str, Status)> {
        self.channels.iter().map(|(n, c)| (n.as_str(), c.status))
    }

    /// The channels the server has confirmed (a re-fetch's unsubscribe included).
    pub(crate) fn confirmed(&self) -> impl Iterator<Item = &str> {
        self.statuses()
            .filter(|(_, s)| matches!(s, Status::Subscribed | Status::Refetching))
            .map(|(n, _)| n)
    }

    // ----- subscriptions --------------------------------------------------------------------

    /// A channel waits for the next session (its subscribe was abandoned).
    pub(crate) fn wait(&mut self, name: &str) {
        if let Some(ch) = self.channels.get_mut(name) {
            ch.status = Status::Waiting;
        }
    }

    /// The session is gone: every channel waits for the next one.
    pub(crate) fn wait_all(&mut self) {
        for ch in self.channels.values_mut() {
            ch.status = Status::Waiting;
        }
    }

    /// A channel subscribes on a new session, from its resume point; an overflow in progress is
    /// forgotten (the subscription starts over). With replay, a resume that drops the queued
    /// messages restarts the accepted id at the resume point.
    pub(crate) fn start_subscribe(&mut self, name: &str, uses_replay: bool) -> Option<Resume> {
        let ch = self.channels.get_mut(name)?;
        let (from, drop_queued) = ch.resume_point();
        ch.status = Status::Subscribing;
        ch.clear_overflow();
        ch.resume_after_accepted = false;
        let drop_queued = drop_queued && uses_replay;
        if drop_queued {
            ch.restart_at(from);
        }
        Some(Resume { from, drop_queued })
    }

    /// The server confirmed a subscription: a later rejection of its replay id may fall back
    /// again.
    pub(crate) fn confirm(&mut self, name: &str) {
        if let Some(ch) = self.channels.get_mut(name) {
            ch.status = Status::Subscribed;
            ch.fallback_applied = false;
        }
    }

    /// A subscribe failed for a reason that passes: it is sent again.
    pub(crate) fn retry_subscribe(&mut self, name: &str) {
        if let Some(ch) = self.channels.get_mut(name) {
            ch.status = Status::Subscribing;
        }
    }

    /// The server rejected a channel's replay id.
    pub(crate) fn fall_back(&mut self, name: &str, fallback: Option<ReplayFallback>) -> Fallback {
        let Some(ch) = self.channels.get_mut(name) else {
            return Fallback::Unknown;
        };
        match fallback {
            Some(fb) if !ch.fallback_applied => {
                let to = fb.replay_from();
                ch.reset_to(to);
                ch.fallback_applied = true;
                ch.status = Status::Subscribing;
                self.checkpoints.remove(name);
                Fallback::Applied(to)
            }
            _ => {
                self.channels.remove(name);
                Fallback::Failed
            }
        }
    }

    // ----- replay positions -----------------------------------------------------------------

    /// The last committed replay id of a channel.
    /// Each channel's accepted and committed replay ids.
    pub(crate) fn positions(&self) -> impl Iterator<Item = (&str, Option<i64>, Option<i64>)> {
        self.channels
            .iter()
            .map(|(name, c)| (name.as_str(), c.accepted, c.committed))
    }

    pub(crate) fn committed(&self, name: &str) -> Option<i64> {
        self.channels.get(name).and_then(|c| c.committed)
    }

    /// Commits `id` on a channel; a checkpoint is due if the committed id moved. `None` if the
    /// channel is not subscribed.
    pub(crate) fn commit(&mut self, name: &str, id: i64) -> Option<()> {
        let ch = self.channels.get_mut(name)?;
        if ch.commit(id) {
            self.checkpoints.insert(name.to_owned(), id);
        }
        Some(())
    }

    /// The application took a message with replay id `id`: under the automatic policy
    /// (`commit`), that commits it.
    pub(crate) fn delivered(&mut self, name: &str, id: i64, commit: bool) {
        let Some(ch) = self.channels.get_mut(name) else {
            return;
        };
        if commit && ch.commit(id) {
            // The channel's checkpoint usually waits already: update it in place rather than
            // allocate a key per message.
            match self.checkpoints.get_mut(name) {
                Some(slot) => *slot = id,
                None => {
                    self.checkpoints.insert(name.to_owned(), id);
                }
            }
        }
    }

    /// The next checkpoint due, by channel name.
    pub(crate) fn next_checkpoint(&mut self) -> Option<(String, i64)> {
        self.checkpoints.pop_first()
    }

    pub(crate) fn has_checkpoints(&self) -> bool {
        !self.checkpoints.is_empty()
    }

    // ----- backpressure ---------------------------------------------------------------------

    /// Decides what becomes of an event that arrived on `name` with `replay_id`; `full`: queuing
    /// it would take the waiting messages past their byte bound. An accepted event's id is
    /// recorded. An event of a channel not in the registry is accepted: nothing the server
    /// delivered is dropped silently.
    pub(crate) fn admit(
        &mut self,
        name: &str,
        replay_id: Option<i64>,
        full: bool,
        uses_replay: bool,
    ) -> Admission {
        let Some(ch) = self.channels.get_mut(name) else {
            return Admission::Accept;
        };
        if ch.status == Status::Refetching {
            return Admission::SetAside;
        }
        if let Some(gate) = ch.replay_gate {
            match replay_id {
                Some(id) if id <= gate => ch.replay_gate = None,
                _ => return Admission::Stale,
            }
        }
        if ch.overflowed {
            ch.dropped += 1;
            return Admission::SetAside;
        }
        if full && uses_replay && ch.can_refetch() {
            // Only an event with a replay id can be fetched again; one without is kept over the
            // bound rather than lost.
            if let Some(id) = replay_id {
                ch.overflowed = true;
                ch.first_dropped = Some(id);
                ch.dropped = 1;
                return Admission::SetAside;
            }
        }
        if let Some(id) = replay_id {
            ch.accept(id);
        }
        Admission::Accept
    }

    /// Whether a channel whose events were set aside waits to be fetched again.
    pub(crate) fn wants_refetch(&self) -> bool {
        self.channels
            .values()
            .any(|c| c.overflowed && c.status != Status::Refetching)
    }

    /// The application has caught up: every overflowed channel that is subscribed starts its
    /// re-fetch (the session unsubscribes each one returned).
    pub(crate) fn start_refetches(&mut self) -> Vec<String> {
        let mut started = Vec::new();
        for (name, ch) in &mut self.channels {
            if ch.overflowed && ch.status == Status::Subscribed {
                ch.status = Status::Refetching;
                started.push(name.clone());
            }
        }
        started
    }

    /// A re-fetch's unsubscribe is confirmed: the channel subscribes again from the last event
    /// its queue accepted, behind a replay gate at the first dropped id.
    pub(crate) fn resubscribe_after_refetch(&mut self, name: &str) -> Option<Refetch> {
        let ch = self.channels.get_mut(name)?;
        ch.status = Status::Subscribing;
        let from = ch.refetch_point();
        let gate = ch.first_dropped.filter(|&g| match from {
            ReplayFrom::Id(start) => g > start,
            _ => true,
        });
        let dropped = ch.dropped;
        ch.clear_overflow();
        ch.replay_gate = gate;
        Some(Refetch { from, dropped })
    }

    /// A long poll broke after the server may have handed it events: every channel's next
    /// subscription resumes after its last accepted id, keeping its queue. Returns each channel
    /// with that point.
    pub(crate) fn resume_all_after_accepted(&mut self) -> Vec<(String, ReplayFrom)> {
        self.channels
            .iter_mut()
            .map(|(name, ch)| {
                ch.resume_after_accepted = true;
                (name.clone(), ch.refetch_point())
            })
            .collect()
    }
}
