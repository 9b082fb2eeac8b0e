//! What the Pub/Sub session tells the application.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::pubsub::proto::TopicInfo;

use super::error::{PubSubDisconnectReason, PubSubError};
use super::publish::{PublishId, PublishOutcome};
use super::replay::{PubSubReplayFrom, ReplayId};

/// Something the Pub/Sub session wants the application (or its adapter) to know.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PubSubEvent {
    /// A token was obtained (or renewed).
    Authenticated {
        /// The org's instance, sent as `instanceurl`.
        instance_url: String,
        /// The org id sent as `tenantid`.
        tenant_id: String,
    },
    /// The server accepted a topic's `Subscribe` stream (its response head arrived).
    Subscribed {
        /// The topic.
        topic: String,
        /// Where the stream started.
        replay_from: PubSubReplayFrom,
    },
    /// A topic failed for good (it does not exist, the user may not read it, or its replay id
    /// was rejected and no fallback is configured). The other topics go on.
    SubscribeFailed {
        /// The topic.
        topic: String,
        /// Why.
        error: PubSubError,
    },
    /// A topic was unsubscribed.
    Unsubscribed {
        /// The topic.
        topic: String,
    },
    /// A topic's committed position moved: store it to resume from it after a restart.
    Checkpoint {
        /// The topic.
        topic: String,
        /// The newest processed position (an event's replay id, or a keepalive's
        /// `latest_replay_id` once every event before it was processed).
        replay_id: ReplayId,
    },
    /// A replay id was rejected and the configured fallback applies, once. The stored id must be
    /// forgotten (the adapter removes it from the store).
    ReplayFallback {
        /// The topic.
        topic: String,
        /// The rejected id.
        rejected: Option<ReplayId>,
        /// Where the stream starts instead.
        using: PubSubReplayFrom,
        /// The server's error.
        error: PubSubError,
    },
    /// A call failed; the session tries again after `after`.
    Reconnecting {
        /// The topic whose stream is opened again; `None` for a token request.
        topic: Option<String>,
        /// The delay before the next attempt.
        after: Duration,
        /// What failed.
        reason: PubSubError,
    },
    /// The server refused the token: the session fetches a new one, then opens again the calls
    /// it refused.
    Reauthenticating {
        /// The refusal.
        reason: PubSubError,
    },
    /// A stream was silent past the watchdog: it is cancelled and opened again. The connection
    /// it was on may be half-open: an adapter that multiplexes calls on one HTTP/2 connection
    /// should check it (a PING) or open a new one, so the new stream does not land on it.
    WatchdogFired {
        /// The topic.
        topic: String,
        /// How long nothing arrived.
        silent_for: Duration,
    },
    /// A stream that was owed no events ended (the server closes such a stream after 60 s
    /// without a request). It is opened again from where it stopped as soon as the application
    /// has made room for more events.
    IdleClosed {
        /// The topic.
        topic: String,
    },
    /// The org's 24-hour event delivery allocation is used up: the topic stays down and is tried
    /// again after `retry_after`.
    DeliveryLimitReached {
        /// The topic.
        topic: String,
        /// When it is tried again.
        retry_after: Duration,
        /// The server's error.
        error: PubSubError,
    },
    /// The answer to [`PubSubSession::get_topic`](super::PubSubSession::get_topic).
    TopicInfo {
        /// The topic.
        topic: String,
        /// What the server said.
        info: TopicInfo,
    },
    /// [`PubSubSession::get_topic`](super::PubSubSession::get_topic) failed.
    TopicInfoFailed {
        /// The topic.
        topic: String,
        /// Why.
        error: PubSubError,
    },
    /// A publish completed: one outcome per event, in the order the events were given.
    Published {
        /// The id [`PubSubSession::publish`](super::PubSubSession::publish) returned.
        id: PublishId,
        /// The topic.
        topic: String,
        /// Per event: its correlation key and its replay id, or why it failed.
        results: Vec<PublishOutcome>,
    },
    /// A publish failed as a whole before the server answered for its events (the topic cannot
    /// be published to, the call failed, the session closed). Whether the server took any of its
    /// events is unknown when the call broke after it was sent; they are not sent again.
    PublishFailed {
        /// The id [`PubSubSession::publish`](super::PubSubSession::publish) returned.
        id: PublishId,
        /// The topic.
        topic: String,
        /// Why.
        error: PubSubError,
    },
    /// A problem the session recovered from or worked around (an event that could not be
    /// decoded and is delivered raw, a malformed message). Nothing was lost.
    Error(PubSubError),
    /// The session ended; no more events follow.
    Disconnected(PubSubDisconnectReason),
}

/// Counters of what a Pub/Sub session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PubSubStats {
    /// OAuth token requests sent.
    pub token_requests: u64,
    /// Token renewals caused by the server refusing a token.
    pub reauthentications: u64,
    /// `Subscribe` streams opened.
    pub streams_opened: u64,
    /// `FetchRequest`s sent.
    pub fetch_requests: u64,
    /// Credits requested (the sum of `num_requested`).
    pub credits_requested: u64,
    /// `FetchResponse`s received.
    pub fetch_responses: u64,
    /// `FetchResponse`s without events.
    pub keepalives: u64,
    /// Events received.
    pub events_received: u64,
    /// Events taken by the application.
    pub events_delivered: u64,
    /// Events whose payload could not be decoded (delivered raw).
    pub undecodable_events: u64,
    /// `GetSchema` calls made.
    pub schema_requests: u64,
    /// `GetTopic` calls made.
    pub topic_requests: u64,
    /// Streams aborted by the watchdog.
    pub watchdog_fired: u64,
    /// Streams the server ended while owed nothing.
    pub idle_closes: u64,
    /// Replay fallbacks applied.
    pub replay_fallbacks: u64,
    /// `PublishRequest`s sent (unary or on a stream).
    pub publish_requests: u64,
    /// Events the server accepted.
    pub events_published: u64,
    /// Events the server (or the encoder) refused.
    pub events_refused: u64,
    /// `Subscribe` streams the server accepted (their response head arrived).
    pub streams_accepted: u64,
    /// Streams accepted after the topic's first: each follows a lost stream (an error, the
    /// watchdog, an idle close, a replay fallback).
    pub reconnects: u64,
    /// When the last event arrived from the server (the time given to the session with it);
    /// `None` before the first. Keepalives do not count.
    pub last_event_at: Option<Instant>,
    /// Each topic's replay positions.
    pub topics: BTreeMap<String, TopicStats>,
}

/// One topic's replay positions (see [`PubSubStats::topics`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicStats {
    /// The newest position the topic reached (an event's replay id, or a keepalive's
    /// `latest_replay_id`): where its next stream resumes. `None` before any.
    pub accepted: Option<ReplayId>,
    /// The newest replay id committed (processed, and handed to the store as a checkpoint);
    /// `None` before the first commit.
    pub committed: Option<ReplayId>,
}
