//! # sfstream-tokio
//!
//! A Salesforce Streaming API client (CometD long-polling: PushTopic, generic streaming,
//! Platform Events, Change Data Capture) with durable replay, on tokio. HTTP by reqwest over
//! rustls; the protocol lives in `sfstream-core`, the client loop in `sfstream-driver`; this
//! crate only supplies tokio's clock, timers, tasks and HTTP.
//!
//! ```no_run
//! use sfstream_tokio::{CommitPolicy, FileStore, LoginUrl, ReplayFallback};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = sfstream_tokio::password_client(
//!     "consumer-key", "consumer-secret", "user@example.com", "password+securitytoken",
//!     LoginUrl::Production,                      // Sandbox, or "https://MyDomain.my.salesforce.com"
//! )
//! .store(FileStore::open("replay.json")?)        // resume here after a restart
//! .commit_policy(CommitPolicy::Manual)           // stored once processed, not once taken
//! .replay_fallback(Some(ReplayFallback::All))    // stored id too old? replay what is retained
//! .build()?;
//! client.subscribe("/event/Order__e").await?;
//! client.open().await?;
//! loop {
//!     let batch = client.receive_batch(100).await?;
//!     for message in &batch {
//!         let order: serde_json::Value = message.payload()?; // or a struct of yours
//!         println!("{} {:?} {order}", message.channel(), message.created_date());
//!     }
//!     client.commit(&batch)?;                    // processed: a restart resumes after it
//! }
//! # }
//! ```
//!
//! Durable processing: under [`CommitPolicy::Manual`], commit after processing and a crash
//! costs no event (those processed after the last stored commit come again, so make processing
//! idempotent: the replay id or `EventUuid` identifies an event). The default,
//! [`CommitPolicy::Automatic`], commits each message as `receive` returns it, before it is
//! processed: after a crash, messages taken but not processed are not delivered again. The
//! examples (`batch_to_database`, `graceful_shutdown`, `fan_out`) show the manual pattern.
//!
//! ## Session events
//!
//! Reconnects, replay fallbacks (a gap with `ReplayFallback::New`), re-fetches, lost and
//! restored connections come as [`SessionEvent`]s from [`Client::session_events`], a stream any
//! number of tasks may read; [`Client::stats`] has the counters and each channel's replay ids.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use sfstream_tokio::SessionEvent;
//!
//! # async fn run(client: sfstream_tokio::Client) {
//! let mut events = client.session_events();         // before open: see the session start
//! tokio::spawn(async move {
//!     while let Some(event) = events.next().await {
//!         match event {
//!             e if e.is_gap() => eprintln!("events skipped, reconcile: {e:?}"),
//!             SessionEvent::SessionLost { reason } => eprintln!("session lost: {reason}"),
//!             SessionEvent::ConnectionLost { outage } => eprintln!("unreachable for {outage:?}"),
//!             SessionEvent::Lagged { missed } => eprintln!("{missed} session events missed"),
//!             SessionEvent::Closed { error } => eprintln!("closed: {error:?}"),
//!             other => eprintln!("{other:?}"),
//!         }
//!     }
//! });
//! client.open().await.ok();
//! let stats = client.stats();
//! println!("{} reconnects, {} re-fetches", stats.reconnects, stats.refetches);
//! for (channel, ids) in &stats.channels {
//!     println!("{channel}: accepted {:?}, committed {:?}", ids.accepted, ids.committed);
//! }
//! # }
//! ```
//!
//! ## Testing your application
//!
//! [`testing::replay_client`] builds the real client on a transcript instead of a server:
//! record one with the `record` setting (or `SFSTREAM_RECORD=path`) against Salesforce or the
//! emulator, or write it by hand, and your own code meets its messages offline,
//! deterministically. A request your code makes that the recording does not have is never
//! answered, and [`testing::Replay::verify`] names it.
//!
//! ```
//! use sfstream_tokio::testing::{Replay, replay_client};
//!
//! /// The code under test: the amounts of the next `n` orders.
//! async fn order_amounts(client: &sfstream_tokio::Client, n: usize) -> Vec<f64> {
//!     client.subscribe("/event/Order__e").await.unwrap();
//!     client.open().await.unwrap();
//!     let mut amounts = Vec::new();
//!     for _ in 0..n {
//!         let order: serde_json::Value = client.receive().await.unwrap().payload().unwrap();
//!         amounts.push(order["Amount__c"].as_f64().unwrap());
//!     }
//!     client.close().await.unwrap();
//!     amounts
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // In a test: a transcript (here written by hand; usually a recorded file).
//! let replay = Replay::from_json(r#"{
//!   "config": {"access_token": "tok", "instance_url": "https://example.my.salesforce.com"},
//!   "steps": [
//!     {"send": {"kind": "handshake", "as": "hs"}},
//!     {"reply": {"to": "hs", "body": [{"channel": "/meta/handshake", "successful": true,
//!                                      "clientId": "c1", "ext": {"replay": true}}]}},
//!     {"send": {"kind": "connect", "as": "c1"}},
//!     {"send": {"kind": "control", "as": "s1", "json": [{"subscription": "/event/Order__e"}]}},
//!     {"reply": {"to": "s1", "body": [{"channel": "/meta/subscribe", "successful": true,
//!                                      "subscription": "/event/Order__e"}]}},
//!     {"reply": {"to": "c1", "body": [{"channel": "/meta/connect", "successful": true}]}},
//!     {"send": {"kind": "connect", "as": "c2"}},
//!     {"reply": {"to": "c2", "body": [
//!       {"channel": "/event/Order__e", "data": {"payload": {"Amount__c": 42}, "event": {"replayId": 7}}},
//!       {"channel": "/meta/connect", "successful": true}]}},
//!     {"send": {"kind": "connect", "as": "c3"}},
//!     {"send": {"kind": "disconnect", "as": "bye"}},
//!     {"reply": {"to": "bye", "body": [{"channel": "/meta/disconnect", "successful": true}]}}
//!   ]}"#).unwrap();
//! let client = replay_client(replay.clone()).build().unwrap();
//! assert_eq!(order_amounts(&client, 1).await, [42.0]);
//! replay.verify().unwrap(); // every recorded request was made, none other
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod http2;
mod http2_proxy;
pub mod pubsub;
mod runtime;

pub use runtime::Tokio;
sfstream_driver::runtime_api!(Tokio, "A client on tokio. Clones share one session.");
