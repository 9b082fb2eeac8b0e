//! What a session reports besides messages: [`Event`]s, why a session ended, why events are
//! fetched again, and the session's counters.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::config::ReplayFrom;
use crate::error::Error;
#[cfg(doc)]
use crate::{Config, Session};

/// Something the session wants the application (or its adapter) to know.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A token was obtained.
    Authenticated {
        /// The instance the session streams from.
        instance_url: String,
        /// The org id, from the token's identity URL.
        org_id: Option<String>,
    },
    /// A Bayeux session was established.
    Handshaken {
        /// Its client id.
        client_id: String,
    },
    /// The first long poll of a Bayeux session succeeded: events flow.
    Connected,
    /// The server confirmed a subscription.
    Subscribed {
        /// The channel.
        channel: String,
        /// Where its replay started.
        replay_from: ReplayFrom,
    },
    /// A subscription failed for good (permission, wrong name, rejected replay id without a
    /// fallback). The other channels go on.
    SubscribeFailed {
        /// The channel.
        channel: String,
        /// Why.
        error: Error,
    },
    /// A channel was unsubscribed.
    Unsubscribed {
        /// The channel.
        channel: String,
    },
    /// A channel's committed replay id moved: store it to resume from it after a restart.
    Checkpoint {
        /// The channel.
        channel: String,
        /// The newest processed replay id.
        replay_id: i64,
    },
    /// A stored replay id was rejected and the configured fallback applies. The stored id must be
    /// forgotten (the adapter removes it from the store).
    ReplayFallback {
        /// The channel.
        channel: String,
        /// The rejected id, when known.
        rejected: Option<i64>,
        /// Where the replay starts instead.
        using: ReplayFrom,
        /// The server's error.
        error: Error,
    },
    /// The Bayeux session was given up: the server forgot it (`Unknown client`, a server-side
    /// disconnect), its token was refused, or a long poll broke after the server may have handed
    /// it events. A new session follows (after the [`Event::Reconnecting`] that comes next), on
    /// which every channel subscribes again from its position.
    SessionLost {
        /// What ended it.
        reason: Error,
    },
    /// Something failed; the session tries again after `after`.
    Reconnecting {
        /// The delay before the next attempt.
        after: Duration,
        /// What failed.
        reason: Error,
    },
    /// Events of a channel are fetched again by replay, after `from`: a long poll broke after the
    /// server may have handed it events, or events were set aside to keep memory within its
    /// bound. Nothing accepted is lost and nothing already accepted comes twice; the application
    /// needs to do nothing, but may count these (each re-delivered event counts against
    /// Salesforce's daily delivery allocation).
    Refetch {
        /// The channel.
        channel: String,
        /// Where the replay starts (exclusive): the last event of the channel accepted before.
        from: ReplayFrom,
        /// Why.
        reason: RefetchReason,
    },
    /// The server is reachable again after a reported outage.
    ConnectionRestored,
    /// A problem the session recovered from or worked around (malformed bytes, an outage that
    /// passed the connection timeout). Nothing committed was lost.
    Error(Error),
    /// The session ended; no more events follow.
    Disconnected(DisconnectReason),
}

/// Why a channel's events are fetched again (see [`Event::Refetch`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RefetchReason {
    /// A long poll failed after its request may have reached the server (the connection broke
    /// after the request was written, the body broke off, the deadline passed while the server
    /// held it, or a successful answer did not parse). Salesforce hands events to a long poll
    /// once, so the session starts a new Bayeux session and resubscribes every channel from its
    /// last accepted replay id.
    BrokenLongPoll(Error),
    /// The application fell so far behind that the waiting messages would have passed
    /// [`Config::max_pending_bytes`]; the events that did not fit were set aside and come again.
    MemoryBound {
        /// How many events of the channel were set aside.
        dropped: u64,
    },
}

/// Why a session ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The application closed it.
    Closed,
    /// A failure that retrying cannot fix (bad credentials, bad configuration).
    Failed(Error),
    /// A plain Bayeux server told the client not to come back.
    ServerClosed(Error),
}

/// Counters of what a session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// OAuth token requests sent.
    pub token_requests: u64,
    /// Token refreshes caused by the server refusing a token.
    pub reauthentications: u64,
    /// Handshakes sent.
    pub handshakes: u64,
    /// Long polls sent.
    pub connects: u64,
    /// Long polls sent as soon as the previous one's response arrived, before it was decoded
    /// (see [`Session::handle_arrived`]).
    pub connects_early: u64,
    /// Bayeux sessions lost (`Unknown client`, server disconnect).
    pub sessions_lost: u64,
    /// Messages received from the server and queued.
    pub messages_received: u64,
    /// Messages taken by the application.
    pub messages_delivered: u64,
    /// Messages dropped for lack of room, to be fetched again by replay.
    pub dropped_for_refetch: u64,
    /// Messages of an old subscription that arrived after a re-fetch began (their replay brings
    /// them again, in order).
    pub dropped_stale: u64,
    /// Re-subscriptions made to fetch messages again by replay (one per channel, see
    /// [`Event::Refetch`]).
    pub refetches: u64,
    /// Long polls that failed after their request may have reached the server, each followed by
    /// a re-fetch of every channel.
    pub broken_long_polls: u64,
    /// Long polls held back because more than [`Config::max_pending`] messages waited.
    pub polls_held_back: u64,
    /// Long polls sent while the application was still behind, because
    /// [`Config::max_poll_delay`] had passed since the last reply.
    pub polls_past_delay_limit: u64,
    /// Bayeux sessions established (successful handshakes).
    pub sessions: u64,
    /// Bayeux sessions established after the first: each follows a lost session (see
    /// [`Event::SessionLost`]).
    pub reconnects: u64,
    /// When the last event arrived from the server (the time given to the session with its
    /// response); `None` before the first.
    pub last_event_at: Option<Instant>,
    /// Each channel's replay positions.
    pub channels: BTreeMap<String, ChannelStats>,
}

/// One channel's replay positions (see [`Stats::channels`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelStats {
    /// The replay id of the newest event of the channel accepted into the queue of waiting
    /// messages (or the id it started from, before any); `None` when it has neither.
    pub accepted: Option<i64>,
    /// The newest replay id committed (processed, and handed to the store as a checkpoint; the
    /// store writes it shortly after); `None` before the first commit of a channel that did not
    /// start from an id.
    pub committed: Option<i64>,
}
