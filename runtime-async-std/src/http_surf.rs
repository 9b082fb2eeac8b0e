//! HTTP by surf (async-h1 over rustls 0.18). surf is unmaintained: see the crate docs.

use futures_lite::future::Boxed;
use http::{Request, Response};
use sfstream_driver::{TransportError, WireLogFilter, error_chain};
use tracing::instrument::WithSubscriber;

use crate::http::{Http, read_limited};

/// A client with no timeout of its own (the session's deadlines apply) and a connection per
/// request: surf's pool (http-client's h1 pool) takes back a connection whose request was
/// dropped mid-flight — a deadline passed, a long poll cancelled — and hands it to the next
/// request, which then reads the late answer to the one before. Without keep-alive each
/// connection dies with its request.
pub(crate) fn client() -> Result<surf::Client, String> {
    let config = surf::Config::new()
        .set_timeout(None)
        .set_http_keep_alive(false);
    surf::Client::try_from(config).map_err(|e| e.to_string())
}

impl Http for surf::Client {
    fn name(&self) -> &'static str {
        "surf"
    }

    fn exchange(
        &self,
        request: Request<Vec<u8>>,
        max_body: usize,
    ) -> Boxed<Result<Response<Vec<u8>>, TransportError>> {
        let client = self.clone();
        Box::pin(send(client, request, max_body).with_subscriber(WIRE_LOGS.dispatch()))
    }
}

/// What surf's HTTP/1.1 client logs of the raw exchange: async-h1 logs each request's `Debug`
/// (headers and all) at TRACE.
static WIRE_LOGS: WireLogFilter = WireLogFilter::new(&["async_h1"]);

/// One exchange; the caller bounds it in time.
async fn send(
    client: surf::Client,
    request: Request<Vec<u8>>,
    max_body: usize,
) -> Result<Response<Vec<u8>>, TransportError> {
    let (parts, body) = request.into_parts();
    let url = surf::Url::parse(&parts.uri.to_string())
        .map_err(|e| TransportError::Other(format!("invalid URL {}: {e}", parts.uri)))?;
    let method = parts
        .method
        .as_str()
        .parse::<surf::http::Method>()
        .map_err(|e| TransportError::Other(e.to_string()))?;
    let mut outgoing = surf::Request::new(method, url);
    for (name, value) in &parts.headers {
        // The value may be a token: the error names the header, not its value.
        let value = value
            .to_str()
            .map_err(|_| TransportError::Other(format!("header {name} is not visible ASCII")))?;
        outgoing.append_header(name.as_str(), value);
    }
    outgoing.set_body(body);
    let response = client.send(outgoing).await.map_err(map_error)?;
    let mut builder = Response::builder().status(u16::from(response.status()));
    for (name, values) in response.iter() {
        for value in values {
            match http::HeaderValue::from_str(value.as_str()) {
                Ok(value) => builder = builder.header(name.as_str(), value),
                // async-h1 gives a response without a `Date` header one it makes up, with the
                // header's name and line end inside the value: leave out what `http` refuses.
                Err(_) => tracing::debug!(header = name.as_str(), "invalid header value left out"),
            }
        }
    }
    let headers = builder.headers_ref().cloned().unwrap_or_default();
    let body = read_limited(&headers, response, max_body).await?;
    builder
        .body(body)
        .map_err(|e| TransportError::Other(e.to_string()))
}

/// surf's errors wrap the I/O or protocol error; none carries headers or bodies. `Connect`
/// only for the I/O kinds a connect attempt fails with; anything else may have reached the
/// server.
fn map_error(e: surf::Error) -> TransportError {
    use std::io::ErrorKind;
    let text = error_chain(AsRef::<dyn std::error::Error + Send + Sync>::as_ref(&e));
    match e.downcast_ref::<std::io::Error>().map(std::io::Error::kind) {
        Some(ErrorKind::TimedOut) => TransportError::Timeout,
        Some(ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable | ErrorKind::NotFound) => {
            TransportError::Connect(text)
        }
        _ => TransportError::Io(text),
    }
}
