//! HTTP/2 streams for the Pub/Sub API (gRPC): hyper's HTTP/2 client on tokio sockets, TLS by
//! rustls (ring) with the platform's verifier and ALPN `h2`, or h2c (prior knowledge) to a
//! loopback host. One connection per origin carries every call; PINGs check it while it lives.
//! Proxies from the environment apply as to the runtime's other requests (`http2_proxy.rs`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http2::{Builder, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use rustls_platform_verifier::BuilderVerifierExt;
use sfstream_driver::TransportError;
use sfstream_driver::pubsub::StreamEvent;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::http2_proxy::Proxies;

/// A request body: the frames the driver hands over.
type Body = StreamBody<BoxStream<'static, Result<Frame<Bytes>, Infallible>>>;

/// How often an HTTP/2 connection is PINGed, and how long an answer may take before the
/// connection is taken for dead (and every stream on it fails, to be opened again).
const PING_EVERY: Duration = Duration::from_secs(20);
const PING_TIMEOUT: Duration = Duration::from_secs(15);

/// The HTTP/2 connections of one runtime handle, one per origin (scheme, host, port), and the
/// proxy rules read when the handle was made.
#[derive(Clone, Default)]
pub(crate) struct Http2Pool {
    /// Never locked across an await: two first streams may both connect, and the later
    /// connection stays (the other ends with its streams).
    connections: Arc<Mutex<HashMap<String, SendRequest<Body>>>>,
    proxies: Arc<Proxies>,
}

impl std::fmt::Debug for Http2Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http2Pool").finish_non_exhaustive()
    }
}

