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
pub mod extension;
pub mod message;
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

/// Entry points for the fuzz targets in `fuzz/`, built only under `cfg(fuzzing)` (cargo-fuzz
/// sets it): parsers that are not part of the API but read bytes from the network.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    /// RFC 6265 §5.1.1 cookie-date parsing (`Expires`).
    #[must_use]
    pub fn parse_cookie_date(text: &str) -> Option<std::time::SystemTime> {
        crate::cookie::parse_cookie_date(text)
    }
}

pub use config::{CommitPolicy, Config, Endpoint, ReplayFallback, ReplayFrom, RetryPolicy};
pub use error::{BayeuxError, Error, ErrorClass, ErrorKind, ServerError};
pub use event::{ChannelStats, DisconnectReason, Event, RefetchReason, Stats};
pub use extension::Extension;
pub use message::{Batch, ChangeEventHeader, Committable, EventKind, Message, Timestamp};
pub use received::{Arrived, Half, Received, SecondHalf, Split};
pub use secret::Secret;
pub use session::Session;
pub use transmit::{RequestId, RequestKind, Transmit, TransportError, TransportErrorKind};
