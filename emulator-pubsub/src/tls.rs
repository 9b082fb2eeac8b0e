//! Optional TLS: a self-signed certificate for `localhost` and `127.0.0.1`, generated at start and
//! written as PEM to a file, so that clients which insist on TLS (Node's gRPC, browsers) can be
//! told to trust it. ALPN offers `h2` (gRPC) and `http/1.1` (the control API).

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::Error;

/// The certificate (PEM) and a ready acceptor.
pub(crate) struct Tls {
    pub(crate) cert_pem: String,
    pub(crate) acceptor: TlsAcceptor,
}

/// Generates the certificate, writes its PEM to `cert_path`, and configures rustls (ring).
pub(crate) fn setup(cert_path: &Path) -> Result<Tls, Error> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| Error::Tls(format!("certificate generation failed: {e}")))?;
    let cert_pem = certified.cert.pem();
    std::fs::write(cert_path, &cert_pem).map_err(|e| {
        Error::Tls(format!(
            "cannot write the certificate to {}: {e}; choose another path with tls_cert_path",
            cert_path.display()
        ))
    })?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        cert_pem,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}
