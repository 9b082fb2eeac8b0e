//! A local Salesforce Pub/Sub API (gRPC) server with fault injection, for testing Pub/Sub clients
//! offline: the six `eventbus.v1.PubSub` methods, Avro payloads shaped like Salesforce's
//! (Platform Events and Change Data Capture with bitmaps), exact credit accounting, keepalives,
//! the idle close, replay presets, retention, publishing, managed subscriptions (beta) and
//! faults.
//!
//! It is an independent implementation of the server side: its protobuf code is generated from
//! its own `.proto` and its Avro code is the `apache-avro` crate, neither shared with the client
//! crates, so a misreading of the protocol on one side cannot hide behind the same misreading on
//! the other.
//!
//! # Quick start
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use sfstream_emulator_pubsub::PubSubEmulator;
//!
//! let emulator = PubSubEmulator::builder()
//!     .keepalive(Duration::from_millis(500))
//!     .idle_timeout(Duration::from_secs(2))
//!     .start()
//!     .await?;
//! let control = emulator.control();
//! let id = control.publish("/event/Order__e", serde_json::json!({"OrderNumber__c": "A-1"}))?;
//! println!("{} published {}", emulator.url(), id.to_base64());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Calls carry `accesstoken` ([`DEFAULT_ACCESS_TOKEN`] unless configured), `instanceurl` (any
//! non-blank URL) and `tenantid` (the org id, [`PubSubEmulator::org_id`]).
//!
//! # Control API
//!
//! [`Control`] in Rust; over HTTP/JSON on the same port under `/_emulator/`:
//!
//! | route | body | does |
//! |---|---|---|
//! | `GET /_emulator/settings` | | URL, org id, token, timeouts, certificate path |
//! | `GET /_emulator/topics` | | topics, kinds, schema ids, retained counts |
//! | `POST /_emulator/topics` | `{"name","fields":[{"name","type"}]}` or `{"name","schema":{…}}` | [`Control::create_topic`] |
//! | `POST /_emulator/topics/schema` | same | [`Control::change_schema`] → `{"schema_id"}` |
//! | `POST /_emulator/topics/reset` | `{"topic"}` | [`Control::reset_replay_ids`] (org migration) |
//! | `POST /_emulator/publish` | `{"topic","payload"}` / `{"topic","payloads":[…]}` / `{"topic","count"}` | publish JSON field values → `{"replay_id"}` / `{"replay_ids"}` (base64) |
//! | `GET /_emulator/managed_subscriptions` | | [`Control::managed_subscriptions`] |
//! | `POST /_emulator/managed_subscriptions` | `{"developer_name","topic","default_replay","error_recovery_replay","state"}` | [`Control::create_managed_subscription`] → `{"id"}` |
//! | `POST /_emulator/managed_subscriptions/state` | `{"subscription","state":"RUN"\|"STOP"}` | [`Control::set_managed_state`] |
//! | `POST /_emulator/managed_subscriptions/delete` | `{"subscription"}` | [`Control::delete_managed_subscription`] |
//! | `POST /_emulator/tokens` | | [`Control::issue_token`] → `{"access_token"}` |
//! | `POST /_emulator/tokens/expire` | | [`Control::expire_tokens`] |
//! | `POST /_emulator/clock/advance` | `{"ms"}` | [`Control::advance_clock`] |
//! | `POST /_emulator/faults` | `{"count","fault":{"kind",…},"target"}` | [`Control::fail_next_on`] |
//! | `DELETE /_emulator/faults` | | [`Control::clear_faults`] |
//! | `POST /_emulator/chaos` | `{"rate","seed"}` | [`Control::chaos`] |
//! | `DELETE /_emulator/chaos` | | [`Control::stop_chaos`] |
//! | `GET /_emulator/stats` | | [`Control::stats`] |
//!
//! Fault kinds over HTTP are the [`Fault::name`]s: `unavailable`, `cut_after_delivery`, `stall`,
//! `delivery_limit_exceeded`, `token_expired`, `corrupted_replay_id`, `duplicate_delivery`
//! (`"events"`), `status` (`"code"`, `"error_code"`, `"message"`); targets `any` (default),
//! `subscribe`, `managed_subscribe`, `publish`, `unary`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod auth;
mod avro_json;
mod calls;
mod cdc;
mod clock;
mod config;
mod control;
mod control_http;
mod emulator;
mod error;
mod faults;
mod managed;
pub mod proto;
mod publish;
mod schema;
mod server;
mod service;
mod state;
mod stats;
mod status;
mod stream;
mod subscribe;
mod tls;
mod topics;
mod util;

pub use auth::{AuthOutcome, TokenCheck};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{MAX_OUTSTANDING, ManagedState, ReplayStart};
pub use control::{Control, ReplayId, TopicSummary};
pub use emulator::{DEFAULT_ACCESS_TOKEN, DEFAULT_ORG_ID, PubSubEmulator, PubSubEmulatorBuilder};
pub use error::Error;
pub use faults::{Fault, FaultTarget};
pub use managed::ManagedSubscription;
pub use schema::{DEFAULT_TOPICS, Field, FieldType, TopicKind};
pub use stats::{Stats, TopicStats, Totals};
pub use status::{DELIVERY_LIMIT_MESSAGE, ERROR_CODE_PREFIX, RESET_MESSAGE};
