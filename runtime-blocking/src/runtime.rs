//! Threads instead of an async runtime: the driver's tasks on a small `futures` thread pool,
//! timers from `futures-timer`'s timer thread, and blocking work — every HTTP exchange (ureq),
//! store calls, half of a large response's decoding — on a pool of reusable threads that grows
//! when all are busy, so a held long poll never delays anything else.

use std::io::Read as _;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use futures_channel::oneshot;
use futures_executor::ThreadPool;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use sfstream_driver::{Runtime, TransportError, WireLogFilter, error_chain};
use tracing::dispatcher;

/// What ureq logs of the raw exchange: ureq-proto's hex dumps of every byte at TRACE.
static WIRE_LOGS: WireLogFilter = WireLogFilter::new(&["ureq_proto"]);

/// Threads and ureq, as the client needs them. Cheap to clone; clones share one connection pool.
/// With the `pubsub` feature, also HTTP/2 streams for the Pub/Sub API (see
/// [`pubsub`](crate::pubsub)), on a pool of HTTP/2 connections that clones share too.
#[derive(Clone)]
pub struct Blocking {
    agent: ureq::Agent,
    #[cfg(feature = "pubsub")]
    pub(crate) h2: sfstream_http_async_io::http2::Http2Pool,
}

impl std::fmt::Debug for Blocking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The agent's configuration (proxies and the like) stays out of logs.
        f.debug_struct("Blocking").finish_non_exhaustive()
    }
}

impl Default for Blocking {
    fn default() -> Self {
        Self::new()
    }
}

impl Blocking {
    /// A runtime handle with a fresh HTTP connection pool: 15 s connect timeout, HTTP error
    /// statuses returned as responses (the session classifies them), no redirect followed (the
    /// session refuses one with an error naming its host), proxies from the environment, rustls
    /// with the platform's certificate verifier (the operating system's trust store, so a
    /// corporate CA installed there is trusted, as in the other runtimes).
    #[must_use]
    pub fn new() -> Self {
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(15)))
            .max_idle_connections_per_host(4)
            .build();
        Self::with_agent(ureq::Agent::new_with_config(config))
    }

    /// A runtime handle over a ureq agent of your own (proxies, certificates). Configure it
    /// with `http_status_as_error(false)`: the session needs to see 401, 403 and 5xx answers.
    /// Redirects are never followed, whatever the agent's setting: each request says so.
    /// ureq's own default trusts its bundled webpki roots; `TlsConfig` with
    /// `RootCerts::PlatformVerifier` keeps the platform's verifier, as [`Blocking::new`] does.
    #[must_use]
    pub fn with_agent(agent: ureq::Agent) -> Self {
        Self {
            agent,
            #[cfg(feature = "pubsub")]
            h2: sfstream_http_async_io::http2::Http2Pool::default(),
        }
    }
}

/// The pool that polls the driver's tasks. They never block (HTTP and store calls run on
/// threads of their own), so two threads serve every client of the process.
fn pool() -> Option<&'static ThreadPool> {
    static POOL: OnceLock<Option<ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        ThreadPool::builder()
            .pool_size(2)
            .name_prefix("sfstream-task-")
            .create()
            .map_err(|e| tracing::error!(error = %e, "no task pool; each task gets a thread"))
            .ok()
    })
    .as_ref()
}

/// Runs `work` on a new thread; the receiver gets its result (or is cancelled if no thread
/// could be started, or the work panicked).
fn on_thread<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<oneshot::Receiver<T>, std::io::Error> {
    let (tx, rx) = oneshot::channel();
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(work());
        })?;
    Ok(rx)
}

