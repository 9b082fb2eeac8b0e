//! # sfstream-core
//!
//! The sans-IO protocol core of sfstream: a deterministic state machine that speaks the
//! Salesforce Streaming API (CometD / Bayeux 1.0 long-polling, with OAuth, replay, cookies and
//! Salesforce's error rules) and, in plain Bayeux mode, any CometD server. It opens no socket,
//! reads no clock, starts no thread and touches no file: HTTP responses, transport errors and the
//! time come in; HTTP requests, events and messages come out. The runtime crates (tokio,
//! async-std, blocking) are thin loops around it.
//!
//! ## The run loop contract
//!
//! After **every** input ([`Session::handle_response`]; or, in steps, [`Session::handle_arrived`]
//! and [`Session::handle_received`]; [`Session::handle_transport_error`],
//! [`Session::handle_timeout`]) and every command ([`Session::open`], [`Session::subscribe`],
//! [`Session::unsubscribe`], [`Session::close`], [`Session::poll_message`]), drain the outputs:
//!
//! 1. [`Session::poll_transmit`] until `None`: send each request, report its outcome under its id;
//! 2. [`Session::poll_cancel`] until `None`: abort those requests;
//! 3. [`Session::poll_event`] until `None`: act on events (store [`Event::Checkpoint`]s, log
//!    [`Event::Reconnecting`], stop on [`Event::Disconnected`]);
//! 4. [`Session::poll_timeout`]: call [`Session::handle_timeout`] at that instant.
//!
//! The response path in steps is for an adapter that shares the session behind a lock:
//! [`Session::handle_arrived`], as soon as a response is in, returns an [`Arrived`] token (the
//! next long poll may go out at once); [`Arrived::decode`] (or [`Arrived::split`], on two threads)
//! decodes it without the session, on any thread; [`Session::handle_received`] hands the
//! [`Received`] result over. Responses handed over out of order are put back in order.
//!
//! Take delivered messages with [`Session::poll_message`] when the application wants them. While
//! more than [`Config::max_pending`] wait, the session holds back the next long poll (within the
//! server's reconnect window) instead of dropping anything; only an event that would take the
//! waiting messages past [`Config::max_pending_bytes`] is set aside and fetched again by replay.
//!
//! ```
//! use std::time::{Duration, Instant, SystemTime};
//! use sfstream_core::{Config, Event, Session, Secret};
//! use sfstream_core::oauth::Credentials;
//!
//! let config = Config::salesforce(Credentials::AccessToken {
//!     access_token: Secret::new("00D!example"),
//!     instance_url: "https://example.my.salesforce.com".into(),
//! });
//! let start = Instant::now();
//! let mut session = Session::new(config, start, SystemTime::now()).unwrap();
//! session.subscribe("/event/Order__e", None, start).unwrap();
//! session.open(start).unwrap();
//!
//! // A real driver sends `t.request` over HTTP. Here the "server" answers the handshake.
//! let t = session.poll_transmit().expect("a handshake request");
//! assert!(String::from_utf8_lossy(t.request.body()).contains("/meta/handshake"));
//! let reply = br#"[{"channel":"/meta/handshake","successful":true,"clientId":"c1",
//!                  "version":"1.0","supportedConnectionTypes":["long-polling"],
//!                  "ext":{"replay":true,"payload.format":true}}]"#;
//! let now = start + Duration::from_millis(20);
//! session.handle_response(t.id, http::Response::new(reply.to_vec()), now);
//!
//! // Drain everything the input produced.
//! let mut sent = Vec::new();
//! while let Some(t) = session.poll_transmit() {
//!     sent.push(String::from_utf8_lossy(t.request.body()).into_owned());
//! }
//! while let Some(event) = session.poll_event() {
//!     if let Event::Handshaken { client_id } = event {
//!         assert_eq!(client_id, "c1");
//!     }
//! }
//! // The first long poll went out; the subscription waits for the control slot.
//! assert!(sent[0].contains("/meta/connect"));
//! assert!(session.poll_timeout().is_some());
//! ```
//!
//! The Pub/Sub API (gRPC) has a session of its own beside this one, with the same contract:
//! [`pubsub::PubSubSession`] (its module docs show its run loop).
//!
//! Time is an input: nothing here calls `Instant::now` (clippy forbids it in this crate), and
//! jitter comes from [`Config::seed`], so a run repeats exactly. [`transcript`] drives a session
//! through a recorded exchange, to test code against Salesforce traffic without a network.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backoff;
pub mod bayeux;
mod channels;
pub mod config;
pub mod cookie;
pub mod error;
pub mod event;
pub mod jwt;
pub mod oauth;
pub mod pubsub;
mod received;
mod redact;
mod redirect;
pub mod secret;
mod session;
mod time;
pub mod transcript;
pub mod transmit;

use std::time::Duration;

pub use config::{CommitPolicy, Config, Endpoint, ReplayFallback, ReplayFrom, RetryPolicy};
pub use error::{BayeuxError, Error, ErrorClass, ServerError};
pub use event::{ChangeEventHeader, EventKind, Message};
pub use received::{Arrived, Half, Received, SecondHalf, Split};
pub use secret::Secret;
pub use session::Session;
pub use transmit::{RequestId, RequestKind, Transmit, TransportError};

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
}
