//! HTTP/2 streams for the Pub/Sub API (gRPC): hyper's HTTP/2 client on async-io sockets, TLS by
//! rustls (ring) offering ALPN `h2` only, or h2c (prior knowledge) to a loopback host, through
//! the client's proxies. One connection per origin carries every call; PINGs check it while it
//! lives. Tasks run on async-global-executor, timers are async-io's: no executor of the
//! application's is needed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_io::Timer;
use bytes::Bytes;
use futures_lite::{StreamExt as _, future, stream};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http2::{Builder, SendRequest};
use sfstream_driver::pubsub::StreamEvent;
use sfstream_driver::{TransportError, error_chain};
use smol_hyper::rt::FuturesIo;

use crate::client::{Client, Shared};
use crate::connect::{self, Alpn, Stream};
use crate::origin::Origin;
use crate::proxy::Route;
use crate::rt::{AsyncIoTimer, GlobalExecutor};

/// A stream of items, boxed: the driver's `BoxStream`.
type BoxStream<T> = stream::Boxed<T>;

/// A request body: the frames the driver hands over.
type Body = StreamBody<BoxStream<Result<Frame<Bytes>, Infallible>>>;

/// How often an HTTP/2 connection is PINGed, and how long an answer may take before the
/// connection is taken for dead (and every stream on it fails, to be opened again).
const PING_EVERY: Duration = Duration::from_secs(20);
const PING_TIMEOUT: Duration = Duration::from_secs(15);

/// HTTP/2 connections, one per origin (scheme, host, port), with the proxies and trusted roots
/// of the [`Client`] it was made from ([`Client::http2_pool`]); the default has the
/// environment's proxies and the platform's verifier. Cheap to clone; clones share the
/// connections.
///
/// `https` origins are reached over TLS offering ALPN `h2` only (a server that does not agree
/// is refused, naming the mistake), through a `CONNECT` tunnel when a proxy applies; `http`
/// origins (loopback hosts only) by HTTP/2 prior knowledge (h2c), through a `CONNECT` tunnel
/// too when a proxy applies, as HTTP/2 cannot be forwarded in absolute form.
#[derive(Clone)]
pub struct Http2Pool {
    settings: Arc<Shared>,
    /// Never locked across an await: two first streams may both connect, and the later
    /// connection stays (the other ends with its streams).
    connections: Arc<Mutex<HashMap<Origin, SendRequest<Body>>>>,
}

impl Default for Http2Pool {
    /// The environment's proxies (read here, once) and the platform's verifier.
    fn default() -> Self {
        Client::new().http2_pool()
    }
}

impl std::fmt::Debug for Http2Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http2Pool")
            .field("proxies", &self.settings.proxies)
            .finish_non_exhaustive()
    }
}

impl Http2Pool {
    pub(crate) fn with_settings(settings: Arc<Shared>) -> Self {
        Self {
            settings,
            connections: Arc::default(),
        }
    }

    /// Opens a stream: sends `head` (its headers as they are; none is logged), then each item
    /// of `body` as request DATA, in order; the end of `body` half-closes the request. The
    /// returned stream yields the response head, its DATA and its trailers, or how it failed:
    /// [`StreamEvent::Reset`] with the code of the server's `RST_STREAM` or `GOAWAY`,
    /// [`StreamEvent::Failed`] when the connection could not be made (`Connect`, `NotTls`,
    /// `Timeout` past `connect_deadline`) or broke (`Io`). Dropping it cancels the stream.
    pub fn open_stream(
        &self,
        head: Request<()>,
        body: BoxStream<Bytes>,
        connect_deadline: Instant,
    ) -> BoxStream<StreamEvent> {
        enum Step {
            Start(Box<(Http2Pool, Request<()>, BoxStream<Bytes>, Instant)>),
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

    /// Drops the pooled connection to `origin`'s origin (scheme, host, port): the next stream
    /// makes a new one. Streams open on the old connection carry on until they end.
    pub fn forget_connection(&self, origin: &Uri) {
        if let Ok(key) = Origin::of(origin) {
            if self.lock().remove(&key).is_some() {
                tracing::debug!(host = %key.host, port = key.port, "HTTP/2 connection set aside");
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Origin, SendRequest<Body>>> {
        // The map stays consistent whatever panicked while holding it.
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the request on the origin's connection (made if there is none, or if it died).
    async fn send(
        &self,
        head: Request<()>,
        body: BoxStream<Bytes>,
        deadline: Instant,
    ) -> Result<Response<Incoming>, StreamEvent> {
        let uri = head.uri().clone();
        sfstream_driver::core::oauth::check_uri_scheme(&uri).map_err(|why| {
            StreamEvent::Failed(TransportError::Connect(format!(
                "{}: {why}",
                redacted(&uri)
            )))
        })?;
        let origin = Origin::of(&uri).map_err(StreamEvent::Failed)?;
        let frames: BoxStream<Result<Frame<Bytes>, Infallible>> =
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
                let made = future::or(self.connect(&uri, &origin), async {
                    Timer::at(deadline).await;
                    Err(TransportError::Timeout)
                })
                .await;
                let sender = made.map_err(StreamEvent::Failed)?;
                self.lock().insert(origin, sender.clone());
                sender
            }
        };
        // Waits for room under the server's concurrent-stream limit; fails if the connection
        // died meanwhile (nothing was sent on it).
        if let Err(e) = sender.ready().await {
            return Err(StreamEvent::Failed(TransportError::Connect(error_chain(
                &e,
            ))));
        }
        sender
            .send_request(request)
            .await
            .map_err(|e| stream_failure(&e, false))
    }

    /// A new HTTP/2 connection to `origin`, its driver a task of its own that ends once the
    /// pool and every stream have let go of it.
    async fn connect(
        &self,
        uri: &Uri,
        origin: &Origin,
    ) -> Result<SendRequest<Body>, TransportError> {
        let route = match self.settings.proxies.route(uri)? {
            // HTTP/2 has no absolute form for a forwarding proxy: h2c goes through a tunnel.
            Route::Forward(proxy) => Route::Tunnel(proxy),
            route => route,
        };
        let stream = connect::dial(origin, &route, &self.settings.trust, Alpn::H2).await?;
        if let Stream::Tls(tls) = &stream {
            // A server that ignores ALPN (rustls's servers refuse with an alert instead).
            if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                return Err(TransportError::Connect(Alpn::H2.refused(origin)));
            }
        }
        let place = format!("{}:{}", origin.bracketed_host(), origin.port);
        let (sender, connection) = Builder::new(GlobalExecutor)
            .timer(AsyncIoTimer)
            .keep_alive_interval(PING_EVERY)
            .keep_alive_timeout(PING_TIMEOUT)
            .keep_alive_while_idle(true)
            .adaptive_window(true)
            .handshake(FuturesIo::new(stream))
            .await
            .map_err(|e| {
                TransportError::Connect(format!("HTTP/2 with {place}: {}", error_chain(&e)))
            })?;
        async_global_executor::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %error_chain(&e), "HTTP/2 connection ended");
            }
        })
        .detach();
        Ok(sender)
    }
}

/// Scheme and authority of a URI, for an error: the path or query could hold a secret.
fn redacted(uri: &Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or(""),
        uri.authority().map_or("", |a| a.as_str())
    )
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
    let text = error_chain(e);
    if reading || !e.is_canceled() {
        StreamEvent::Failed(TransportError::Io(text))
    } else {
        // The request never left: the connection closed before it was sent.
        StreamEvent::Failed(TransportError::Connect(text))
    }
}