impl Http2Pool {
    /// Opens a stream: the request head and body, and what comes back.
    pub(crate) fn open_stream(
        &self,
        head: Request<()>,
        body: BoxStream<'static, Bytes>,
        connect_deadline: Instant,
    ) -> BoxStream<'static, StreamEvent> {
        enum Step {
            Start(Box<(Http2Pool, Request<()>, BoxStream<'static, Bytes>, Instant)>),
            Reading(Incoming),
            Done,
        }
        let first = Step::Start(Box::new((self.clone(), head, body, connect_deadline)));
        Box::pin(stream::unfold(first, |step| async move {
            match step {
                Step::Start(start) => {
                    let (pool, head, body, deadline) = *start;
                    match pool.send(head, body, deadline).await {
                        Ok(response) => {
                            let (parts, incoming) = response.into_parts();
                            let head = StreamEvent::Head {
                                status: parts.status,
                                headers: parts.headers,
                            };
                            Some((head, Step::Reading(incoming)))
                        }
                        Err(event) => Some((event, Step::Done)),
                    }
                }
                Step::Reading(mut incoming) => match incoming.frame().await? {
                    Ok(frame) => match frame.into_data() {
                        Ok(data) => Some((StreamEvent::Data(data), Step::Reading(incoming))),
                        Err(frame) => match frame.into_trailers() {
                            Ok(trailers) => Some((StreamEvent::Trailers(trailers), Step::Done)),
                            // A frame of another kind: nothing for gRPC; read on.
                            Err(_) => {
                                Some((StreamEvent::Data(Bytes::new()), Step::Reading(incoming)))
                            }
                        },
                    },
                    Err(e) => Some((stream_failure(&e, true), Step::Done)),
                },
                Step::Done => None,
            }
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, SendRequest<Body>>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops the pooled connection to `uri`'s origin: the next stream makes a new one.
    pub(crate) fn forget(&self, uri: &Uri) {
        if let Ok(origin) = origin(uri) {
            if self.lock().remove(&origin).is_some() {
                tracing::debug!(%origin, "HTTP/2 connection set aside after a silent stream");
            }
        }
    }

    /// Sends the request on the origin's connection (made if there is none, or if it died).
    async fn send(
        &self,
        head: Request<()>,
        body: BoxStream<'static, Bytes>,
        deadline: Instant,
    ) -> Result<Response<Incoming>, StreamEvent> {
        let uri = head.uri().clone();
        let origin = origin(&uri).map_err(StreamEvent::Failed)?;
        let frames: BoxStream<'static, Result<Frame<Bytes>, Infallible>> =
            Box::pin(body.map(|data| Ok(Frame::data(data))));
        let request = head.map(|()| StreamBody::new(frames));
        let pooled = self
            .lock()
            .get(&origin)
            .filter(|sender| !sender.is_closed())
            .cloned();
        let mut sender = match pooled {
            Some(sender) => sender,
            None => {
                let made =
                    tokio::time::timeout_at(deadline.into(), connect(&uri, &self.proxies)).await;
                let sender = match made {
                    Ok(Ok(sender)) => sender,
                    Ok(Err(e)) => return Err(StreamEvent::Failed(e)),
                    Err(_) => return Err(StreamEvent::Failed(TransportError::Timeout)),
                };
                self.lock().insert(origin, sender.clone());
                sender
            }
        };
        // Waits for room under the server's concurrent-stream limit; fails if the connection
        // died meanwhile (nothing was sent on it).
        if let Err(e) = sender.ready().await {
            return Err(StreamEvent::Failed(TransportError::Connect(
                sfstream_driver::error_chain(&e),
            )));
        }
        sender
            .send_request(request)
            .await
            .map_err(|e| stream_failure(&e, false))
    }
}

/// `scheme://host:port` of a URI; refuses plain `http` to a host that is not loopback.
fn origin(uri: &Uri) -> Result<String, TransportError> {
    sfstream_driver::core::oauth::check_uri_scheme(uri)
        .map_err(|why| TransportError::Connect(format!("{}: {why}", redacted(uri))))?;
    let scheme = uri.scheme_str().unwrap_or("https");
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(default_port(scheme));
    Ok(format!("{scheme}://{host}:{port}"))
}

fn redacted(uri: &Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or(""),
        uri.authority().map_or("", |a| a.as_str())
    )
}

fn default_port(scheme: &str) -> u16 {
    if scheme.eq_ignore_ascii_case("http") {
        80
    } else {
        443
    }
}

/// A new HTTP/2 connection to the URI's origin (through a proxy tunnel when the rules say
/// so), its driver running as a task of its own.
async fn connect(uri: &Uri, proxies: &Proxies) -> Result<SendRequest<Body>, TransportError> {
    let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
    let host = uri.host().unwrap_or_default();
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(default_port(&scheme));
    let tcp = match proxies.proxy_for(uri)? {
        Some(proxy) => {
            tracing::debug!(?proxy, "HTTP/2 connection to {host}:{port} through a proxy");
            proxy.tunnel(host, port).await?
        }
        None => {
            let tcp = TcpStream::connect((bare_host, port))
                .await
                .map_err(|e| TransportError::Connect(format!("{host}:{port}: {e}")))?;
            let _ = tcp.set_nodelay(true);
            tcp
        }
    };
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .keep_alive_interval(PING_EVERY)
        .keep_alive_timeout(PING_TIMEOUT)
        .keep_alive_while_idle(true)
        .adaptive_window(true);
    let handshake_failed =
        |e: hyper::Error| TransportError::Connect(format!("HTTP/2 with {host}:{port}: {e}"));
    if scheme == "http" {
        let (sender, connection) = builder
            .handshake(TokioIo::new(tcp))
            .await
            .map_err(handshake_failed)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "HTTP/2 connection ended");
            }
        });
        return Ok(sender);
    }
    let name = ServerName::try_from(bare_host.to_owned())
        .map_err(|e| TransportError::Connect(format!("{host} is no valid TLS name: {e}")))?;
    let tls = TlsConnector::from(tls_config()?)
        .connect(name, tcp)
        .await
        .map_err(|e| TransportError::Connect(format!("TLS with {host}:{port}: {e}")))?;
    if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err(TransportError::Connect(format!(
            "{host}:{port} did not agree to HTTP/2 (ALPN h2) over TLS: it is no gRPC endpoint \
             (check the Pub/Sub URL, e.g. https://api.pubsub.salesforce.com:7443)"
        )));
    }
    let (sender, connection) = builder
        .handshake(TokioIo::new(tls))
        .await
        .map_err(handshake_failed)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "HTTP/2 connection ended");
        }
    });
    Ok(sender)
}

/// rustls with the ring provider, the platform's verifier (as reqwest uses for HTTP/1.1) and
/// ALPN `h2` only. Made once per process, as it reads the system's certificate store.
fn tls_config() -> Result<Arc<ClientConfig>, TransportError> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup = |e: rustls::Error| TransportError::Connect(format!("TLS setup: {e}"));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .with_platform_verifier()
        .map_err(setup)?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    // A failure is not kept: the next connection tries again.
    Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
}

/// What a failed stream reports: a reset (or `GOAWAY`) from the server with its code, else a
/// broken connection. `reading`: the response head had arrived.
fn stream_failure(e: &hyper::Error, reading: bool) -> StreamEvent {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(h2) = s.downcast_ref::<h2::Error>() {
            if let Some(reason) = h2.reason() {
                if h2.is_remote() && (h2.is_reset() || h2.is_go_away()) {
                    return StreamEvent::Reset(reason.into());
                }
            }
        }
        source = s.source();
    }
    let text = sfstream_driver::error_chain(e);
    if reading || !e.is_canceled() {
        StreamEvent::Failed(TransportError::Io(text))
    } else {
        // The request never left: the connection closed before it was sent.
        StreamEvent::Failed(TransportError::Connect(text))
    }
}
