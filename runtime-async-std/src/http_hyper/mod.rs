//! HTTP by hyper 1 (HTTP/1.1) over async-io sockets, TLS by rustls: everything on the tasks of
//! the caller and of async-global-executor, no helper thread, and a response body copied once,
//! from hyper's read buffer into the `Vec` the session gets.
//!
//! Connections are kept per origin, at most [`MAX_IDLE_PER_ORIGIN`] idle ones each. A connection
//! travels inside the exchange that uses it and goes back to the pool only once the response
//! body has been read to its end; an exchange that is dropped (a deadline passed, a long poll
//! cancelled) drops its connection with it, so no later request can read the answer meant for
//! the cancelled one.

mod connect;
mod proxy;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_global_executor::Task;
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, PROXY_AUTHORIZATION};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Request, Response, Uri, Version};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use sfstream_driver::{TransportError, error_chain};

pub(crate) use proxy::ProxyEnv;
use proxy::Route;

/// Idle connections kept per origin.
const MAX_IDLE_PER_ORIGIN: usize = 4;
/// An idle connection older than this is not reused: servers close idle connections, and one
/// closed while nobody was reading may not have been noticed yet.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A client: the proxy settings and the idle connections. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub(crate) struct HyperClient {
    shared: Arc<Shared>,
}

struct Shared {
    proxies: ProxyEnv,
    /// Replaces the platform verifier's TLS configuration (tests).
    tls: Option<Arc<rustls::ClientConfig>>,
    idle: Mutex<HashMap<Origin, Vec<Idle>>>,
}

/// Scheme, host and port: the requests that may share a connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub(crate) https: bool,
    /// Lower case, without the brackets of an IPv6 literal.
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// A connection: the handle that sends requests and the task that runs it. Dropping it cancels
/// the task, which closes the socket.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    _task: Task<()>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

impl HyperClient {
    /// A client with the environment's proxy settings.
    pub(crate) fn new() -> Self {
        Self::with(ProxyEnv::from_env(), None)
    }

    pub(crate) fn with(proxies: ProxyEnv, tls: Option<Arc<rustls::ClientConfig>>) -> Self {
        Self {
            shared: Arc::new(Shared {
                proxies,
                tls,
                idle: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The newest idle connection to `origin` that is still open.
    fn checkout(&self, origin: &Origin) -> Option<Conn> {
        let mut idle = self.idle();
        let conns = idle.get_mut(origin)?;
        while let Some(Idle { conn, since }) = conns.pop() {
            if !conn.sender.is_closed() && since.elapsed() < IDLE_TIMEOUT {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps `conn` for the next request to `origin`, dropping the oldest past the bound.
    fn checkin(&self, origin: Origin, conn: Conn) {
        let mut idle = self.idle();
        let conns = idle.entry(origin).or_default();
        conns.retain(|idle| !idle.conn.sender.is_closed());
        conns.push(Idle {
            conn,
            since: Instant::now(),
        });
        if conns.len() > MAX_IDLE_PER_ORIGIN {
            conns.remove(0);
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, HashMap<Origin, Vec<Idle>>> {
        // The map stays consistent whatever panicked while holding it.
        self.shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many idle connections to `origin` the pool holds.
    #[cfg(test)]
    fn idle_count(&self, origin: &Origin) -> usize {
        self.idle().get(origin).map_or(0, Vec::len)
    }
}

impl Origin {
    fn of(uri: &Uri) -> Result<Self, TransportError> {
        // The URL itself stays out of the error text: its query could carry a secret.
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            _ => return Err(TransportError::Other("the URL is not http or https".into())),
        };
        let host = uri
            .host()
            .ok_or_else(|| TransportError::Other("the URL has no host".into()))?;
        Ok(Self {
            https,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        })
    }

    /// The host as it appears in a URL: an IPv6 literal in brackets.
    fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    fn host_header(&self) -> String {
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            self.bracketed_host()
        } else {
            format!("{}:{}", self.bracketed_host(), self.port)
        }
    }
}

/// One exchange; the caller bounds it in time.
pub(crate) async fn exchange(
    client: HyperClient,
    request: Request<Vec<u8>>,
    max_body: usize,
) -> Result<Response<Vec<u8>>, TransportError> {
    let origin = Origin::of(request.uri())?;
    let route = client.shared.proxies.route(&origin)?;
    let request = outgoing(request, &origin, &route)?;
    let (response, conn) = send(&client, &origin, &route, request).await?;
    let (parts, body) = response.into_parts();
    let reusable = parts.version == Version::HTTP_11
        && !parts
            .headers
            .get_all(CONNECTION)
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let body = read_body(&parts.headers, body, max_body).await?;
    if reusable {
        client.checkin(origin, conn);
    }
    Ok(Response::from_parts(parts, body))
}

/// The request as hyper sends it: HTTP/1.1, a `Host` header, the target in origin form (or in
/// absolute form with the proxy's credentials, to a forwarding proxy).
fn outgoing(
    request: Request<Vec<u8>>,
    origin: &Origin,
    route: &Route<'_>,
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

/// Sends on an idle connection if one is open, else on a new one. An idle connection that
/// turns out closed before the request went out is dropped and the next one tried; once the
/// request has gone out it is never sent again.
async fn send(
    client: &HyperClient,
    origin: &Origin,
    route: &Route<'_>,
    mut request: Request<Full<Bytes>>,
) -> Result<(Response<Incoming>, Conn), TransportError> {
    while let Some(mut conn) = client.checkout(origin) {
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
    let mut conn = connect::open(origin, route, client.shared.tls.as_ref()).await?;
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

/// hyper's errors describe the protocol or I/O failure, never headers or bodies.
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
