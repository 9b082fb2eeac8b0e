//! What happens to a Pub/Sub session, for the application: [`PubSubSessionEvent`]s, fanned out
//! to every subscriber through the same bounded buffer as the Streaming API's
//! ([`SessionEvents`](crate::SessionEvents)).
//!
//! The session reports a stream's failure as a retry; the client follows each topic's stream
//! (up, or down since a failure) so that the application sees a loss once, then the retries,
//! then the restoration.

use std::collections::BTreeSet;
use std::time::Duration;

use sfstream_core::pubsub::{PubSubDisconnectReason, PubSubEvent, PubSubReplayFrom, ReplayId};

use super::Error;
use crate::session_events::FanOutEvent;

/// Something that happened to the Pub/Sub client's session: the application's view of its life.
///
/// Take them from [`PubSubClient::session_events`](super::PubSubClient::session_events). Each
/// variant says what the application should do about it; most need nothing, as the client
/// recovers by itself. None carries a secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PubSubSessionEvent {
    /// A token was obtained (at open, and again after [`Self::Reauthenticating`]). Nothing to
    /// do.
    Authenticated {
        /// The org's instance.
        instance_url: String,
        /// The org id the calls carry (`tenantid`).
        org_id: String,
    },
    /// The server refused the token: a new one is fetched, then the calls it refused are made
    /// again. Nothing to do; if it repeats, check the connected app's session policies.
    Reauthenticating {
        /// The refusal.
        reason: Error,
    },
    /// The server accepted a topic's first stream: its events flow. Nothing to do.
    StreamOpened {
        /// The topic.
        topic: String,
        /// Where the stream started.
        replay_from: PubSubReplayFrom,
    },
    /// A topic's stream failed (the connection broke, the server ended it, a transient error);
    /// [`Self::Reconnecting`] follows, then [`Self::StreamRestored`]. Events resume after the
    /// last one received, so nothing is lost. Nothing to do.
    StreamLost {
        /// The topic.
        topic: String,
        /// What ended it.
        reason: Error,
    },
    /// A call failed and is made again after `after` (backing off while failures repeat): a
    /// topic's stream, or the token request (`topic` is `None`). Nothing to do; a reason that
    /// keeps coming back may name a setting to fix (the URL, a proxy, the network).
    Reconnecting {
        /// The topic whose stream is opened again; `None` for the token request.
        topic: Option<String>,
        /// The delay before the next attempt.
        after: Duration,
        /// What failed.
        reason: Error,
    },
    /// A topic's stream is open again after it was lost (or set aside: a silent stream, an idle
    /// stream, the delivery allocation): events flow again from where they stopped. Nothing to
    /// do.
    StreamRestored {
        /// The topic.
        topic: String,
        /// Where the new stream started.
        replay_from: PubSubReplayFrom,
    },
    /// Nothing arrived on a topic's stream (no event, no keepalive) for the watchdog's time:
    /// the connection may be half-open. The stream is cancelled and opened again on a new
    /// connection, after the last event received. Nothing to do; if it repeats, look at the
    /// network between the application and Salesforce (a proxy or firewall that drops idle
    /// connections).
    StreamSilent {
        /// The topic.
        topic: String,
        /// How long nothing arrived.
        silent_for: Duration,
    },
    /// The server ended a stream that was owed no events (after 60 s without a request). It is
    /// opened again as soon as the application takes events. Nothing to do.
    IdleClosed {
        /// The topic.
        topic: String,
    },
    /// The org's 24-hour event delivery allocation is used up: the topic stays down and is
    /// tried again after `retry_after`. Events published meanwhile are retained by the server
    /// (72 hours) and come when it resumes. Raise the allocation or subscribe to fewer events;
    /// alert if the application cannot wait.
    DeliveryLimitReached {
        /// The topic.
        topic: String,
        /// When it is tried again.
        retry_after: Duration,
        /// The server's error.
        error: Error,
    },
    /// A topic failed for good: it does not exist, the user may not read it, or its replay id
    /// was rejected with no fallback. The other topics go on. Fix the topic's name or the
    /// user's access; a failed re-subscription is also returned once by `receive`.
    SubscribeFailed {
        /// The topic.
        topic: String,
        /// Why.
        error: Error,
    },
    /// A topic was unsubscribed. Nothing to do.
    Unsubscribed {
        /// The topic.
        topic: String,
    },
    /// The server rejected a topic's replay id (older than its retention, or unknown) and the
    /// configured fallback applies: the topic replays from `using` instead, and the rejected
    /// id is removed from the store.
    ///
    /// With [`ReplayFallback::New`](crate::ReplayFallback::New) (`using` is
    /// [`PubSubReplayFrom::Latest`]) this is a **gap**: the events after the rejected id that
    /// the server still kept, and every event published before the new stream opened, are never
    /// delivered. [`Self::is_gap`] says so. An application that must not miss events should
    /// reconcile the topic's data from its source when it sees a gap, or configure
    /// `ReplayFallback::All`, which replays everything retained (duplicates, no gap within the
    /// retention window).
    ReplayFallback {
        /// The topic.
        topic: String,
        /// The rejected id, when known.
        rejected: Option<ReplayId>,
        /// Where the replay starts instead.
        using: PubSubReplayFrom,
        /// The server's error.
        error: Error,
    },
    /// A problem the session recovered from or worked around: an event that could not be
    /// decoded (delivered raw), a malformed message. Nothing was lost. Log it; a recurring one
    /// may be worth a report.
    Problem {
        /// What went wrong.
        error: Error,
    },
    /// The session ended; no more events follow and the stream ends after this one. `error` is
    /// `None` when the application closed the client, otherwise why it ended for good (bad
    /// credentials, bad configuration): `receive` returns that error too. Fix what it names;
    /// the client cannot be opened again (build a new one).
    Closed {
        /// Why the session ended, unless the application closed it.
        error: Option<Error>,
    },
    /// This subscriber fell more than [`SESSION_EVENTS_BUFFER`](crate::SESSION_EVENTS_BUFFER)
    /// events behind: `missed` events were dropped for it (the session never waits for a
    /// subscriber). It continues with the oldest event still kept. Read
    /// [`PubSubClient::stats`](super::PubSubClient::stats) for the counters the missed events
    /// would have moved.
    Lagged {
        /// How many events this subscriber missed.
        missed: u64,
    },
}

