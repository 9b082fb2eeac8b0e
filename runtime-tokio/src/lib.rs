//! # sfstream-tokio
//!
//! A Salesforce Streaming API client (CometD long-polling: PushTopic, generic streaming,
//! Platform Events, Change Data Capture) with durable replay, on tokio. HTTP by reqwest over
//! rustls; the protocol lives in `sfstream-core`, the client loop in `sfstream-driver`; this
//! crate only supplies tokio's clock, timers, tasks and HTTP.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use sfstream_tokio::{FileStore, ReplayFallback};
//!
//! # async fn run() -> Result<(), sfstream_tokio::Error> {
//! let client = sfstream_tokio::password_client(
//!     "consumer-key", "consumer-secret", "user@example.com", "password+securitytoken", false,
//! )
//! .store(FileStore::open("replay.json")?)        // resume here after a restart
//! .replay_fallback(Some(ReplayFallback::All))    // stored id too old? replay what is retained
//! .build()?;
//! client.subscribe("/event/Order__e").await?;
//! client.open().await?;
//! let mut messages = client.stream();
//! while let Some(message) = messages.next().await {
//!     let message = message?;
//!     println!("{} {:?} {}", message.channel(), message.replay_id(), message.raw_json());
//! }
//! client.close().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod runtime;

pub use runtime::Tokio;
sfstream_driver::runtime_api!(Tokio, "A client on tokio. Clones share one session.");
