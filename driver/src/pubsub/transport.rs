//! The runtime seam of the Pub/Sub API: bidirectional HTTP/2 streams, one per gRPC call.
//!
//! A runtime that speaks HTTP/2 implements [`Http2Runtime`] beside [`Runtime`]: it opens a
//! stream with a request head, writes the request body as the driver hands it over, and reports
//! what the server sends as [`StreamEvent`]s. It makes no protocol decision: gRPC's framing,
//! statuses and what follows a failure are the core's.

use std::time::Instant;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use http::{HeaderMap, Request, StatusCode};
use sfstream_core::TransportError;

use crate::Runtime;

/// What the server sent on one HTTP/2 stream, in order. After [`StreamEvent::Trailers`],
/// [`StreamEvent::Reset`] or [`StreamEvent::Failed`] nothing more follows; a stream whose body
/// ends without trailers simply ends (the driver reports the missing status).
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The response head: `:status` and headers.
    Head {
        /// The HTTP status.
        status: StatusCode,
        /// The headers (for a trailers-only gRPC answer, `grpc-status` is among them).
        headers: HeaderMap,
    },
    /// A piece of the response body (a DATA frame's payload, or any part of the body).
    Data(Bytes),
    /// The trailers that end the response (`grpc-status`, `grpc-message`, `error-code`, …).
    Trailers(HeaderMap),
    /// The server reset the stream (`RST_STREAM`), or ended the connection (`GOAWAY`) before
    /// processing it, with this HTTP/2 error code.
    Reset(u32),
    /// The stream failed below HTTP/2: the connection could not be made (TCP, TLS, ALPN), or it
    /// broke.
    Failed(TransportError),
}

/// HTTP/2 streams for gRPC: what a runtime provides for the Pub/Sub API, beside [`Runtime`].
///
/// Implementations connect over TLS with ALPN `h2` (`https` URIs), or with HTTP/2 prior
/// knowledge (h2c) for `http` URIs (the session allows those to loopback hosts only); they
/// multiplex streams to one origin on a connection and check its liveness with HTTP/2 PINGs,
/// so a half-open connection is dropped rather than trusted. They follow no redirect.
pub trait Http2Runtime: Runtime {
    /// Opens a stream: sends `head` (a `POST`; its headers are sent as they are, including the
    /// sensitive ones, which must never be logged), then writes each item of `body` as request
    /// body DATA, in order; the end of `body` ends the request body (half-close). The returned
    /// stream yields what the server sends. Dropping it cancels the call (`RST_STREAM` with
    /// `CANCEL`). `connect_deadline` bounds the making of a new connection, if one is needed.
    fn open_stream(
        &self,
        head: Request<()>,
        body: BoxStream<'static, Bytes>,
        connect_deadline: Instant,
    ) -> BoxStream<'static, StreamEvent>;

    /// A stream to this origin was silent past the session's watchdog: its connection may be
    /// half-open. New streams should go on a new connection (streams open on the old one carry
    /// on until they end). The default does nothing, for an implementation that makes a
    /// connection per stream.
    fn forget_connection(&self, origin: &http::Uri) {
        let _ = origin;
    }
}
