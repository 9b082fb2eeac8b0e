//! Response helpers shared by the endpoints, including the injected failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Extensions, StatusCode};
use tokio::sync::Notify;

/// Put into every request's extensions by the server: lets a handler drop the connection with
/// a TCP reset, at once or as soon as what has been written so far has gone out.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnectionKiller {
    /// Notified to reset the connection.
    pub(crate) kill: Arc<Notify>,
    /// Set to reset the connection at the next flush of everything written so far.
    pub(crate) after_flush: Arc<AtomicBool>,
}

impl ConnectionKiller {
    /// Resets the connection now; nothing more is written.
    pub(crate) fn reset_now(&self) {
        self.kill.notify_one();
    }

    /// Resets the connection once the bytes written so far are on the wire.
    pub(crate) fn reset_after_flush(&self) {
        self.after_flush.store(true, Ordering::SeqCst);
    }
}

/// A response with a JSON body.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    response
}

/// A response with a JSON body made of chunks, sent one after the other with a known length.
pub(crate) fn json_chunks(status: StatusCode, chunks: Vec<bytes::Bytes>) -> Response {
    if chunks.len() == 1 {
        return json(
            status,
            chunks.into_iter().next().map(Vec::from).unwrap_or_default(),
        );
    }
    let mut response = json(status, Vec::new());
    *response.body_mut() = Body::new(Chunks::new(chunks));
    response
}

/// A body of ready chunks with an exact size hint, so the response carries `Content-Length`
/// (not chunked encoding) and its chunks are written as they are.
struct Chunks {
    chunks: std::collections::VecDeque<bytes::Bytes>,
    left: u64,
}

impl Chunks {
    fn new(chunks: Vec<bytes::Bytes>) -> Self {
        let left = chunks.iter().map(|c| c.len() as u64).sum();
        Self {
            chunks: chunks.into(),
            left,
        }
    }
}

impl http_body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(chunk) = &next {
            self.left = self.left.saturating_sub(chunk.len() as u64);
        }
        std::task::Poll::Ready(next.map(|c| Ok(http_body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

/// A response with a plain-text body.
pub(crate) fn text(status: StatusCode, body: &str) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    response
}

/// The injected `Status(code)` fault.
pub(crate) fn status_fault(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(
        status,
        status.canonical_reason().unwrap_or("Injected failure"),
    )
}

/// The injected `MalformedJson` fault: a 200 whose JSON stops half-way.
pub(crate) fn malformed(prefix: &'static str) -> Response {
    json(StatusCode::OK, prefix.as_bytes().to_vec())
}

/// The injected `Reset` fault: drops the connection. Returns only if the request did not come
/// through the emulator's own server (then a 500 stands in).
pub(crate) async fn reset(extensions: &Extensions) -> Response {
    if let Some(killer) = extensions.get::<ConnectionKiller>() {
        killer.reset_now();
        // The connection task drops this handler together with the connection.
        std::future::pending::<()>().await;
    }
    text(StatusCode::INTERNAL_SERVER_ERROR, "connection reset")
}
