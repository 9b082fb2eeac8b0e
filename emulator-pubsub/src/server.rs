//! The listener: gRPC (HTTP/2, plaintext h2c or TLS) and the control API (HTTP/1.1 or HTTP/2)
//! on one port, until shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::proto::pub_sub_server::PubSubServer;
use crate::service::Service;
use crate::state::Shared;

/// gRPC messages the server decodes: well above the 4 MiB publish limit, so that an oversize
/// `PublishRequest` reaches the emulator's own check and gets Salesforce's `UNAVAILABLE`.
const MAX_DECODING_BYTES: usize = 64 * 1024 * 1024;

/// Every route: the six RPCs and `/_emulator/…`.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let grpc = PubSubServer::new(Service {
        shared: Arc::clone(&shared),
    })
    .max_decoding_message_size(MAX_DECODING_BYTES)
    .max_encoding_message_size(usize::MAX);
    tonic::service::Routes::new(grpc)
        .prepare()
        .into_axum_router()
        .merge(crate::control_http::routes(shared))
}

/// Accepts connections until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, router.clone(), tls.clone(), stop.clone()));
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = crate::util::stopped(&mut shutdown) => break,
        }
    }
}

async fn connection(
    stream: TcpStream,
    router: Router,
    tls: Option<TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_io(stream, router, shutdown).await,
        Some(acceptor) => {
            // A failed handshake (a plaintext client, an untrusted certificate) just ends here.
            if let Ok(stream) = acceptor.accept(stream).await {
                serve_io(stream, router, shutdown).await;
            }
        }
    }
}

async fn serve_io<I>(io: I, router: Router, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(router));
    tokio::select! {
        _ = conn => {}
        _ = crate::util::stopped(&mut shutdown) => {}
    }
}
