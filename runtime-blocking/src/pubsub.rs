//! The Salesforce Pub/Sub API (gRPC), blocking: subscribe to topics with flow control and durable
//! byte replay ids, receive decoded events, publish with a result per event. Feature `pubsub`.
//!
//! The same client as the async runtimes' (`sfstream_driver::pubsub`: the loop, flow control,
//! resume, re-authentication, replay fallback), each call waited for on the calling thread.
//! Token requests go over ureq, as the Streaming API's; the gRPC calls over HTTP/2 (TLS with
//! ALPN `h2`, or h2c to a loopback emulator) through `sfstream-http-async-io`'s HTTP/2 pool:
//! hyper on async-io sockets, whose reactor and connection tasks run on threads of their own,
//! never on the caller's. Proxies come from the environment (`HTTPS_PROXY`, `NO_PROXY`, …) and
//! certificates are checked by the platform's verifier; a ureq agent of your own
//! ([`Blocking::with_agent`](crate::Blocking::with_agent)) applies to the token requests only,
//! an HTTP/2 pool of your own ([`Blocking::with_http2_pool`](crate::Blocking::with_http2_pool))
//! to the gRPC calls.
//!
//! ```no_run
//! use sfstream_blocking::pubsub::{
//!     self, CommitPolicy, Credentials, FileStore, ReplayFallback, Secret,
//! };
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = pubsub::builder(Credentials::AccessToken {
//!     access_token: Secret::new("00D…!token"),
//!     instance_url: "https://example.my.salesforce.com".into(),
//! })
//! .store(FileStore::open("replay.json")?)        // resume here after a restart
//! .commit(CommitPolicy::Manual)                  // stored once processed, not once taken
//! .replay_fallback(Some(ReplayFallback::All))    // stored id too old? replay what is retained
//! .build()?;
//! client.subscribe("/data/AccountChangeEvent")?;
//! client.open()?;
//! let closer = client.clone();                   // e.g. for a Ctrl-C handler: closer.close()
//! # drop(closer);
//! for event in &client {                         // ends once the client is closed
//!     let event = event?;
//!     println!("{} {} {}", event.topic(), event.replay_id(), event.payload());
//!     client.commit(&event)?;                    // processed: a restart resumes after it
//! }
//! client.close()?;
//! # Ok(()) }
//! ```

mod builder;
mod client;
mod runtime;

pub use builder::PubSubClientBuilder;
pub use client::{PubSubClient, PubSubMessages};

/// The session events of a [`PubSubClient`] (see [`PubSubClient::session_events`]): an iterator.
pub type PubSubSessionEvents = crate::SessionEvents<PubSubSessionEvent>;
/// The HTTP client the gRPC calls go through, for an HTTP/2 pool with proxies or trusted roots
/// of your own ([`Blocking::with_http2_pool`](crate::Blocking::with_http2_pool)).
pub use sfstream_http_async_io as http_async_io;

sfstream_driver::pubsub_api!(crate::Blocking, own client);
