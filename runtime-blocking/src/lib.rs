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
//! use sfstream_blocking::{CommitPolicy, FileStore, LoginUrl, ReplayFallback};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = sfstream_blocking::password_client(
//!     "consumer-key", "consumer-secret", "user@example.com", "password+securitytoken",
//!     LoginUrl::Production,                      // Sandbox, or "https://MyDomain.my.salesforce.com"
//! )
//! .store(FileStore::open("replay.json")?)        // resume here after a restart
//! .commit_policy(CommitPolicy::Manual)           // stored once processed, not once taken
//! .replay_fallback(Some(ReplayFallback::All))    // stored id too old? replay what is retained
//! .build()?;
//! client.subscribe("/event/Order__e")?;
//! client.open()?;
//! let closer = client.clone();                   // e.g. for a Ctrl-C handler: closer.close()
//! # drop(closer);
//! for batch in client.batches(100) {             // ends once the client is closed
//!     let batch = batch?;
//!     for message in &batch {
//!         println!("{} {:?}", message.channel(), message.payload_json());
//!     }
//!     client.commit(&batch)?;                    // processed: a restart resumes after it
//! }
//! client.close()?;
//! # Ok(()) }
//! ```
//!
//! Under [`CommitPolicy::Manual`], commit after processing and a crash costs no event (some
//! come again); the default automatic policy commits as `receive` returns a message, before it
//! is processed. See the workspace README's "Durable processing".
//!
//! ## Session events
//!
//! Reconnects, replay fallbacks (a gap with `ReplayFallback::New`), re-fetches, lost and
//! restored connections come as [`SessionEvent`]s from [`Client::session_events`], an iterator
//! to read on a thread of its own; [`Client::stats`] has the counters and each channel's ids.
//!
//! ```no_run
//! use sfstream_blocking::SessionEvent;
//!
//! # fn run(client: sfstream_blocking::Client) -> Result<(), sfstream_blocking::Error> {
//! let events = client.session_events();             // before open: see the session start
//! let watcher = std::thread::spawn(move || {
//!     for event in events {                         // ends after SessionEvent::Closed
//!         match event {
//!             e if e.is_gap() => eprintln!("events skipped, reconcile: {e:?}"),
//!             SessionEvent::Reconnecting { after, reason } => eprintln!("retry in {after:?}: {reason}"),
//!             other => eprintln!("{other:?}"),
//!         }
//!     }
//! });
//! client.open()?;
//! let stats = client.stats();
//! println!("{} reconnects, last event {:?} ago", stats.reconnects,
//!     stats.last_event_at.map(|t| t.elapsed()));
//! client.close()?;
//! watcher.join().ok();
//! # Ok(()) }
//! ```
//!
//! ## The Pub/Sub API (feature `pubsub`)
//!
//! With the `pubsub` feature (off by default), the `pubsub` module has a blocking client of
//! Salesforce's Pub/Sub API (gRPC): `sfstream_blocking::pubsub::builder(credentials)`, then
//! subscribe, open, receive or iterate, commit, publish, close, as above. Its HTTP/2 streams run
//! on `sfstream-http-async-io` (async-io sockets, whose reactor and connection tasks have
//! threads of their own); without the feature, no async runtime is in the dependency tree.
//!
//! ureq writes raw request bytes (headers included, so the access token) to the `log` crate at
//! `trace` level under the `ureq_proto` target: leave that target below `trace` in production.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builder;
mod client;
mod pool;
#[cfg(feature = "pubsub")]
pub mod pubsub;
mod received;
mod runtime;
mod session_events;

pub use builder::ClientBuilder;
pub use client::{Batches, Client, Messages};
pub use received::Received;
pub use runtime::Blocking;
pub use session_events::SessionEvents;
sfstream_driver::runtime_api!(Blocking, own client);
