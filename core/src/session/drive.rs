//! What goes out when: the long poll (held back while the application is behind, see
//! `backpressure.rs`), the next batch of the control queue (one control request at a time,
//! beside the long poll), the unsubscribes that start re-fetches; and abandoning what is in
//! flight when a session ends.

use std::time::{Duration, Instant};

use super::control::{self, Abandoned, SentOps};
use super::{DEFAULT_LONG_POLL, LongPoll, Phase, Session};
use crate::Event;
use crate::bayeux::{self, Outgoing};
use crate::time::later;
use crate::transmit::{RequestId, RequestKind};

impl Session {
    /// Abandons every request in flight: their outcomes will be ignored.
    pub(super) fn abandon_all(&mut self) {
        let ids: Vec<RequestId> = self.in_flight.keys().copied().collect();
        for id in ids {
            if let Some(req) = self.in_flight.remove(&id) {
                self.cancels.push_back(id);
                self.abandon_control(req.ops);
            }
        }
        self.held.clear();
        self.long_poll = LongPoll::Idle;
        self.poll_held = false;
    }

    /// The control operations of an abandoned request are never sent again (see
    /// [`control::abandon`]).
    pub(super) fn abandon_control(&mut self, ops: SentOps) {
        for fate in control::abandon(ops) {
            match fate {
                Abandoned::Waits(channel) => self.channels.wait(&channel),
                Abandoned::Unsubscribed(channel) => {
                    self.events.push_back(Event::Unsubscribed { channel });
                }
            }
        }
    }

    /// Queues the subscription of `channel` on a new session, from its resume point.
    pub(super) fn queue_subscribe(&mut self, channel: &str) {
        let uses_replay = self.config.uses_replay();
        let Some(resume) = self.channels.start_subscribe(channel, uses_replay) else {
            return;
        };
        if resume.drop_queued {
            self.messages.drop_channel(channel);
        }
        self.control.subscribe(channel.to_owned(), resume.from);
    }

    /// Sends what is due: the long poll, a batch of control messages, refetches.
    pub(super) fn drive(&mut self, now: Instant) {
        self.needs_drive = false;
        if self.phase != Phase::Connected {
            return;
        }
        if !self.behind() {
            for channel in self.channels.start_refetches() {
                self.control.unsubscribe(channel, true);
            }
        }
        if let LongPoll::Scheduled {
            at,
            immediate,
            early,
        } = self.long_poll
        {
            if at <= now && !self.hold_poll(now, early) {
                if let Some(client_id) = self.client_id.clone() {
                    let id = self.message_id();
                    let text = Outgoing::connect(&id, &client_id, immediate);
                    let body = bayeux::batch([self.config.extensions.outgoing(text).as_str()]);
                    let hold = if immediate {
                        Duration::ZERO
                    } else {
                        self.advice
                            .timeout_ms
                            .map_or(DEFAULT_LONG_POLL, Duration::from_millis)
                    };
                    let due = later(now, hold);
                    let deadline = later(due, self.config.long_poll_margin);
                    self.stats.connects += 1;
                    if early {
                        self.stats.connects_early += 1;
                    }
                    if let Some(id) =
                        self.send_cometd(RequestKind::Connect, body, due, deadline, Vec::new())
                    {
                        self.long_poll = LongPoll::InFlight(id);
                    }
                }
            }
        }
        self.send_control(now);
    }

    /// Sends the next batch of control messages, if the control slot is free (one control
    /// request at a time, beside the long poll).
    pub(super) fn send_control(&mut self, now: Instant) {
        if self
            .in_flight
            .values()
            .any(|r| r.kind != RequestKind::Connect)
        {
            return;
        }
        let Some(batch) = self.control.next_batch(
            now,
            self.client_id.as_deref(),
            self.config.uses_replay(),
            &mut self.message_ids,
            &self.config.extensions,
        ) else {
            return;
        };
        let deadline = later(now, self.config.request_timeout);
        self.send_cometd(RequestKind::Control, batch.body, now, deadline, batch.ops);
    }
}
