//! # sfstream-blocking
//!
//! A Salesforce Streaming API client (CometD long-polling: PushTopic, generic streaming,
//! Platform Events, Change Data Capture) with durable replay, for synchronous code: no async
//! runtime in the dependency tree. HTTP by ureq over rustls; the protocol lives in
//! `sfstream-core`, the client loop in `sfstream-driver`, shared with the tokio and async-std
//! clients (same knobs, defaults and behaviour); this crate supplies threads, a timer and ureq.
//!
//! Messages come from [`Client::receive`], [`Client::receive_timeout`] or as an [`Iterator`].
//! Each HTTP exchange runs on a thread of its own, so `subscribe`, `unsubscribe` and `close`
//! never wait behind a held long poll, and `close` from another thread ends a blocked
//! iteration.
//!
//! ```no_run
//! use sfstream_blocking::{FileStore, ReplayFallback};
//!
//! # fn run() -> Result<(), sfstream_blocking::Error> {
//! let client = sfstream_blocking::password_client(
//!     "consumer-key", "consumer-secret", "user@example.com", "password+securitytoken", false,
//! )
//! .store(FileStore::open("replay.json")?)        // resume here after a restart
//! .replay_fallback(Some(ReplayFallback::All))    // stored id too old? replay what is retained
//! .build()?;
//! client.subscribe("/event/Order__e")?;
//! client.open()?;
//! let closer = client.clone();                   // e.g. for a Ctrl-C handler
//! # drop(closer);
//! for message in &client {
//!     let message = message?;
//!     println!("{} {:?} {}", message.channel(), message.replay_id(), message.raw_json());
//! }
//! client.close()?;
//! # Ok(()) }
//! ```
//!
//! ureq writes raw request bytes (headers included, so the access token) to the `log` crate at
//! `trace` level under the `ureq_proto` target: leave that target below `trace` in production.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builder;
mod client;
mod pool;
mod runtime;

pub use builder::ClientBuilder;
pub use client::{Client, Messages};
pub use runtime::Blocking;
sfstream_driver::runtime_api!(Blocking, own client);
