//! The Salesforce Pub/Sub API (gRPC) on tokio: subscribe to topics with flow control and
//! durable byte replay ids, receive decoded events, publish with a result per event.
//!
//! ```no_run
//! use sfstream_tokio::pubsub::{self, Credentials, FileStore, ReplayFallback, Secret};
//!
//! # async fn run() -> Result<(), pubsub::Error> {
//! let client = pubsub::builder(Credentials::AccessToken {
//!     access_token: Secret::new("00D…!token"),
//!     instance_url: "https://example.my.salesforce.com".into(),
//! })
//! .store(FileStore::open("replay.json").map_err(|e| pubsub::Error::Store(e.into()))?)
//! .replay_fallback(Some(ReplayFallback::All))
//! .build()?;
//! client.subscribe("/data/AccountChangeEvent").await?;
//! client.open().await?;
//! loop {
//!     let event = client.receive().await?;
//!     println!("{} {} {}", event.topic(), event.replay_id(), event.payload());
//! }
//! # }
//! ```
sfstream_driver::pubsub_api!(crate::Tokio);
