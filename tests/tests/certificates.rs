//! Server certificates: every runtime checks them with the platform's verifier (rustls with
//! ring, the operating system's trust store). A certificate from an unknown issuer is refused
//! with an error that says so, and a CA installed in the trust store — here named by
//! `SSL_CERT_FILE`, which the verifier reads on Linux — is trusted by all three runtimes alike.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use http::{Request, Response};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use sfstream_core::TransportError;
use sfstream_driver::Runtime;
use support::Exec;

const BODY: &str = "over TLS";

/// A TLS server for `localhost` on a loopback port that answers every request with [`BODY`].
fn serve(chain: Vec<CertificateDer<'static>>, key: PrivatePkcs8KeyDer<'static>) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(key))
        .expect("a server configuration");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let conn = ServerConnection::new(config).expect("a server connection");
                let mut reader = BufReader::new(StreamOwned::new(conn, tcp));
                loop {
                    // A request head, then the answer; a refused handshake ends here.
                    let mut line = String::new();
                    while line != "\r\n" {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                    }
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{BODY}",
                        BODY.len()
                    );
                    if reader.get_mut().write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("https://localhost:{port}/")
}

/// What one runtime's GET came to.
type Outcome = (&'static str, Result<Response<Vec<u8>>, TransportError>);

/// One GET of `url` through each runtime's HTTP client as its `new()` sets it up.
fn get_with_every_runtime(url: &str) -> Vec<Outcome> {
    let get = || Request::get(url).body(Vec::new()).expect("a request");
    let deadline = || Instant::now() + Duration::from_secs(10);
    let tokio = Exec::tokio();
    let tokio_result = tokio.block_on(async {
        sfstream_tokio::Tokio::new()
            .send(get(), deadline(), 1 << 16)
            .await
    });
    let plain = Exec::Plain;
    let blocking =
        plain.block_on(sfstream_blocking::Blocking::new().send(get(), deadline(), 1 << 16));
    let async_std =
        plain.block_on(sfstream_async_std::AsyncStd::new().send(get(), deadline(), 1 << 16));
    vec![
        ("tokio", tokio_result),
        ("blocking", blocking),
        ("async-std", async_std),
    ]
}

#[test]
fn every_runtime_refuses_a_certificate_from_an_unknown_issuer() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let url = serve(
        vec![certified.cert.der().clone()],
        PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()),
    );
    for (runtime, result) in get_with_every_runtime(&url) {
        let Err(TransportError::Connect(text)) = result else {
            panic!("[{runtime}] {result:?}");
        };
        assert!(
            text.contains("certificate") && text.contains("UnknownIssuer"),
            "[{runtime}] {text}"
        );
    }
}

/// The environment variable that gives [`system_store_child`] the server's URL.
#[cfg(target_os = "linux")]
const URL_VAR: &str = "SFSTREAM_TEST_SYSTEM_CA_URL";

#[cfg(target_os = "linux")]
#[test]
fn every_runtime_trusts_a_ca_of_the_system_store() {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };

    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "sfstream test corporate CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca.self_signed(&ca_key).expect("a CA certificate");
    let server_key = KeyPair::generate().expect("a server key");
    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).expect("parameters");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = server
        .signed_by(&server_key, &ca, &ca_key)
        .expect("a server certificate");
    let url = serve(
        vec![server.der().clone()],
        PrivatePkcs8KeyDer::from(server_key.serialize_der()),
    );

    let ca_file = std::env::temp_dir().join(format!("sfstream-test-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, pem_certificate(ca.der())).expect("the CA file");
    // The trust store is read once per process: the check runs in a child with the CA file as
    // its whole system store, and no proxy.
    let output = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "system_store_child",
            "--ignored",
            "--test-threads=1",
        ])
        .env("SSL_CERT_FILE", &ca_file)
        .env(URL_VAR, &url)
        .env_remove("SSL_CERT_DIR")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .expect("the child test runs");
    let _ = std::fs::remove_file(&ca_file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("test system_store_child ... ok"),
        "{stdout}\n{stderr}"
    );
}

/// A certificate as PEM, the form the system store holds.
#[cfg(target_os = "linux")]
fn pem_certificate(der: &[u8]) -> String {
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = "-----BEGIN CERTIFICATE-----\n".to_owned();
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem + "-----END CERTIFICATE-----\n"
}

/// The child half of [`every_runtime_trusts_a_ca_of_the_system_store`], which runs it with
/// `SSL_CERT_FILE` set.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by every_runtime_trusts_a_ca_of_the_system_store, with SSL_CERT_FILE set"]
fn system_store_child() {
    let url = std::env::var(URL_VAR).expect("run by every_runtime_trusts_a_ca_of_the_system_store");
    for (runtime, result) in get_with_every_runtime(&url) {
        let response = result.unwrap_or_else(|e| panic!("[{runtime}] {e:?}"));
        assert_eq!(response.status(), 200, "[{runtime}]");
        assert_eq!(response.body(), BODY.as_bytes(), "[{runtime}]");
    }
}
