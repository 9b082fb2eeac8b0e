//! tokio's clock, timers, tasks and blocking pool, reqwest for HTTP, and hyper's HTTP/2 client
//! for the Pub/Sub API's gRPC streams.

use std::sync::Once;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use http::{Request, Response};
use sfstream_driver::pubsub::{Http2Runtime, StreamEvent};
use sfstream_driver::{Runtime, TransportError};

use crate::http2::Http2Pool;

/// The tokio runtime, as the client needs it. Create it inside a tokio runtime.
#[derive(Clone, Debug)]
pub struct Tokio {
    http: reqwest::Client,
    /// HTTP/2 connections for the Pub/Sub API (`http2.rs`).
    h2: Http2Pool,
}

impl Default for Tokio {
    fn default() -> Self {
        Self::new()
    }
}

static RUSTLS_PROVIDER: Once = Once::new();

impl Tokio {
    /// A runtime handle with a fresh HTTP connection pool: 15 s connect timeout, up to 4 idle
    /// connections per host, and no redirect followed (the session refuses a redirect with an
    /// error naming its host, rather than send credentials wherever it points).
    #[must_use]
    pub fn new() -> Self {
        RUSTLS_PROVIDER.call_once(|| {
            // Another library may have installed a provider already; either is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(15))
            .pool_max_idle_per_host(4)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            http,
            h2: Http2Pool::default(),
        }
    }

    /// A runtime handle over a reqwest client of your own (proxies, certificates). Build it
    /// with `.redirect(reqwest::redirect::Policy::none())`: reqwest follows redirects by
    /// default, and a followed redirect takes the token request's credentials (or the bearer
    /// token) to wherever it points before the session can refuse it. The Pub/Sub API's HTTP/2
    /// connections do not use this client: they read the proxy variables themselves.
    #[must_use]
    pub fn with_http_client(http: reqwest::Client) -> Self {
        Self {
            http,
            h2: Http2Pool::default(),
        }
    }
}

impl Runtime for Tokio {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        tokio::spawn(task);
    }

    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send + 'static>) -> BoxFuture<'static, ()> {
        let handle = tokio::task::spawn_blocking(work);
        Box::pin(async move {
            let _ = handle.await;
        })
    }

    fn send(
        &self,
        request: Request<Vec<u8>>,
        deadline: Instant,
        max_body: usize,
    ) -> BoxFuture<'static, Result<Response<Vec<u8>>, TransportError>> {
        let http = self.http.clone();
        Box::pin(async move {
            let exchange = async {
                let request = reqwest::Request::try_from(request)
                    .map_err(|e| TransportError::Other(e.to_string()))?;
                let mut response = http.execute(request).await.map_err(map_error)?;
                let mut builder = Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    builder = builder.header(name, value);
                }
                let mut body = Vec::with_capacity(
                    response.content_length().unwrap_or(0).min(max_body as u64) as usize,
                );
                while let Some(chunk) = response.chunk().await.map_err(map_error)? {
                    if body.len() + chunk.len() > max_body {
                        return Err(TransportError::BodyTooLarge { limit: max_body });
                    }
                    body.extend_from_slice(&chunk);
                }
                builder
                    .body(body)
                    .map_err(|e| TransportError::Other(e.to_string()))
            };
            match tokio::time::timeout_at(deadline.into(), exchange).await {
                Ok(result) => result,
                Err(_) => Err(TransportError::Timeout),
            }
        })
    }
}

impl Http2Runtime for Tokio {
    fn open_stream(
        &self,
        head: Request<()>,
        body: BoxStream<'static, Bytes>,
        connect_deadline: Instant,
    ) -> BoxStream<'static, StreamEvent> {
        self.h2.open_stream(head, body, connect_deadline)
    }

    fn forget_connection(&self, origin: &http::Uri) {
        self.h2.forget(origin);
    }
}

fn map_error(e: reqwest::Error) -> TransportError {
    // reqwest errors name the URL but never headers or bodies, so no token can leak here.
    // `Connect` only for what reqwest reports as a connect failure (DNS, TCP, TLS handshake,
    // proxy): no byte of the request was written. Anything else may have reached the server,
    // and a long poll that failed so is fetched again by the session.
    let text = sfstream_driver::error_chain(&e);
    if e.is_timeout() {
        TransportError::Timeout
    } else if e.is_connect() {
        // A plain-HTTP answer to the TLS handshake: the URL's scheme or port is wrong.
        let not_tls = sfstream_driver::find_cause::<rustls::Error>(&e).is_some_and(|e| {
            matches!(
                e,
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
            )
        });
        if not_tls {
            TransportError::NotTls(text)
        } else {
            TransportError::Connect(text)
        }
    } else {
        TransportError::Io(text)
    }
}
