//! HTTP by sfstream-http-async-io: hyper over async-io sockets, rustls with the platform's
//! verifier, proxies from the environment.

use futures_lite::future::Boxed;
use http::{Request, Response};
use sfstream_driver::TransportError;
use sfstream_http_async_io::Client;

use crate::http::Http;

impl Http for Client {
    fn name(&self) -> &'static str {
        "hyper"
    }

    fn exchange(
        &self,
        request: Request<Vec<u8>>,
        max_body: usize,
    ) -> Boxed<Result<Response<Vec<u8>>, TransportError>> {
        let client = self.clone();
        Box::pin(async move { client.send(request, max_body).await })
    }
}
