//! # sfstream-async-std
//!
//! A Salesforce Streaming API client (CometD long-polling: PushTopic, generic streaming,
//! Platform Events, Change Data Capture) with durable replay, for async-std and smol. The
//! protocol lives in `sfstream-core`, the client loop in `sfstream-driver`, shared with the
//! tokio and blocking clients (same API, knobs, defaults and behaviour); this crate supplies
//! timers (async-io), tasks and a blocking pool (async-global-executor) and HTTP.
//!
//! Despite the name, the default build does not depend on async-std (discontinued upstream,
//! RUSTSEC-2025-0052): every piece is runtime-agnostic, so the client runs under async-std,
//! under smol, or under a plain `block_on`.
//!
//! ```no_run
//! use sfstream_async_std::{CommitPolicy, FileStore, LoginUrl, ReplayFallback};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = sfstream_async_std::password_client(
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
//!         println!("{} {:?}", message.channel(), message.payload_json());
//!     }
//!     client.commit(&batch)?;                    // processed: a restart resumes after it
//! }
//! # }
//! // under smol: smol::block_on(run()); under async-std: async_std::task::block_on(run())
//! ```
//!
//! Under [`CommitPolicy::Manual`], commit after processing and a crash costs no event (some
//! come again); the default automatic policy commits as `receive` returns a message, before it
//! is processed. See the workspace README's "Durable processing".
//!
//! ## HTTP clients
//!
//! - Default (feature `hyper`, `AsyncStd::hyper()`, `with_hyper_client` for a client of your
//!   own): the `sfstream-http-async-io` crate, hyper 1's HTTP/1.1 client over async-io sockets
//!   (smol-hyper's adapter), names resolved on the blocking pool, TLS by rustls with the ring
//!   provider and the platform's certificate verifier (rustls-platform-verifier, as reqwest in
//!   the tokio runtime; on Linux the system's CA store). Pure Rust: no C compiler, no OpenSSL,
//!   no helper thread. Up to 4 idle connections per origin; a request that is dropped
//!   (deadline, cancelled long poll) closes its connection. hyper brings in tokio's `sync`
//!   channels, not its runtime.
//! - Proxies (hyper client): the environment as the tokio runtime (reqwest) reads it, by the
//!   same matcher (hyper-util's): `HTTP_PROXY`/`http_proxy` for `http` URLs, `HTTPS_PROXY`/
//!   `https_proxy` for `https` URLs, else `ALL_PROXY`/`all_proxy`; `NO_PROXY`/`no_proxy` lists
//!   hosts, domains, IP addresses and networks to reach directly (`*` for all); none in a CGI
//!   program (`REQUEST_METHOD` set). Proxy URLs are `http://[user:password@]host[:port]` (port
//!   80 when absent, as reqwest); `https` targets go through a `CONNECT` tunnel, `http` ones as
//!   absolute-form requests, with `Proxy-Authorization: Basic` from the URL's credentials. A
//!   variable that is set but unusable fails the requests it applies to, naming it. The
//!   environment is read when the runtime handle is made.
//! - Feature `isahc` (`AsyncStd::isahc()`, `with_isahc_client` for a client of your own): isahc
//!   2, with libcurl built statically by the C compiler and TLS by rustls (curl's rustls
//!   backend), so no system OpenSSL. curl runs on an agent thread of its own, which costs about
//!   1.8 times the CPU per event of the default on large responses. isahc is maintained slowly
//!   (few releases); prefer the default.
//! - Feature `surf`: surf 2 with its async-h1 client over rustls. **surf is unmaintained
//!   (RUSTSEC-2025-0036)**, it brings in **async-std, which is discontinued
//!   (RUSTSEC-2025-0052)**, and its TLS stack is rustls 0.18 / webpki 0.21 / ring 0.16, which
//!   have published advisories. The feature exists because the project's design names surf;
//!   prefer the default. With the feature on, [`AsyncStd::new`] (and so [`builder`]) uses surf;
//!   `AsyncStd::hyper()` and `AsyncStd::isahc()` still pick theirs when their features are on.
//!
//! ## The Pub/Sub API
//!
//! The `pubsub` module (feature `pubsub`, on by default; it turns on `hyper`) is the gRPC
//! Pub/Sub API's client, over HTTP/2 from the `sfstream-http-async-io` crate whichever client
//! carries the Streaming API. Neither alternative serves: surf's async-h1 speaks HTTP/1.1 only,
//! and isahc would need libnghttp2 built in, while curl reports neither the code of a reset
//! stream nor lets the session PING an idle connection, both of which the Pub/Sub session relies
//! on (a refused stream is opened again at once; a half-open connection is found by PINGs). So
//! a build with only `isahc` or `surf` has no `pubsub` module. A Streaming-only build:
//! `default-features = false, features = ["hyper"]`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(any(feature = "hyper", feature = "isahc", feature = "surf")))]
compile_error!(
    "sfstream-async-std needs an HTTP client: enable the `hyper` (default), `isahc` or `surf` feature"
);

mod http;
#[cfg(feature = "hyper")]
mod http_hyper;
#[cfg(feature = "isahc")]
mod http_isahc;
#[cfg(feature = "surf")]
mod http_surf;
#[cfg(feature = "pubsub")]
pub mod pubsub;
mod runtime;

pub use runtime::AsyncStd;
sfstream_driver::runtime_api!(
    AsyncStd,
    "A client for async-std or smol. Clones share one session."
);
