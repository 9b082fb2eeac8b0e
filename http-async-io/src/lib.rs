//! # sfstream-http-async-io
//!
//! The HTTP client of sfstream's async-io runtimes (`sfstream-async-std`, and the blocking
//! runtime's Pub/Sub client): hyper 1 over
//! async-io sockets, TLS by rustls with the ring provider and the platform's certificate
//! verifier, proxies from the environment as the tokio runtime (reqwest) reads them. Everything
//! runs on the caller's task and on async-global-executor's: no helper thread, no tokio runtime,
//! so it works under async-std, under smol, or under a plain `block_on`.
//!
//! - [`Client`]: a connection pool per origin (at most 4 idle connections each), a 15 s
//!   connect timeout, whole response bodies read into one buffer under a size bound. An
//!   exchange that is dropped (a deadline passed, a long poll cancelled) drops its connection,
//!   so no later request reads the answer meant for it. No redirect is followed.
//! - [`Proxies`]: `HTTP_PROXY`/`http_proxy`, `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`/`all_proxy`
//!   and `NO_PROXY`/`no_proxy`, matched by hyper-util's matcher, the one reqwest uses. `https`
//!   targets go through a `CONNECT` tunnel, `http` ones to the proxy in absolute form. A
//!   variable that is set but unusable fails the requests it applies to, naming it.
//!
//! - [`Http2Pool`] (feature `http2`, on by default): HTTP/2 streams for gRPC (the Pub/Sub API),
//!   one connection per origin, TLS offering ALPN `h2` only, h2c (prior knowledge) to loopback
//!   hosts, PINGs every 20 s (15 s to answer) while the connection lives, the same proxies
//!   (`CONNECT` tunnels) and trusted roots as the [`Client`] it is made from.
//!
//! [`Client`] requests speak HTTP/1.1 (ALPN `http/1.1` over TLS). The API names no protocol
//! version: the pool keys connections by origin, and a connection's protocol is its own
//! business.
//!
//! ```no_run
//! # async fn run() -> Result<(), sfstream_driver::TransportError> {
//! let client = sfstream_http_async_io::Client::new();
//! let request = http::Request::get("https://example.com/")
//!     .body(Vec::new())
//!     .expect("a valid request");
//! let response = client.send(request, 1 << 20).await?;
//! println!("{}", response.status());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod connect;
#[cfg(feature = "http2")]
pub mod http2;
mod origin;
mod pool;
mod proxy;
#[cfg(feature = "http2")]
mod rt;

pub use client::{Client, ClientBuilder};
#[cfg(feature = "http2")]
pub use http2::Http2Pool;
pub use proxy::{Proxies, Proxy, Route};
