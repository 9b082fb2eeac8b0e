//! The HTTP server: routes, a connection loop that can reset connections on demand, and the
//! background sweep of expired sessions and events.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::Service;

use crate::respond::ConnectionKiller;
use crate::state::Shared;
use crate::{cometd, control_http, oauth};

/// All routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/services/oauth2/token", post(oauth::token))
        .route("/cometd", post(cometd::endpoint))
        .route("/cometd/", post(cometd::endpoint))
        .route("/cometd/{version}", post(cometd::endpoint))
        .route("/cometd/{version}/", post(cometd::endpoint))
        .route("/cometd/{version}/{*rest}", post(cometd::endpoint))
        .merge(control_http::routes())
        .with_state(shared)
}

/// Accepts connections until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
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

/// Serves one connection. A request handler may ask for the connection to be reset (the
/// `Reset` fault): the connection is then dropped with `SO_LINGER` 0, so the peer sees a TCP
/// reset and no response.
async fn connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    // Nagle's algorithm would delay small replies that follow a large write.
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let killer = ConnectionKiller(Arc::clone(&kill));
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
        let stream = conn.into_parts().io.into_inner();
        let _ = stream.set_zero_linger();
        drop(stream);
    }
}

/// Every `period`, drops expired sessions and events, until `shutdown` turns true.
pub(crate) async fn sweep(
    shared: Arc<Shared>,
    period: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => shared.lock().sweep(&shared.settings, Instant::now()),
            _ = shutdown.changed() => break,
        }
    }
}
