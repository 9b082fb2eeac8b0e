//! The Salesforce Pub/Sub API (gRPC) for async-std and smol: subscribe to topics with flow
//! control and durable byte replay ids, receive decoded events, publish with a result per event.
//! HTTP/2 by sfstream-http-async-io's [`Http2Pool`](sfstream_http_async_io::Http2Pool): hyper's
//! HTTP/2 client on async-io sockets, TLS by rustls (ring) with ALPN `h2`, the environment's
//! proxies through `CONNECT` tunnels; no executor of the application's is needed.
//!
//! ```no_run
//! use sfstream_async_std::pubsub::{self, Credentials, FileStore, ReplayFallback, Secret};
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
//! // under smol: smol::block_on(run()); under async-std: async_std::task::block_on(run())
//! ```
//!
//! A client with proxies or trusted roots of your own: build the runtime from a hyper client
//! ([`AsyncStd::with_hyper_client`](crate::AsyncStd::with_hyper_client)) and give it to
//! [`PubSubClientBuilder::new`]; its HTTP/2 connections use that client's settings.
sfstream_driver::pubsub_api!(crate::AsyncStd);
