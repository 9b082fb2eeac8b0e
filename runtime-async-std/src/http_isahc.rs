//! HTTP by isahc: libcurl, built statically, over rustls.

use std::time::Duration;

use futures_lite::future::Boxed;
use http::{Request, Response};
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};
use isahc::error::ErrorKind;
use sfstream_driver::{TransportError, WireLogFilter, error_chain};
use tracing::instrument::WithSubscriber;

use crate::http::{Http, read_limited};

/// A client with the settings the session expects (see [`crate::AsyncStd::isahc`]).
///
/// Every request gets a fresh connection: libcurl silently sends a request again when the
/// reused connection it went out on dies before any answer, and a long poll sent twice loses
/// the events the server handed the first one (the session can only fetch them again if it
/// sees the failure).
pub(crate) fn client() -> Result<isahc::HttpClient, String> {
    isahc::HttpClient::builder()
        .connection_cache_size(0)
        .connect_timeout(Duration::from_secs(15))
        .expect_continue(ExpectContinue::disabled())
        .automatic_decompression(false)
        .redirect_policy(RedirectPolicy::None)
        .build()
        .map_err(|e| error_chain(&e))
}

impl Http for isahc::HttpClient {
    fn name(&self) -> &'static str {
        "isahc"
    }

    fn exchange(
        &self,
        request: Request<Vec<u8>>,
        max_body: usize,
    ) -> Boxed<Result<Response<Vec<u8>>, TransportError>> {
        Box::pin(exchange(self.clone(), request, max_body))
    }
}

/// What isahc logs of the raw exchange: with a subscriber interested in its spans, it turns on
/// curl's verbose output and logs every header and body byte at TRACE (target `isahc::wire`).
/// With its spans filtered out curl stays quiet.
static WIRE_LOGS: WireLogFilter = WireLogFilter::new(&["isahc"]);

/// One exchange; the caller bounds it in time.
async fn exchange(
    client: isahc::HttpClient,
    request: Request<Vec<u8>>,
    max_body: usize,
) -> Result<Response<Vec<u8>>, TransportError> {
    let exchange = async move {
        let (parts, body) = client
            .send_async(no_redirects(request)?)
            .await
            .map_err(map_error)?
            .into_parts();
        let body = read_limited(&parts.headers, body, max_body).await?;
        Ok(Response::from_parts(parts, body))
    };
    exchange.with_subscriber(WIRE_LOGS.dispatch()).await
}

/// The request, set to follow no redirect whatever the client's own policy (a client of the
/// user's may follow some): a followed redirect would take its credentials wherever it points.
fn no_redirects(request: Request<Vec<u8>>) -> Result<Request<Vec<u8>>, TransportError> {
    let (parts, body) = request.into_parts();
    let mut builder = Request::builder()
        .method(parts.method)
        .uri(parts.uri)
        .version(parts.version)
        .redirect_policy(RedirectPolicy::None);
    if let Some(headers) = builder.headers_mut() {
        *headers = parts.headers;
    }
    builder
        .body(body)
        .map_err(|e| TransportError::Other(e.to_string()))
}

/// isahc's errors carry curl's description (host, port), never headers or bodies. `Connect`
/// only for curl's connect, name resolution and TLS setup failures: no byte of the request was
/// written. Anything else may have reached the server.
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
