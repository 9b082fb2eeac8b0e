//! Response helpers shared by the endpoints, including the injected failures.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Extensions, StatusCode};
use tokio::sync::Notify;

/// Put into every request's extensions by the server: notifying it drops the connection
/// (with a TCP reset) without an answer.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionKiller(pub(crate) Arc<Notify>);

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
        killer.0.notify_one();
        // The connection task drops this handler together with the connection.
        std::future::pending::<()>().await;
    }
    text(StatusCode::INTERNAL_SERVER_ERROR, "connection reset")
}
