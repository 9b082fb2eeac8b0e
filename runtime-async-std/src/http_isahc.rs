//! HTTP by isahc: libcurl, built statically, over rustls.

use std::time::Duration;

use http::{Request, Response};
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};
use isahc::error::ErrorKind;
use sfstream_driver::{TransportError, error_chain};

use crate::runtime::{Http, read_limited};

/// A client with the settings the session expects (see [`crate::AsyncStd::isahc`]).
pub(crate) fn client() -> Result<Http, String> {
    isahc::HttpClient::builder()
        .connect_timeout(Duration::from_secs(15))
        .expect_continue(ExpectContinue::disabled())
        .automatic_decompression(false)
        .redirect_policy(RedirectPolicy::Limit(10))
        .build()
        .map(Http::Isahc)
        .map_err(|e| error_chain(&e))
}

/// One exchange; the caller bounds it in time.
pub(crate) async fn exchange(
    client: isahc::HttpClient,
    request: Request<Vec<u8>>,
    max_body: usize,
) -> Result<Response<Vec<u8>>, TransportError> {
    let (parts, body) = client
        .send_async(request)
        .await
        .map_err(map_error)?
        .into_parts();
    let body = read_limited(&parts.headers, body, max_body).await?;
    Ok(Response::from_parts(parts, body))
}

/// isahc's errors carry curl's description (host, port), never headers or bodies.
fn map_error(e: isahc::Error) -> TransportError {
    let text = error_chain(&e);
    match e.kind() {
        ErrorKind::Timeout => TransportError::Timeout,
        ErrorKind::ConnectionFailed
        | ErrorKind::NameResolution
        | ErrorKind::BadServerCertificate
        | ErrorKind::BadClientCertificate
        | ErrorKind::InvalidTlsConfiguration
        | ErrorKind::TlsEngine => TransportError::Connect(text),
        ErrorKind::Io | ErrorKind::ProtocolViolation => TransportError::Io(text),
        _ => TransportError::Other(text),
    }
}
