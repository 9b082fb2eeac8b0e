//! The HTTP clients the runtime can send through, behind one small trait: the runtime holds one
//! of them and puts its deadline on every exchange, whichever it is.

use futures_lite::future::Boxed;
#[cfg(any(feature = "isahc", feature = "surf"))]
use futures_lite::{AsyncRead, AsyncReadExt};
use http::{Request, Response};
use sfstream_driver::TransportError;
#[cfg(any(feature = "isahc", feature = "surf"))]
use sfstream_driver::error_chain;

/// An HTTP client: hyper (`http_hyper`), isahc (`http_isahc`) or surf (`http_surf`).
pub(crate) trait Http: Send + Sync + 'static {
    /// Its name, for `Debug`.
    fn name(&self) -> &'static str;

    /// One exchange, its body read whole but no more than `max_body` bytes. The runtime bounds
    /// it in time; dropping the future aborts it.
    fn exchange(
        &self,
        request: Request<Vec<u8>>,
        max_body: usize,
    ) -> Boxed<Result<Response<Vec<u8>>, TransportError>>;
}

/// The client could not be created (isahc, surf): every request fails with this text, so the
/// session reports it like any other transport failure.
#[cfg(any(feature = "isahc", feature = "surf"))]
pub(crate) struct Unavailable(pub(crate) String);

#[cfg(any(feature = "isahc", feature = "surf"))]
impl Http for Unavailable {
    fn name(&self) -> &'static str {
        "unavailable"
    }

    fn exchange(
        &self,
        _: Request<Vec<u8>>,
        _: usize,
    ) -> Boxed<Result<Response<Vec<u8>>, TransportError>> {
        let e = TransportError::Other(format!("no HTTP client: {}", self.0));
        Box::pin(futures_lite::future::ready(Err(e)))
    }
}

/// Reads a whole response body (isahc, surf), but no more than `max_body` bytes. The buffer is
/// sized from the response's `Content-Length` (never past the bound), so a large body is not
/// copied through a series of doubling buffers.
#[cfg(any(feature = "isahc", feature = "surf"))]
pub(crate) async fn read_limited(
    headers: &http::HeaderMap,
    body: impl AsyncRead + Unpin,
    max_body: usize,
) -> Result<Vec<u8>, TransportError> {
    let capacity = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(0, |n| n.min(max_body));
    let mut out = Vec::with_capacity(capacity);
    let bound = u64::try_from(max_body)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    body.take(bound)
        .read_to_end(&mut out)
        .await
        .map_err(|e| TransportError::Io(error_chain(&e)))?;
    if out.len() > max_body {
        return Err(TransportError::BodyTooLarge { limit: max_body });
    }
    Ok(out)
}
