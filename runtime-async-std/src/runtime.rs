//! Timers from async-io, tasks on async-global-executor, store calls on its blocking pool, and
//! HTTP by hyper (default), isahc (feature `isahc`) or surf (feature `surf`); HTTP/2 for the
//! Pub/Sub API (feature `pubsub`) by sfstream-http-async-io's `Http2Pool`. None of these needs
//! the application's executor: they run under async-std, smol, or a plain `block_on`.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use async_io::Timer;
use futures_lite::future::{self, Boxed};
use http::{Request, Response};
use sfstream_driver::{Runtime, TransportError};

use crate::http::Http;

/// The runtime as the client needs it, for async-std and smol alike. Cheap to clone; clones
/// share one HTTP client (and one set of HTTP/2 connections).
#[derive(Clone)]
pub struct AsyncStd {
    http: Arc<dyn Http>,
    /// HTTP/2 connections for the Pub/Sub API (`pubsub.rs`).
    #[cfg(feature = "pubsub")]
    h2: sfstream_http_async_io::Http2Pool,
}

impl std::fmt::Debug for AsyncStd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncStd")
            .field("http", &self.http.name())
            .finish()
    }
}

impl Default for AsyncStd {
    fn default() -> Self {
        Self::new()
    }
}

impl AsyncStd {
    /// A runtime handle with a fresh HTTP client: surf when the `surf` feature is on, else hyper
    /// (the default), else isahc.
    #[must_use]
    pub fn new() -> Self {
        #[cfg(feature = "surf")]
        return Self::surf();
        #[cfg(all(feature = "hyper", not(feature = "surf")))]
        return Self::hyper();
        #[cfg(all(feature = "isahc", not(any(feature = "hyper", feature = "surf"))))]
        return Self::isahc();
    }

    /// A runtime handle over a fresh hyper client: HTTP/1.1, up to 4 idle connections kept per
    /// origin, 15 s connect timeout, TLS by rustls with the platform's certificate verifier, and
    /// proxies from the environment as the tokio runtime reads them (`HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, in either case), read once, here. It follows no
    /// redirect: the session refuses one with an error naming its host.
    #[cfg(feature = "hyper")]
    #[must_use]
    pub fn hyper() -> Self {
        Self::with_hyper_client(sfstream_http_async_io::Client::new())
    }

    /// A runtime handle over a hyper client of your own: proxies or trusted roots of your
    /// choice (see [`sfstream_http_async_io::ClientBuilder`]). The Pub/Sub API's HTTP/2
    /// connections (feature `pubsub`) use the same proxies and roots.
    #[cfg(feature = "hyper")]
    #[must_use]
    pub fn with_hyper_client(client: sfstream_http_async_io::Client) -> Self {
        Self {
            #[cfg(feature = "pubsub")]
            h2: client.http2_pool(),
            http: Arc::new(client),
        }
    }

    /// A runtime handle over a fresh isahc client: 15 s connect timeout, no `Expect:
    /// 100-continue`, no transparent decompression, no redirect followed (the session refuses one
    /// with an error naming its host), no cookie jar (the session keeps the cookies), and a new
    /// connection for each request: libcurl silently sends a request again when the reused
    /// connection it went out on dies before any answer, and a long poll sent twice loses the
    /// events the server handed the first one.
    #[cfg(feature = "isahc")]
    #[must_use]
    pub fn isahc() -> Self {
        Self::from_http(crate::http_isahc::client())
    }

    /// A runtime handle over an isahc client of your own (proxies, certificates). Leave its
    /// cookie jar off: the session keeps the cookies. Set `connection_cache_size(0)` (see
    /// [`AsyncStd::isahc`]): with reused connections a broken long poll can lose events.
    /// Redirects are never followed, whatever the client's policy: each request says so.
    #[cfg(feature = "isahc")]
    #[must_use]
    pub fn with_isahc_client(client: isahc::HttpClient) -> Self {
        Self::with_http(Arc::new(client))
    }

    /// A runtime handle over a fresh surf client: async-h1 over rustls, no client timeout (the
    /// session's deadlines apply), a new connection for each request, because surf's
    /// connection pool would hand a cancelled request's late answer to the next request, and no
    /// redirect followed (no `Redirect` middleware: the session refuses a redirect with an error
    /// naming its host).
    #[cfg(feature = "surf")]
    #[must_use]
    pub fn surf() -> Self {
        Self::from_http(crate::http_surf::client())
    }

    /// A runtime handle over a surf client of your own. Give it no timeout shorter than a long
    /// poll (110 s plus a margin), as the session puts a deadline on every request itself, turn
    /// keep-alive off (see [`AsyncStd::surf`]), and add no `Redirect` middleware: a followed
    /// redirect takes the request's credentials to wherever it points.
    #[cfg(feature = "surf")]
    #[must_use]
    pub fn with_surf_client(client: surf::Client) -> Self {
        Self::with_http(Arc::new(client))
    }

    #[cfg(any(feature = "isahc", feature = "surf"))]
    fn from_http(http: Result<impl Http, String>) -> Self {
        let http: Arc<dyn Http> = match http {
            Ok(http) => Arc::new(http),
            Err(e) => {
                tracing::error!(error = %e, "the HTTP client could not be created");
                Arc::new(crate::http::Unavailable(e))
            }
        };
        Self::with_http(http)
    }

    /// HTTP/1.1 by `http`; HTTP/2 (feature `pubsub`) by a pool with the environment's proxies.
    #[cfg(any(feature = "isahc", feature = "surf"))]
    fn with_http(http: Arc<dyn Http>) -> Self {
        Self {
            http,
            #[cfg(feature = "pubsub")]
            h2: sfstream_http_async_io::Http2Pool::default(),
        }
    }
}

impl Runtime for AsyncStd {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant) -> Boxed<()> {
        Box::pin(async move {
            Timer::at(deadline).await;
        })
    }

    fn spawn(&self, task: Boxed<()>) {
        async_global_executor::spawn(task).detach();
    }

    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send + 'static>) -> Boxed<()> {
        Box::pin(async_global_executor::spawn_blocking(work))
    }

    fn send(
        &self,
        request: Request<Vec<u8>>,
        deadline: Instant,
        max_body: usize,
    ) -> Boxed<Result<Response<Vec<u8>>, TransportError>> {
        let exchange = self.http.exchange(request, max_body);
        // Dropping the exchange (deadline passed, or the session cancelled it) aborts it.
        Box::pin(future::or(exchange, async move {
            Timer::at(deadline).await;
            Err(TransportError::Timeout)
        }))
    }
}

#[cfg(feature = "pubsub")]
impl sfstream_driver::pubsub::Http2Runtime for AsyncStd {
    fn open_stream(
        &self,
        head: Request<()>,
        body: futures_lite::stream::Boxed<bytes::Bytes>,
        connect_deadline: Instant,
    ) -> futures_lite::stream::Boxed<sfstream_driver::pubsub::StreamEvent> {
        self.h2.open_stream(head, body, connect_deadline)
    }

    fn forget_connection(&self, origin: &http::Uri) {
        self.h2.forget_connection(origin);
    }
}
