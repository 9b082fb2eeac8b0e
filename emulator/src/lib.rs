//! A local Salesforce Streaming API (CometD / Bayeux long-polling) and OAuth token endpoint,
//! with fault injection, for testing streaming clients offline.
//!
//! It is an independent implementation of the server side: it shares no types with the client
//! crates, so a misreading of the protocol on one side cannot hide behind the same misreading
//! on the other.
//!
//! # Quick start
//!
//! ```no_run
//! # async fn demo() -> Result<(), sfstream_emulator::Error> {
//! use std::time::Duration;
//! use sfstream_emulator::Emulator;
//!
//! let emulator = Emulator::builder()
//!     .long_poll_timeout(Duration::from_millis(500))
//!     .reconnect_deadline(Duration::from_millis(400))
//!     .start()
//!     .await?;
//! let control = emulator.control();
//! control.create_channel("/event/Low_Ink__e")?;
//! let replay_id = control.publish("/event/Low_Ink__e", serde_json::json!({"Printer__c": "XZO-5"}))?;
//! println!("{} published {replay_id}", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! - `POST /services/oauth2/token` (form-encoded): `password`, `refresh_token`,
//!   `client_credentials` and `urn:ietf:params:oauth:grant-type:jwt-bearer` grants.
//! - `POST /cometd/{version}` (version 37.0 or later): handshake, connect, subscribe,
//!   unsubscribe, disconnect, with Salesforce's replies, cookies, advice and error strings.
//! - `/_emulator/…`: the control API, the HTTP twin of [`Control`]:
//!
//! | route | body | does |
//! |---|---|---|
//! | `GET /_emulator/settings` | | base URL, credentials, timeouts |
//! | `GET /_emulator/channels` | | lists channels |
//! | `POST /_emulator/channels` | `{"name"}` | [`Control::create_channel`] |
//! | `POST /_emulator/publish` | `{"channel","payload"}` / `{"channel","payloads":[…]}` / `{"channel","count"}` | publish given or generated events |
//! | `POST /_emulator/publish_bulk` | `{"channel","count","payload_size"}` | [`Control::publish_bulk`] |
//! | `POST /_emulator/channels/expire` | `{"channel","through_replay_id"}` | [`Control::expire_events`] |
//! | `POST /_emulator/channels/retention` | `{"channel","retention_ms"}` | [`Control::set_retention`] |
//! | `POST /_emulator/tokens` | | [`Control::issue_token`] |
//! | `POST /_emulator/tokens/revoke` | | [`Control::revoke_tokens`] |
//! | `POST /_emulator/sessions/drop` | `{"advice":"handshake"\|"none"}` | [`Control::drop_sessions`] |
//! | `POST /_emulator/sessions/disconnect` | `{"error":"unknown_client"\|"authentication_invalid"}` | [`Control::push_disconnect_with`] |
//! | `POST /_emulator/sessions/reroute` | | [`Control::reroute_sessions`] |
//! | `POST /_emulator/faults` | `{"count","fault":{"kind",…},"target"}` | [`Control::fail_next_on`] |
//! | `DELETE /_emulator/faults` | | [`Control::clear_faults`] |
//! | `POST /_emulator/chaos` | `{"rate","seed","max_delay_ms","hold_ms","mix"}` | [`Control::chaos_with`] |
//! | `DELETE /_emulator/chaos` | | [`Control::stop_chaos`] |
//! | `GET /_emulator/stats` | | [`Control::stats`] |
//! | `POST /_emulator/sessions/reset_max` | | [`Control::reset_max_active_sessions`] |
//! | `GET /_emulator/orgs` | | every org with its credentials |
//!
//! # Several orgs
//!
//! [`EmulatorBuilder::org`] adds orgs besides the default one (`00DEM0000000001`), each a
//! complete emulator state of its own: credentials, org id, channels and event logs, tokens,
//! sessions, faults, statistics. A token request goes to the org whose credentials grant it, a
//! CometD request to the org whose id prefixes its token (`00D…!…`). Every control route above
//! is also served under `/_emulator/orgs/{org id}/` for that org; the plain routes steer the
//! default org. [`Emulator::control_for`] is the Rust twin.
//!
//! Fault kinds over HTTP: `status` (with `status`), `reset`, `delay` (with `ms`),
//! `malformed_json`, `deny_handshake_concurrent_limit`, `server_too_busy`, and the broken
//! responses that lose events `cut_after_delivery`, `reset_after_delivery`,
//! `hold_after_delivery` (with `ms`); targets `cometd` (default), `token`, `any`. Chaos mixes:
//! `"transport"`, `"all"`, or weights by [`ChaosKind::name`]. The crate's README has an example
//! for each.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod bayeux;
mod broken;
mod bulk;
mod channels;
mod chaos;
mod cometd;
mod config;
mod control;
mod control_http;
mod cookies;
mod emulator;
mod error;
mod events;
mod faults;
mod jwt;
mod long_poll;
mod meta;
mod oauth;
mod orgs;
mod respond;
mod server;
mod session;
mod state;
mod stats;
mod util;

pub use bulk::BulkPublished;
pub use channels::ChannelKind;
pub use chaos::{ChaosConfig, ChaosKind, ChaosMix};
pub use config::{Credentials, DEFAULT_CHANNELS, MAX_ORGS, Org, parse_org_count};
pub use control::{Control, DEFAULT_CHAOS_MAX_DELAY};
pub use emulator::{Emulator, EmulatorBuilder};
pub use error::Error;
pub use faults::{DropAdvice, Fault, FaultTarget, PushedDisconnect};
pub use stats::{ClientStats, Stats, Totals};

/// The largest accepted CometD request body, in bytes; larger ones get HTTP 413.
pub const MAX_REQUEST_BYTES: usize = cometd::MAX_REQUEST_BYTES;