impl PubSubSessionEvent {
    /// Whether this event means events were skipped for good: a replay fallback to
    /// [`PubSubReplayFrom::Latest`]. See [`Self::ReplayFallback`].
    #[must_use]
    pub fn is_gap(&self) -> bool {
        matches!(
            self,
            Self::ReplayFallback {
                using: PubSubReplayFrom::Latest,
                ..
            }
        )
    }

    /// The topic the event is about, if it is about one.
    #[must_use]
    pub fn topic(&self) -> Option<&str> {
        match self {
            Self::StreamOpened { topic, .. }
            | Self::StreamLost { topic, .. }
            | Self::StreamRestored { topic, .. }
            | Self::StreamSilent { topic, .. }
            | Self::IdleClosed { topic }
            | Self::DeliveryLimitReached { topic, .. }
            | Self::SubscribeFailed { topic, .. }
            | Self::Unsubscribed { topic }
            | Self::ReplayFallback { topic, .. } => Some(topic),
            Self::Reconnecting { topic, .. } => topic.as_deref(),
            _ => None,
        }
    }
}

impl FanOutEvent for PubSubSessionEvent {
    fn lagged(missed: u64) -> Self {
        Self::Lagged { missed }
    }

    fn is_last(&self) -> bool {
        matches!(self, Self::Closed { .. })
    }
}

/// Follows each topic's stream through the session's events, to tell a first stream from a
/// restored one and report a loss once.
#[derive(Debug, Default)]
pub(crate) struct StreamTracker {
    /// Topics whose stream the server accepted and that has not failed since.
    up: BTreeSet<String>,
    /// Topics whose stream was accepted once and is down now.
    down: BTreeSet<String>,
}

impl StreamTracker {
    /// Marks a topic's stream down; whether it was up.
    fn set_down(&mut self, topic: &str) -> bool {
        let was_up = self.up.remove(topic);
        if was_up {
            self.down.insert(topic.to_owned());
        }
        was_up
    }

    fn forget(&mut self, topic: &str) {
        self.up.remove(topic);
        self.down.remove(topic);
    }

