//! Opening a connection: the name resolved on the blocking pool, TCP by async-io, a `CONNECT`
//! tunnel when a proxy applies, TLS by rustls, then hyper's HTTP/1.1 handshake with the
//! connection's task on async-global-executor. HTTP/2 connections (`http2.rs`) share all but
//! the handshake.

use std::io;
use std::net::TcpStream;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::{Async, Timer};
use futures_lite::{AsyncRead, AsyncWrite, future};
use futures_rustls::client::TlsStream;
use rustls::AlertDescription;
use rustls::client::WantsClientCert;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ConfigBuilder, RootCertStore, WantsVerifier};
use rustls_platform_verifier::BuilderVerifierExt;
use sfstream_driver::{TransportError, error_chain};
use smol_hyper::rt::FuturesIo;

use crate::origin::Origin;
use crate::pool::Conn;
use crate::proxy::{self, Route};

/// How long resolving, connecting, tunnelling and the TLS handshake may take together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How much hyper reads at a time. `FuturesIo` zeroes the whole free part of hyper's buffer
/// before each read; with hyper's adaptive strategy that buffer grows to 400 KB, and zeroing it
/// for every read of a large response cost more than the read itself.
const READ_SIZE: usize = 64 * 1024;

/// Which certificates a client trusts.
pub(crate) enum Trust {
    /// The platform's verifier; its configuration is made once per process.
    Platform,
    /// These roots only, in a configuration made for this client.
    Roots(Result<Arc<ClientConfig>, String>),
}

impl Trust {
    pub(crate) fn roots(roots: RootCertStore) -> Self {
        let config = tls_config(|b| Ok(b.with_root_certificates(roots)));
        Self::Roots(config.map(Arc::new).map_err(|e| e.to_string()))
    }

    /// The configuration for connections offering `alpn`.
    fn config(&self, alpn: Alpn) -> Result<Arc<ClientConfig>, TransportError> {
        let config = match self {
            Self::Platform => platform_tls()?,
            Self::Roots(config) => config
                .clone()
                .map_err(|e| TransportError::Connect(format!("TLS setup: {e}")))?,
        };
        if config.alpn_protocols == alpn.protocols() {
            return Ok(config);
        }
        // Another protocol (HTTP/2, once per new connection): the same trust, its own ALPN.
        let mut config = ClientConfig::clone(&config);
        config.alpn_protocols = alpn.protocols();
        Ok(Arc::new(config))
    }
}

/// The protocol a TLS connection offers by ALPN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alpn {
    /// `http/1.1`.
    Http1,
    /// `h2` only: a server that does not agree is no gRPC endpoint.
    #[cfg(feature = "http2")]
    H2,
}

impl Alpn {
    fn protocols(self) -> Vec<Vec<u8>> {
        match self {
            Self::Http1 => vec![b"http/1.1".to_vec()],
            #[cfg(feature = "http2")]
            Self::H2 => vec![b"h2".to_vec()],
        }
    }

    /// Why a server that does not agree to the protocol cannot be used.
    pub(crate) fn refused(self, origin: &Origin) -> String {
        let place = format!("{}:{}", origin.bracketed_host(), origin.port);
        match self {
            Self::Http1 => format!("{place} did not agree to HTTP/1.1 (ALPN http/1.1) over TLS"),
            #[cfg(feature = "http2")]
            Self::H2 => format!(
                "{place} did not agree to HTTP/2 (ALPN h2) over TLS: it is no gRPC endpoint \
                 (check the Pub/Sub URL, e.g. https://api.pubsub.salesforce.com:7443)"
            ),
        }
    }
}

/// A connection's byte stream, plain or TLS.
pub(crate) enum Stream {
    Plain(Async<TcpStream>),
    Tls(Box<TlsStream<Async<TcpStream>>>),
}

