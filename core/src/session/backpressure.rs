//! Backpressure that keeps what has arrived.
//!
//! While the application is behind — more than `max_pending` messages, or more than half of
//! `max_pending_bytes`, wait — the next long poll is held back, so new events stay on the server
//! instead of piling up here. Salesforce ends a session that does not poll again within 40 s of
//! a reply, so the hold ends `max_poll_delay` (default 25 s) after the last reply: then the
//! session polls anyway. What arrives is kept, unless it would take the waiting messages past
//! `max_pending_bytes`; only then is a channel's event set aside and fetched again by replay once
//! the application has caught up (the rules of that are the channel registry's: see
//! `crate::channels`).
//!
//! A long poll whose response has arrived sends its successor before it is decoded (see
//! `early.rs`) unless the application is behind by more than the last response's batch: a
//! consumer that keeps up is still taking that batch when the next response arrives.
//!
//! Memory therefore stays within `max_pending` messages plus the last batch and the responses in
//! flight (at most three batches while the next long poll goes out early), and never past
//! `max_pending_bytes` plus one event.

use std::time::{Duration, Instant};

use super::Session;
use crate::time::later;

impl Session {
    /// Whether the application is behind: the next long poll waits for it.
    pub(super) fn behind(&self) -> bool {
        self.messages.len() > self.config.max_pending
            || self.messages.bytes() > self.config.max_pending_bytes / 2
    }

    /// Whether a long poll whose response has just arrived may send its successor before it is
    /// decoded: unless the application is behind by more than the batch the last response
    /// brought. A consumer that keeps up is still taking that batch when the next response
    /// arrives; holding the pipeline then would cost throughput and protect nothing.
    pub(super) fn behind_for_early_poll(&self) -> bool {
        self.messages.len() > self.config.max_pending.saturating_add(self.last_batch)
            || self.messages.bytes() > self.config.max_pending_bytes / 2
    }

    /// The latest the next long poll may be held back to, after the last reply.
    fn hold_limit(&self) -> Option<Instant> {
        let reply = self.last_poll_reply?;
        let mut limit = self.config.max_poll_delay;
        if let Some(ms) = self.advice.max_interval_ms {
            // A server that says how long it waits for the next poll (CometD's `maxInterval`)
            // gets it well within that.
            limit = limit.min(Duration::from_millis(ms) / 2);
        }
        Some(later(reply, limit))
    }

    /// Whether the long poll due now waits for the application (`early`: one scheduled when its
    /// predecessor's response arrived). Counts the polls held back and those sent past the limit
    /// while the application was still behind.
    pub(super) fn hold_poll(&mut self, now: Instant, early: bool) -> bool {
        let behind = if early {
            self.behind_for_early_poll()
        } else {
            self.behind()
        };
        if !behind {
            self.poll_held = false;
            return false;
        }
        match self.hold_limit() {
            Some(limit) if now < limit => {
                if !self.poll_held {
                    self.poll_held = true;
                    self.stats.polls_held_back += 1;
                    tracing::trace!(
                        pending = self.messages.len(),
                        "next long poll held back: the application is behind"
                    );
                }
                true
            }
            _ => {
                self.poll_held = false;
                self.stats.polls_past_delay_limit += 1;
                tracing::debug!(
                    pending = self.messages.len(),
                    bytes = self.messages.bytes(),
                    "the application is still behind, but the next long poll cannot wait longer"
                );
                false
            }
        }
    }

    /// When a long poll scheduled for `at` goes out: at the hold limit while the application
    /// is behind (taking messages makes it go out sooner, see [`Session::wants_drive`]).
    pub(super) fn poll_due(&self, at: Instant, early: bool) -> Instant {
        let behind = if early {
            self.behind_for_early_poll()
        } else {
            self.behind()
        };
        if behind {
            self.hold_limit().map_or(at, |limit| limit.max(at))
        } else {
            at
        }
    }

    /// The application took a message: asks to be driven if that let a held long poll go, or a
    /// channel whose events were set aside be fetched again.
    pub(super) fn made_room(&mut self) {
        if self.needs_drive || self.behind() {
            return;
        }
        if self.poll_held || self.channels.wants_refetch() {
            self.needs_drive = true;
        }
    }
}