    /// The application's events for one of the session's (none for the ones that stay in the
    /// client: checkpoints, answers to `publish` and `get_topic`). Called for every event, with
    /// or without subscribers, so that the streams' states stay right; `out` is filled only
    /// when `wanted`.
    pub(crate) fn translate(
        &mut self,
        event: &PubSubEvent,
        wanted: bool,
        out: &mut Vec<PubSubSessionEvent>,
    ) {
        use PubSubSessionEvent as E;
        let mut push = |e: PubSubSessionEvent| {
            if wanted {
                out.push(e);
            }
        };
        match event {
            PubSubEvent::Authenticated {
                instance_url,
                tenant_id,
            } => push(E::Authenticated {
                instance_url: instance_url.clone(),
                org_id: tenant_id.clone(),
            }),
            PubSubEvent::Reauthenticating { reason } => push(E::Reauthenticating {
                reason: reason.clone().into(),
            }),
            PubSubEvent::Subscribed { topic, replay_from } => {
                let restored = self.down.remove(topic);
                self.up.insert(topic.clone());
                let (topic, replay_from) = (topic.clone(), replay_from.clone());
                push(if restored {
                    E::StreamRestored { topic, replay_from }
                } else {
                    E::StreamOpened { topic, replay_from }
                });
            }
            PubSubEvent::Reconnecting {
                topic,
                after,
                reason,
            } => {
                if let Some(t) = topic
                    && self.set_down(t)
                {
                    push(E::StreamLost {
                        topic: t.clone(),
                        reason: reason.clone().into(),
                    });
                }
                push(E::Reconnecting {
                    topic: topic.clone(),
                    after: *after,
                    reason: reason.clone().into(),
                });
            }
            PubSubEvent::WatchdogFired { topic, silent_for } => {
                self.set_down(topic);
                push(E::StreamSilent {
                    topic: topic.clone(),
                    silent_for: *silent_for,
                });
            }
            PubSubEvent::IdleClosed { topic } => {
                self.set_down(topic);
                push(E::IdleClosed {
                    topic: topic.clone(),
                });
            }
            PubSubEvent::DeliveryLimitReached {
                topic,
                retry_after,
                error,
            } => {
                self.set_down(topic);
                push(E::DeliveryLimitReached {
                    topic: topic.clone(),
                    retry_after: *retry_after,
                    error: error.clone().into(),
                });
            }
            PubSubEvent::SubscribeFailed { topic, error } => {
                self.forget(topic);
                push(E::SubscribeFailed {
                    topic: topic.clone(),
                    error: error.clone().into(),
                });
            }
            PubSubEvent::Unsubscribed { topic } => {
                self.forget(topic);
                push(E::Unsubscribed {
                    topic: topic.clone(),
                });
            }
            PubSubEvent::ReplayFallback {
                topic,
                rejected,
                using,
                error,
            } => {
                // The rejected stream ended; the one from `using` restores it.
                self.set_down(topic);
                push(E::ReplayFallback {
                    topic: topic.clone(),
                    rejected: rejected.clone(),
                    using: using.clone(),
                    error: error.clone().into(),
                });
            }
            PubSubEvent::Error(error) => push(E::Problem {
                error: error.clone().into(),
            }),
            PubSubEvent::Disconnected(reason) => push(E::Closed {
                error: match reason {
                    PubSubDisconnectReason::Failed(e) => Some(e.clone().into()),
                    _ => None,
                },
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sfstream_core::pubsub::PubSubError;

    fn lost_reason() -> PubSubError {
        PubSubError::InvalidOperation("cut".into())
    }

    fn run(events: &[PubSubEvent]) -> Vec<PubSubSessionEvent> {
        let mut tracker = StreamTracker::default();
        let mut out = Vec::new();
        for e in events {
            tracker.translate(e, true, &mut out);
        }
        out
    }

    fn subscribed(topic: &str) -> PubSubEvent {
        PubSubEvent::Subscribed {
            topic: topic.into(),
            replay_from: PubSubReplayFrom::Earliest,
        }
    }

    fn reconnecting(topic: &str) -> PubSubEvent {
        PubSubEvent::Reconnecting {
            topic: Some(topic.into()),
            after: Duration::from_millis(10),
            reason: lost_reason(),
        }
    }

    #[test]
    fn a_lost_stream_is_reported_once_then_retried_then_restored() {
        let out = run(&[
            subscribed("/event/A__e"),
            reconnecting("/event/A__e"),
            reconnecting("/event/A__e"),
            subscribed("/event/A__e"),
        ]);
        let names: Vec<&str> = out
            .iter()
            .map(|e| match e {
                PubSubSessionEvent::StreamOpened { .. } => "opened",
                PubSubSessionEvent::StreamLost { .. } => "lost",
                PubSubSessionEvent::Reconnecting { .. } => "reconnecting",
                PubSubSessionEvent::StreamRestored { .. } => "restored",
                _ => "other",
            })
            .collect();
        assert_eq!(
            names,
            ["opened", "lost", "reconnecting", "reconnecting", "restored"]
        );
    }

    #[test]
    fn a_stream_never_opened_is_retried_without_a_loss() {
        let out = run(&[reconnecting("/event/A__e"), subscribed("/event/A__e")]);
        assert!(matches!(out[0], PubSubSessionEvent::Reconnecting { .. }));
        assert!(matches!(out[1], PubSubSessionEvent::StreamOpened { .. }));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn without_subscribers_nothing_is_built_but_streams_are_followed() {
        let mut tracker = StreamTracker::default();
        let mut out = Vec::new();
        tracker.translate(&subscribed("/event/A__e"), false, &mut out);
        tracker.translate(&reconnecting("/event/A__e"), false, &mut out);
        assert!(out.is_empty());
        tracker.translate(&subscribed("/event/A__e"), true, &mut out);
        assert!(matches!(out[0], PubSubSessionEvent::StreamRestored { .. }));
    }

    #[test]
    fn a_fallback_to_latest_is_a_gap_and_to_earliest_is_not() {
        let fallback = |using| PubSubEvent::ReplayFallback {
            topic: "/event/A__e".into(),
            rejected: None,
            using,
            error: lost_reason(),
        };
        let out = run(&[
            fallback(PubSubReplayFrom::Latest),
            fallback(PubSubReplayFrom::Earliest),
        ]);
        assert!(out[0].is_gap());
        assert!(!out[1].is_gap());
        assert_eq!(out[0].topic(), Some("/event/A__e"));
    }
}