/// A new connection to `origin` by `route`, ready for a request.
pub(crate) async fn open(
    origin: &Origin,
    route: &Route,
    trust: &Trust,
) -> Result<Conn, TransportError> {
    let stream = future::or(dial(origin, route, trust, Alpn::Http1), async {
        Timer::after(CONNECT_TIMEOUT).await;
        tracing::debug!(host = %origin.host, "no connection within the connect timeout");
        Err(TransportError::Timeout)
    })
    .await?;
    let (sender, connection) = hyper::client::conn::http1::Builder::new()
        .read_buf_exact_size(Some(READ_SIZE))
        .handshake(FuturesIo::new(stream))
        .await
        .map_err(|e| TransportError::Connect(error_chain(&e)))?;
    // Not detached: dropping the `Conn` cancels the task, which closes the socket at once.
    let task = async_global_executor::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %error_chain(&e), "HTTP connection ended");
        }
    });
    Ok(Conn {
        sender,
        _task: task,
    })
}

/// The byte stream to `origin` by `route`: TCP, a `CONNECT` tunnel when the route says so,
/// then TLS offering `alpn` for an `https` origin. No time bound of its own.
pub(crate) async fn dial(
    origin: &Origin,
    route: &Route,
    trust: &Trust,
    alpn: Alpn,
) -> Result<Stream, TransportError> {
    let (host, port) = match route {
        Route::Direct => (origin.host.as_str(), origin.port),
        Route::Forward(proxy) | Route::Tunnel(proxy) => (proxy.host(), proxy.port()),
    };
    let mut tcp = tcp(host, port).await?;
    if let Route::Tunnel(proxy) = route {
        proxy::tunnel(&mut tcp, proxy, origin).await?;
    }
    if !origin.https {
        return Ok(Stream::Plain(tcp));
    }
    let config = trust.config(alpn)?;
    let name = ServerName::try_from(origin.host.clone())
        .map_err(|e| TransportError::Connect(format!("{}: {e}", origin.host)))?;
    let tls = futures_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| {
            let text = format!("TLS with {}: {}", origin.host, error_chain(&e));
            match e.get_ref().and_then(|e| e.downcast_ref()) {
                // A plain-HTTP answer to the TLS handshake: the URL's scheme or port is wrong.
                Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) => {
                    TransportError::NotTls(text)
                }
                // The server speaks none of the protocols offered (HTTP/2 to a web server).
                Some(rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol)) => {
                    TransportError::Connect(format!("{}: {text}", alpn.refused(origin)))
                }
                _ => TransportError::Connect(text),
            }
        })?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// A TCP connection to the first address of `host` that accepts one.
async fn tcp(host: &str, port: u16) -> Result<Async<TcpStream>, TransportError> {
    // async-net resolves on the blocking pool (IP literals without it).
    let addresses = async_net::resolve((host, port))
        .await
        .map_err(|e| TransportError::Connect(format!("could not resolve {host}: {e}")))?;
    let mut last = None;
    for address in addresses {
        match Async::<TcpStream>::connect(address).await {
            Ok(tcp) => {
                // Requests go out in one write; waiting for an ACK would only delay them.
                let _ = tcp.get_ref().set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(format!("{address}: {e}")),
        }
    }
    Err(TransportError::Connect(
        last.unwrap_or_else(|| format!("{host} has no address")),
    ))
}

/// rustls with the ring provider and the platform's verifier (as reqwest uses for the tokio
/// runtime). Made once per process, on first use, as it reads the system's certificate store.
fn platform_tls() -> Result<Arc<ClientConfig>, TransportError> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let config = tls_config(BuilderVerifierExt::with_platform_verifier)
        .map_err(|e| TransportError::Connect(format!("TLS setup: {e}")))?;
    // A failure is not kept: the next connection tries again.
    Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
}

/// rustls with the ring provider (no aws-lc) and HTTP/1.1 by ALPN (HTTP/2 connections set
/// their own); `trust` sets the
/// certificate verifier.
fn tls_config(
    trust: impl FnOnce(
        ConfigBuilder<ClientConfig, WantsVerifier>,
    ) -> Result<ConfigBuilder<ClientConfig, WantsClientCert>, rustls::Error>,
) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()?;
    let mut config = trust(builder)?.with_no_client_auth();
    config.alpn_protocols = Alpn::Http1.protocols();
    Ok(config)
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_close(cx),
            Self::Tls(s) => Pin::new(s).poll_close(cx),
        }
    }
}
