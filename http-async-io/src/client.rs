//! The client: one exchange at a time per connection, a response body copied once, from
//! hyper's read buffer into the `Vec` the caller gets.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, PROXY_AUTHORIZATION};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Request, Response, Uri, Version};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use rustls::RootCertStore;
use sfstream_driver::{TransportError, error_chain};

use crate::connect::{self, Trust};
use crate::origin::Origin;
use crate::pool::{Conn, Pool};
use crate::proxy::{Proxies, Route};

/// An HTTP client over async-io sockets: proxies, trust, and the idle connections. Cheap to
/// clone; clones share the pool.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

/// What clones of a client share; HTTP/2 pools made from it share its proxies and trust.
pub(crate) struct Shared {
    pub(crate) proxies: Proxies,
    pub(crate) trust: Trust,
    pool: Pool,
}

/// Configures a [`Client`]: by default the environment's proxies and the platform's
/// certificate verifier.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    proxies: Proxies,
    roots: Option<RootCertStore>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("proxies", &self.shared.proxies)
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client with the environment's proxies (read here, once) and the platform's verifier.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder, to set proxies or trusted roots of your own.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            proxies: Proxies::from_env(),
            roots: None,
        }
    }

    /// One exchange: the whole response, its body at most `max_body` bytes
    /// ([`TransportError::BodyTooLarge`] beyond). No deadline of its own but the connect
    /// timeout: the caller bounds it in time, and dropping the future aborts it.
    pub async fn send(
        &self,
        request: Request<Vec<u8>>,
        max_body: usize,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let origin = Origin::of(request.uri())?;
        let route = self.shared.proxies.route(request.uri())?;
        let request = outgoing(request, &origin, &route)?;
        let (response, conn) = self.dispatch(&origin, &route, request).await?;
        let (parts, body) = response.into_parts();
        let reusable = parts.version == Version::HTTP_11
            && !parts
                .headers
                .get_all(CONNECTION)
                .iter()
                .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let body = read_body(&parts.headers, body, max_body).await?;
        if reusable {
            self.shared.pool.checkin(origin, conn);
        }
        Ok(Response::from_parts(parts, body))
    }

    /// A pool of HTTP/2 connections (for gRPC) with this client's proxies and trusted roots:
    /// `https` origins through the same `CONNECT` tunnels, with TLS offering ALPN `h2`.
    #[cfg(feature = "http2")]
    #[must_use]
    pub fn http2_pool(&self) -> crate::http2::Http2Pool {
        crate::http2::Http2Pool::with_settings(self.shared.clone())
    }

    /// How many idle connections to the origin of `url` the pool holds (0 for a URL that is
    /// not `http` or `https`).
    #[must_use]
    pub fn idle_connections(&self, url: &Uri) -> usize {
        Origin::of(url).map_or(0, |origin| self.shared.pool.idle_count(&origin))
    }

    /// Sends on an idle connection if one is open, else on a new one. An idle connection that
    /// turns out closed before the request went out is dropped and the next one tried; once the
    /// request has gone out it is never sent again.
    async fn dispatch(
        &self,
        origin: &Origin,
        route: &Route,
        mut request: Request<Full<Bytes>>,
    ) -> Result<(Response<Incoming>, Conn), TransportError> {
        while let Some(mut conn) = self.shared.pool.checkout(origin) {
            if conn.sender.ready().await.is_err() {
                continue;
            }
            match conn.sender.try_send_request(request).await {
                Ok(response) => return Ok((response, conn)),
                Err(mut e) => match e.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(map_error(&e.into_error())),
                },
            }
        }
        let mut conn = connect::open(origin, route, &self.shared.trust).await?;
        conn.sender
            .ready()
            .await
            .map_err(|e| TransportError::Connect(error_chain(&e)))?;
        let response = conn
            .sender
            .send_request(request)
            .await
            .map_err(|e| map_error(&e))?;
        Ok((response, conn))
    }
}

impl ClientBuilder {
    /// The proxies to use (default: [`Proxies::from_env`]).
    pub fn proxies(mut self, proxies: Proxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// Trusts these root certificates, and only these, in place of the platform's verifier
    /// (a private CA, a test server).
    pub fn root_certificates(mut self, roots: RootCertStore) -> Self {
        self.roots = Some(roots);
        self
    }

    /// The client.
    #[must_use]
    pub fn build(self) -> Client {
        let trust = self.roots.map_or(Trust::Platform, Trust::roots);
        Client {
            shared: Arc::new(Shared {
                proxies: self.proxies,
                trust,
                pool: Pool::default(),
            }),
        }
    }
}

/// The request as hyper sends it: HTTP/1.1, a `Host` header, the target in origin form (or in
/// absolute form with the proxy's credentials, to a forwarding proxy).
fn outgoing(
    request: Request<Vec<u8>>,
    origin: &Origin,
    route: &Route,
) -> Result<Request<Full<Bytes>>, TransportError> {
    let (mut parts, body) = request.into_parts();
    parts.version = Version::HTTP_11;
    if !parts.headers.contains_key(HOST) {
        let host = HeaderValue::try_from(origin.host_header())
            .map_err(|_| TransportError::Other("the URL's host is not a valid header".into()))?;
        parts.headers.insert(HOST, host);
    }
    match route {
        Route::Forward(proxy) => {
            if let Some(authorization) = proxy.authorization() {
                parts
                    .headers
                    .insert(PROXY_AUTHORIZATION, authorization.clone());
            }
        }
        Route::Direct | Route::Tunnel(_) => {
            let target = parts
                .uri
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/"));
            parts.uri = Uri::from(target);
        }
    }
    Ok(Request::from_parts(parts, Full::new(Bytes::from(body))))
}

/// The whole body, at most `max_body` bytes, into one buffer sized from `Content-Length`. A
/// body over the bound fails at once, with the rest unread (the connection is then dropped).
async fn read_body(
    headers: &HeaderMap,
    mut body: Incoming,
    max_body: usize,
) -> Result<Vec<u8>, TransportError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = TransportError::BodyTooLarge { limit: max_body };
    let capacity = match declared {
        Some(n) if n > max_body as u64 => return Err(too_large),
        Some(n) => usize::try_from(n).unwrap_or(max_body),
        None => 0,
    };
    let mut out = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| map_error(&e))?;
        if let Ok(data) = frame.into_data() {
            if data.len() > max_body - out.len() {
                return Err(too_large);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// hyper's errors describe the protocol or I/O failure, never headers or bodies. They come
/// after the request was handed to the connection, so none is `Connect` (that is reported by
/// `connect::open` and the fresh connection's handshake, before anything is written).
fn map_error(e: &hyper::Error) -> TransportError {
    let text = error_chain(e);
    if e.is_timeout() {
        TransportError::Timeout
    } else if e.is_user() {
        TransportError::Other(text)
    } else {
        TransportError::Io(text)
    }
}
