//! HTTP/2 streams for the Pub/Sub API on the blocking runtime: the async-io HTTP client's pool.
//! The driver's tasks poll the streams on the runtime's task pool; the sockets are async-io's,
//! woken by its reactor thread, so no async runtime runs on the caller's threads.

use std::time::Instant;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use http::{Request, Uri};
use sfstream_driver::pubsub::{Http2Runtime, StreamEvent};

use crate::Blocking;

impl Http2Runtime for Blocking {
    fn open_stream(
        &self,
        head: Request<()>,
        body: BoxStream<'static, Bytes>,
        connect_deadline: Instant,
    ) -> BoxStream<'static, StreamEvent> {
        self.h2.open_stream(head, body, connect_deadline)
    }

    fn forget_connection(&self, origin: &Uri) {
        self.h2.forget_connection(origin);
    }
}

impl Blocking {
    /// This runtime with the Pub/Sub API's HTTP/2 connections made by `pool`: one from an
    /// [`http_async_io::Client`](super::http_async_io::Client) of your own
    /// (`Client::builder().proxies(…).root_certificates(…).build().http2_pool()`), for proxies
    /// other than the environment's or trusted roots in place of the platform's verifier. The
    /// token requests still go through the ureq agent.
    #[must_use]
    pub fn with_http2_pool(mut self, pool: sfstream_http_async_io::http2::Http2Pool) -> Self {
        self.h2 = pool;
        self
    }
}