impl Runtime for Blocking {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(futures_timer::Delay::new(
            deadline.saturating_duration_since(Instant::now()),
        ))
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        match pool() {
            Some(pool) => pool.spawn_ok(task),
            None => {
                if let Err(e) = on_thread("sfstream-task", move || {
                    futures_executor::block_on(task);
                }) {
                    tracing::error!(error = %e, "could not start a task thread");
                }
            }
        }
    }

    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send + 'static>) -> BoxFuture<'static, ()> {
        let (done_tx, done) = oneshot::channel();
        let job = Box::new(move || {
            work();
            let _ = done_tx.send(());
        });
        match crate::pool::run(job) {
            Ok(()) => Box::pin(async move {
                let _ = done.await;
            }),
            Err(e) => {
                tracing::error!(error = %e, "could not start a thread for blocking work");
                Box::pin(std::future::ready(()))
            }
        }
    }

    fn send(
        &self,
        request: Request<Vec<u8>>,
        deadline: Instant,
        max_body: usize,
    ) -> BoxFuture<'static, Result<Response<Vec<u8>>, TransportError>> {
        let agent = self.agent.clone();
        let (tx, outcome) = oneshot::channel();
        // On a pool thread: one that is busy (a held long poll) never delays another exchange,
        // as the pool starts a thread when none is free.
        let started = crate::pool::run(Box::new(move || {
            // ureq-proto logs every byte sent and received at TRACE, credentials included.
            let outcome = dispatcher::with_default(&WIRE_LOGS.dispatch(), || {
                exchange(&agent, request, deadline, max_body)
            });
            let _ = tx.send(outcome);
        }));
        Box::pin(async move {
            match started {
                // Dropping this future (the session cancelled the request) leaves the thread to
                // finish its exchange by the deadline; its outcome goes nowhere.
                Ok(()) => outcome.await.unwrap_or_else(|_| {
                    Err(TransportError::Other(
                        "the HTTP thread ended without an answer".into(),
                    ))
                }),
                Err(e) => Err(TransportError::Other(format!(
                    "could not start an HTTP thread: {e}"
                ))),
            }
        })
    }
}

/// One blocking exchange, bounded by the deadline (connect, send, wait, read) and `max_body`.
fn exchange(
    agent: &ureq::Agent,
    request: Request<Vec<u8>>,
    deadline: Instant,
    max_body: usize,
) -> Result<Response<Vec<u8>>, TransportError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(TransportError::Timeout);
    }
    let request = agent
        .configure_request(request)
        .timeout_global(Some(left))
        // Not even with an agent of the user's: a followed redirect would take the credentials
        // the request carries to wherever it points.
        .max_redirects(0)
        .build();
    let (parts, body) = agent.run(request).map_err(map_error)?.into_parts();
    // Sized from Content-Length (never past the bound), so a large response is not copied
    // through a series of doubling buffers.
    let capacity = body
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .map_or(0, |n| n.min(max_body));
    let mut buffer = Vec::with_capacity(capacity);
    body.into_with_config()
        .limit(u64::try_from(max_body).unwrap_or(u64::MAX))
        .reader()
        .read_to_end(&mut buffer)
        .map_err(|e| match ureq::Error::from(e) {
            ureq::Error::BodyExceedsLimit(_) => TransportError::BodyTooLarge { limit: max_body },
            other => map_error(other),
        })?;
    let body = buffer;
    Ok(Response::from_parts(parts, body))
}

/// ureq's errors name hosts and URLs, never headers or bodies: no token reaches the text.
/// `Connect` only for failures of the connect step (DNS, refused, TLS handshake, proxy): no
/// byte of the request was written. Anything else may have reached the server.
fn map_error(e: ureq::Error) -> TransportError {
    use std::io::ErrorKind;
    let text = error_chain(&e);
    // A plain-HTTP answer to the TLS handshake: the URL's scheme or port is wrong.
    // ureq's `Io` does not list the I/O error as its source: look inside it.
    let tls_error = match &e {
        ureq::Error::Io(io) => sfstream_driver::find_cause::<rustls::Error>(io),
        ureq::Error::Rustls(tls) => Some(tls),
        other => sfstream_driver::find_cause::<rustls::Error>(other),
    };
    let not_tls = tls_error.is_some_and(|e| {
        matches!(
            e,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
        )
    });
    if not_tls {
        return TransportError::NotTls(text);
    }
    match e {
        ureq::Error::Timeout(_) => TransportError::Timeout,
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => TransportError::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable
            ) =>
        {
            TransportError::Connect(text)
        }
        // The TLS handshake runs on the first write, so ureq reports a refused certificate as
        // I/O; no byte of the request was sent.
        ureq::Error::Io(io)
            if io
                .get_ref()
                .and_then(|e| e.downcast_ref())
                .is_some_and(|e| {
                    matches!(
                        e,
                        rustls::Error::InvalidCertificate(_)
                            | rustls::Error::NoCertificatesPresented
                    )
                }) =>
        {
            TransportError::Connect(text)
        }
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::TlsRequired => TransportError::Connect(text),
        ureq::Error::Io(_) | ureq::Error::Protocol(_) | ureq::Error::BodyStalled => {
            TransportError::Io(text)
        }
        _ => TransportError::Other(text),
    }
}
