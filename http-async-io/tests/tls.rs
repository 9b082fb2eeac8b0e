//! TLS: a loopback rustls server with a certificate of its own, trusted by the client through a
//! root store in place of the platform's (same provider, same ALPN), direct and through a
//! `CONNECT` tunnel; and the platform verifier refusing that certificate.

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

mod common;

use common::{MAX, body, direct, env};
use futures_lite::future::block_on;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};
use sfstream_driver::TransportError;
use sfstream_http_async_io::{Client, Proxies};
use sfstream_tests::loopback::{TestProxy, get, ok, read_head};

/// What a handshake settled: the server name the client sent, and the ALPN protocol.
type Handshake = (Option<String>, Option<Vec<u8>>);

/// A TLS server for `localhost` that answers every request with "over TLS".
struct TlsServer {
    port: u16,
    cert: CertificateDer<'static>,
    accepted: Arc<AtomicUsize>,
    handshakes: Arc<Mutex<Vec<Handshake>>>,
}

impl TlsServer {
    fn start() -> Self {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a cert");
        let cert = certified.cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], PrivateKeyDer::Pkcs8(key))
            .expect("a server configuration");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (accepted.clone(), handshakes.clone());
        thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let (config, seen) = (config.clone(), seen.clone());
                thread::spawn(move || {
                    let conn = ServerConnection::new(config).expect("a server connection");
                    let mut tls = StreamOwned::new(conn, tcp);
                    while tls.conn.is_handshaking() {
                        if tls.conn.complete_io(&mut tls.sock).is_err() {
                            return;
                        }
                    }
                    let name = tls.conn.server_name().map(str::to_owned);
                    let alpn = tls.conn.alpn_protocol().map(<[u8]>::to_vec);
                    seen.lock().expect("not poisoned").push((name, alpn));
                    let mut reader = BufReader::new(tls);
                    while read_head(&mut reader).is_some() {
                        if reader.get_mut().write_all(&ok("over TLS")).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            port,
            cert,
            accepted,
            handshakes,
        }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/", self.port)
    }

    /// A client that trusts this server's certificate.
    fn client(&self, proxies: Proxies) -> Client {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).expect("a root");
        Client::builder()
            .proxies(proxies)
            .root_certificates(roots)
            .build()
    }
}

#[test]
fn https_sends_the_host_name_and_asks_for_http_1_1() {
    let server = TlsServer::start();
    let client = server.client(Proxies::none());
    block_on(async {
        assert_eq!(body(client.send(get(&server.url()), MAX).await), "over TLS");
        assert_eq!(body(client.send(get(&server.url()), MAX).await), "over TLS");
    });
    assert_eq!(
        server.accepted.load(Ordering::SeqCst),
        1,
        "one TLS connection, reused"
    );
    let handshakes = server.handshakes.lock().expect("not poisoned").clone();
    assert_eq!(
        handshakes,
        [(Some("localhost".into()), Some(b"http/1.1".to_vec()))]
    );
}

#[test]
fn https_through_a_connect_tunnel() {
    let server = TlsServer::start();
    let proxy = TestProxy::start(false);
    let client = server.client(env(&[("https_proxy", &proxy.url())]));
    let response = block_on(client.send(get(&server.url()), MAX));
    assert_eq!(body(response), "over TLS");
    let heads = proxy.heads();
    let connect = format!("CONNECT localhost:{} HTTP/1.1\r\n", server.port);
    assert!(
        heads.len() == 1 && heads[0].starts_with(&connect),
        "{heads:?}"
    );
    assert_eq!(server.handshakes.lock().expect("not poisoned").len(), 1);
}

#[test]
fn the_platform_verifier_refuses_a_certificate_it_does_not_trust() {
    let server = TlsServer::start();
    let refused = block_on(direct().send(get(&server.url()), MAX));
    let Err(TransportError::Connect(text)) = refused else {
        panic!("{refused:?}");
    };
    assert!(text.contains("certificate"), "{text}");
}
