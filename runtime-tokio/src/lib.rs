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
pub use sfstream_driver::{
    ChangeEventHeader, CommitPolicy, ConstantStore, Credentials, Error, EventKind, FileStore,
    JwtKey, LoginUrl, MemoryStore, Message, ReplayFallback, ReplayFrom, ReplayStore, RetryPolicy,
    Secret, StoreError, core, store,
};

/// A client on tokio. Clones share one session.
pub type Client = sfstream_driver::Client<Tokio>;
/// Configures a [`Client`].
pub type ClientBuilder = sfstream_driver::ClientBuilder<Tokio>;

/// A builder for Salesforce with any credentials (password, refresh token, JWT bearer, client
/// credentials, or a ready access token).
#[must_use]
pub fn builder(credentials: Credentials) -> ClientBuilder {
    ClientBuilder::new(Tokio::new(), credentials)
}

/// aiosfstream's `SalesforceStreamingClient`: the password flow (password with the security
/// token appended) against production, or the sandbox login host when `sandbox` is true.
#[must_use]
pub fn password_client(
    consumer_key: impl Into<String>,
    consumer_secret: impl Into<Secret>,
    username: impl Into<String>,
    password: impl Into<Secret>,
    sandbox: bool,
) -> ClientBuilder {
    ClientBuilder::password(
        Tokio::new(),
        consumer_key,
        consumer_secret,
        username,
        password,
        sandbox,
    )
}

/// A builder for any Bayeux server (faye, the CometD server): no OAuth, no replay.
#[must_use]
pub fn bayeux_client(url: impl Into<String>) -> ClientBuilder {
    ClientBuilder::bayeux(Tokio::new(), url)
}
