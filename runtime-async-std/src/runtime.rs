//! Timers from async-io, tasks on async-global-executor, store calls on its blocking pool, and
//! HTTP by hyper (default), isahc (feature `isahc`) or surf (feature `surf`). None of these needs
//! the application's executor: they run under async-std, smol, or a plain `block_on`.

use std::time::{Instant, SystemTime};

use async_io::Timer;
use futures_lite::future::{self, Boxed};
#[cfg(any(feature = "isahc", feature = "surf"))]
use futures_lite::{AsyncRead, AsyncReadExt};
use http::{Request, Response};
#[cfg(any(feature = "isahc", feature = "surf"))]
use sfstream_driver::error_chain;
use sfstream_driver::{Runtime, TransportError};

/// The HTTP client a runtime handle uses.
#[derive(Clone)]
pub(crate) enum Http {
    #[cfg(feature = "hyper")]
    Hyper(crate::http_hyper::HyperClient),
    #[cfg(feature = "isahc")]
    Isahc(isahc::HttpClient),
    #[cfg(feature = "surf")]
    Surf(surf::Client),
    /// The client could not be created; every request fails with this text, so the session
    /// reports it like any other transport failure.
    Unavailable(String),
}

/// The runtime as the client needs it, for async-std and smol alike. Cheap to clone; clones
/// share one HTTP client.
#[derive(Clone)]
pub struct AsyncStd {
    http: Http,
}

impl std::fmt::Debug for AsyncStd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let http = match &self.http {
            #[cfg(feature = "hyper")]
            Http::Hyper(_) => "hyper",
            #[cfg(feature = "isahc")]
            Http::Isahc(_) => "isahc",
            #[cfg(feature = "surf")]
            Http::Surf(_) => "surf",
            Http::Unavailable(_) => "unavailable",
        };
        f.debug_struct("AsyncStd").field("http", &http).finish()
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
        #[cfg(not(any(feature = "hyper", feature = "isahc", feature = "surf")))]
        return Self::from_http(Err("built without an HTTP client feature".into()));
    }

    /// A runtime handle over a fresh hyper client: HTTP/1.1, up to 4 idle connections kept per
    /// origin, 15 s connect timeout, TLS by rustls with the platform's certificate verifier, and
    /// proxies from the environment as curl reads them (`http_proxy`, `https_proxy`,
    /// `all_proxy`, `no_proxy`), read once, here. It follows no redirect: the session refuses one
    /// with an error naming its host.
    #[cfg(feature = "hyper")]
    #[must_use]
    pub fn hyper() -> Self {
        Self::from_http(Ok(Http::Hyper(crate::http_hyper::HyperClient::new())))
    }

    /// A runtime handle over a hyper client made in this crate's tests.
    #[cfg(all(test, feature = "hyper"))]
    pub(crate) fn with_hyper_client(client: crate::http_hyper::HyperClient) -> Self {
        Self {
            http: Http::Hyper(client),
        }
    }

    /// A runtime handle over a fresh isahc client: 15 s connect timeout, no `Expect:
    /// 100-continue`, no transparent decompression, no redirect followed (the session refuses one
    /// with an error naming its host), no cookie jar (the session keeps the cookies).
    #[cfg(feature = "isahc")]
    #[must_use]
    pub fn isahc() -> Self {
        Self::from_http(crate::http_isahc::client())
    }

    /// A runtime handle over an isahc client of your own (proxies, certificates). Leave its
    /// cookie jar off: the session keeps the cookies. Redirects are never followed, whatever the
    /// client's policy: each request says so.
    #[cfg(feature = "isahc")]
    #[must_use]
    pub fn with_isahc_client(client: isahc::HttpClient) -> Self {
        Self {
            http: Http::Isahc(client),
        }
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
        Self {
            http: Http::Surf(client),
        }
    }

    fn from_http(http: Result<Http, String>) -> Self {
        let http = http.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the HTTP client could not be created");
            Http::Unavailable(e)
        });
        Self { http }
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
        let exchange: Boxed<Result<Response<Vec<u8>>, TransportError>> = match &self.http {
            #[cfg(feature = "hyper")]
            Http::Hyper(client) => Box::pin(crate::http_hyper::exchange(
                client.clone(),
                request,
                max_body,
            )),
            #[cfg(feature = "isahc")]
            Http::Isahc(client) => Box::pin(crate::http_isahc::exchange(
                client.clone(),
                request,
                max_body,
            )),
            #[cfg(feature = "surf")]
            Http::Surf(client) => Box::pin(crate::http_surf::exchange(
                client.clone(),
                request,
                max_body,
            )),
            Http::Unavailable(e) => {
                let e = TransportError::Other(format!("no HTTP client: {e}"));
                Box::pin(future::ready(Err(e)))
            }
        };
        // Dropping the exchange (deadline passed, or the session cancelled it) aborts it.
        Box::pin(future::or(exchange, async move {
            Timer::at(deadline).await;
            Err(TransportError::Timeout)
        }))
    }
}

/// Reads a whole response body (isahc, surf), but no more than `max_body` bytes. The buffer is sized from
/// the response's `Content-Length` (never past the bound), so a large body is not copied through
/// a series of doubling buffers.
#[cfg(any(feature = "isahc", feature = "surf"))]
pub(crate) async fn read_limited(
    headers: &http::HeaderMap,
    body: impl AsyncRead + Unpin,
    max_body: usize,
) -> Result<Vec<u8>, TransportError> {
    let capacity = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(0, |n| n.min(max_body));
    let mut out = Vec::with_capacity(capacity);
    let bound = u64::try_from(max_body)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    body.take(bound)
        .read_to_end(&mut out)
        .await
        .map_err(|e| TransportError::Io(error_chain(&e)))?;
    if out.len() > max_body {
        return Err(TransportError::BodyTooLarge { limit: max_body });
    }
    Ok(out)
}
