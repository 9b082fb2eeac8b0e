//! What the HTTP/2 test files share: a loopback HTTP/2 server (h2's, on a tokio runtime of a
//! thread of its own; h2c, or TLS with a generated certificate and the ALPN it is given) whose
//! answer each test chooses, and helpers to open a stream and collect what comes back.
#![allow(dead_code, reason = "each test file uses a part of it")]
#![allow(unreachable_pub, reason = "a module shared by test files")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::{StreamExt as _, future::block_on, stream};
use h2::Reason;
use http::{HeaderMap, HeaderValue, Request, Response};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{RootCertStore, ServerConfig};
use sfstream_driver::pubsub::StreamEvent;
use sfstream_http_async_io::{Client, Http2Pool, Proxies};
use tokio::net::TcpListener;

/// How long a test waits for a connection to be made.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// What the server does with each request.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// 200 with an `x-path` header naming the request's path, the request body's DATA sent
    /// back as they come, then trailers `grpc-status: 0`.
    Echo,
    /// `RST_STREAM` with this code, once the request head has come.
    Reset(Reason),
}

/// A loopback HTTP/2 server.
pub struct H2Server {
    port: u16,
    tls: Option<CertificateDer<'static>>,
    accepted: Arc<AtomicUsize>,
    /// The ALPN protocol of each TLS handshake.
    alpn: Arc<Mutex<Vec<Option<Vec<u8>>>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl H2Server {
    /// h2c (prior knowledge).
    pub fn h2c(answer: Answer) -> Self {
        Self::start(answer, None)
    }

    /// TLS for `localhost` with a generated certificate, offering these ALPN protocols.
    pub fn tls(answer: Answer, alpn: &[&[u8]]) -> Self {
        Self::start(answer, Some(alpn.iter().map(|p| p.to_vec()).collect()))
    }

    fn start(answer: Answer, alpn: Option<Vec<Vec<u8>>>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let (acceptor, cert) = match alpn {
            Some(alpn) => {
                let (acceptor, cert) = tls_acceptor(alpn);
                (Some(acceptor), Some(cert))
            }
            None => (None, None),
        };
        let accepted = Arc::new(AtomicUsize::new(0));
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (accepted.clone(), handshakes.clone());
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let serving = async {
                    while let Ok((tcp, _)) = listener.accept().await {
                        count.fetch_add(1, Ordering::SeqCst);
                        let (acceptor, seen) = (acceptor.clone(), seen.clone());
                        tokio::spawn(async move {
                            match acceptor {
                                Some(acceptor) => {
                                    let Ok(tls) = acceptor.accept(tcp).await else {
                                        return;
                                    };
                                    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                                    seen.lock().expect("not poisoned").push(alpn);
                                    serve(tls, answer).await;
                                }
                                None => serve(tcp, answer).await,
                            }
                        });
                    }
                };
                tokio::select! {
                    () = serving => {}
                    _ = stop => {}
                }
            });
        });
        Self {
            port,
            tls: cert,
            accepted,
            alpn: handshakes,
            shutdown: Some(shutdown),
        }
    }

    /// The server's URL with this path: `https://localhost:PORT` over TLS, else
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self, path: &str) -> String {
        if self.tls.is_some() {
            format!("https://localhost:{}{path}", self.port)
        } else {
            format!("http://127.0.0.1:{}{path}", self.port)
        }
    }

    /// `host:port` as a `CONNECT` names it.
    pub fn authority(&self) -> String {
        if self.tls.is_some() {
            format!("localhost:{}", self.port)
        } else {
            format!("127.0.0.1:{}", self.port)
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The ALPN protocol each TLS handshake settled on.
    pub fn alpn(&self) -> Vec<Option<Vec<u8>>> {
        self.alpn.lock().expect("not poisoned").clone()
    }

    /// A pool trusting this server's certificate (if it has one), with these proxies.
    pub fn pool(&self, proxies: Proxies) -> Http2Pool {
        let mut client = Client::builder().proxies(proxies);
        if let Some(cert) = &self.tls {
            let mut roots = RootCertStore::empty();
            roots.add(cert.clone()).expect("a root");
            client = client.root_certificates(roots);
        }
        client.build().http2_pool()
    }
}

impl Drop for H2Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn tls_acceptor(alpn: Vec<Vec<u8>>) -> (tokio_rustls::TlsAcceptor, CertificateDer<'static>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let cert = certified.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], PrivateKeyDer::Pkcs8(key))
        .expect("a server configuration");
    config.alpn_protocols = alpn;
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), cert)
}

async fn serve<T>(io: T, answer: Answer)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let Ok(mut connection) = h2::server::handshake(io).await else {
        return;
    };
    while let Some(Ok((request, mut respond))) = connection.accept().await {
        match answer {
            Answer::Echo => {
                tokio::spawn(async move {
                    let path = request.uri().path().to_owned();
                    let mut body = request.into_body();
                    let response = Response::builder()
                        .header("x-path", path)
                        .body(())
                        .expect("a response");
                    let Ok(mut send) = respond.send_response(response, false) else {
                        return;
                    };
                    while let Some(Ok(data)) = body.data().await {
                        let _ = body.flow_control().release_capacity(data.len());
                        if send.send_data(data, false).is_err() {
                            return;
                        }
                    }
                    let mut trailers = HeaderMap::new();
                    trailers.insert("grpc-status", HeaderValue::from_static("0"));
                    let _ = send.send_trailers(trailers);
                });
            }
            Answer::Reset(reason) => respond.send_reset(reason),
        }
    }
}

/// A `POST` to `url`, as the driver would send a gRPC call's head.
pub fn post(url: &str) -> Request<()> {
    Request::post(url)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("a request")
}

/// The request body from these pieces.
pub fn body(pieces: &[&'static str]) -> stream::Boxed<Bytes> {
    let pieces: Vec<Bytes> = pieces
        .iter()
        .map(|p| Bytes::from_static(p.as_bytes()))
        .collect();
    Box::pin(stream::iter(pieces))
}

/// Everything a stream yields, in order, or a panic after [`CONNECT_WITHIN`] twice over.
pub fn collect(pool: &Http2Pool, head: Request<()>, pieces: &[&'static str]) -> Vec<StreamEvent> {
    let events = pool.open_stream(head, body(pieces), Instant::now() + CONNECT_WITHIN);
    block_on(futures_lite::future::or(
        events.collect::<Vec<_>>(),
        async {
            async_io::Timer::after(CONNECT_WITHIN * 2).await;
            panic!("the stream did not end");
        },
    ))
}

/// The response body's DATA of a stream's events, as text.
pub fn data_text(events: &[StreamEvent]) -> String {
    let mut text = Vec::new();
    for event in events {
        if let StreamEvent::Data(data) = event {
            text.extend_from_slice(data);
        }
    }
    String::from_utf8(text).expect("UTF-8")
}

/// The proxy settings that these variables give.
pub fn env(vars: &[(&str, &str)]) -> Proxies {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Proxies::from_vars(|name| vars.get(name).cloned())
}
