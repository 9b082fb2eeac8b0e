//! The HTTP server: routes, a connection loop that can reset connections on demand, and the
//! background sweep of expired sessions and events.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::Service;

use crate::orgs::Orgs;
use crate::respond::ConnectionKiller;
use crate::{cometd, control_http, oauth};

/// All routes.
pub(crate) fn router(orgs: Arc<Orgs>) -> Router {
    Router::new()
        .route("/services/oauth2/token", post(oauth::token))
        .route("/cometd", post(cometd::endpoint))
        .route("/cometd/", post(cometd::endpoint))
        .route("/cometd/{version}", post(cometd::endpoint))
        .route("/cometd/{version}/", post(cometd::endpoint))
        .route("/cometd/{version}/{*rest}", post(cometd::endpoint))
        .merge(control_http::routes())
        .with_state(orgs)
}

/// Accepts connections on every listener until `shutdown` turns true.
pub(crate) async fn serve(
    listeners: Vec<TcpListener>,
    router: Router,
    shutdown: watch::Receiver<bool>,
) {
    let loops: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::spawn(accept(l, router.clone(), shutdown.clone())))
        .collect();
    for l in loops {
        let _ = l.await;
    }
}

/// Accepts connections on one listener until `shutdown` turns true.
async fn accept(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, router.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// How long a cut response's bytes may travel before the connection is reset.
const CUT_GRACE: Duration = Duration::from_millis(100);

/// The connection's socket, watched so that a reset asked for "after the flush" happens once
/// everything the server wrote so far is on the wire: hyper flushes the socket only after it
/// has written all it buffered.
struct Watched {
    stream: TcpStream,
    after_flush: Arc<AtomicBool>,
    kill: Arc<Notify>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let flushed = Pin::new(&mut self.stream).poll_flush(cx);
        if flushed.is_ready() && self.after_flush.load(Ordering::SeqCst) {
            self.kill.notify_one();
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves one connection. A request handler may ask for the connection to be reset (the
/// `Reset` fault and the broken responses): the connection is then dropped with `SO_LINGER` 0,
/// so the peer sees a TCP reset and nothing more.
async fn connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    // Nagle's algorithm would delay small replies that follow a large write.
    let _ = stream.set_nodelay(true);
    let killer = ConnectionKiller::default();
    let kill = Arc::clone(&killer.kill);
    let after_flush = Arc::clone(&killer.after_flush);
    let stream = Watched {
        stream,
        after_flush: Arc::clone(&killer.after_flush),
        kill: Arc::clone(&killer.kill),
    };
    let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(killer.clone());
        let mut router = router.clone();
        async move {
            Ok::<_, Infallible>(
                router
                    .call(req.map(Body::new))
                    .await
                    .unwrap_or_else(|e| match e {}),
            )
        }
    });
    let mut conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    let reset = tokio::select! {
        _ = &mut conn => false,
        () = kill.notified() => true,
        _ = shutdown.changed() => false,
    };
    if reset {
        if after_flush.load(Ordering::SeqCst) {
            // The cut body is in the kernel's send buffer, not necessarily on the peer's side
            // yet: a reset now would discard what is still queued. Give the peer a moment to
            // take it (loopback moves megabytes in that time) before the reset.
            tokio::time::sleep(CUT_GRACE).await;
        }
        let stream = conn.into_parts().io.into_inner().stream;
        let _ = stream.set_zero_linger();
        drop(stream);
    }
}

/// Every `period`, drops expired sessions and events, until `shutdown` turns true.
pub(crate) async fn sweep(orgs: Arc<Orgs>, period: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for shared in orgs.all() {
                    shared.lock().sweep(&shared.settings, Instant::now());
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}
