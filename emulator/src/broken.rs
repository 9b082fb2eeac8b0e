//! Broken responses: a `/meta/connect` whose events were taken (they count as delivered to the
//! session) and whose response then never arrives whole. Salesforce produces these when a load
//! balancer or the network breaks a long poll; a client that does not recover the events by
//! replay loses them.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{Extensions, StatusCode};

use crate::faults::Fault;
use crate::respond::{self, ConnectionKiller};

/// How a connect response that carries events is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Broken {
    /// Headers and about half of the body, then a reset.
    Cut,
    /// A reset before anything is written.
    Reset,
    /// Nothing for this long, then a reset.
    Hold(Duration),
}

impl Broken {
    /// The name it is counted under in `faults_by_kind`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Cut => "cut_after_delivery",
            Self::Reset => "reset_after_delivery",
            Self::Hold(_) => "hold_after_delivery",
        }
    }

    /// The broken response a fault asks for, if it is a broken-response fault.
    pub(crate) fn of(fault: Fault) -> Option<Self> {
        match fault {
            Fault::CutAfterDelivery => Some(Self::Cut),
            Fault::ResetAfterDelivery => Some(Self::Reset),
            Fault::HoldAfterDelivery(d) => Some(Self::Hold(d)),
            _ => None,
        }
    }
}

/// The broken response for a body of `chunks`.
pub(crate) async fn respond(
    broken: Broken,
    extensions: &Extensions,
    chunks: Vec<Bytes>,
) -> Response {
    match broken {
        Broken::Reset => respond::reset(extensions).await,
        Broken::Hold(d) => {
            tokio::time::sleep(d).await;
            respond::reset(extensions).await
        }
        Broken::Cut => {
            let Some(killer) = extensions.get::<ConnectionKiller>() else {
                // Not served by the emulator's own connection loop: nothing can be cut.
                return respond::text(StatusCode::INTERNAL_SERVER_ERROR, "connection reset");
            };
            let whole: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            let mut response = respond::json(StatusCode::OK, Vec::new());
            *response.body_mut() = Body::new(HalfBody::new(whole, killer.clone()));
            response
        }
    }
}

/// A body that announces its full length, yields about half of it, then asks for the connection
/// to be reset once that half has been written, and never ends.
struct HalfBody {
    half: Option<Bytes>,
    total: u64,
    killer: ConnectionKiller,
}

impl HalfBody {
    fn new(whole: Vec<u8>, killer: ConnectionKiller) -> Self {
        let total = whole.len() as u64;
        let mut half = Bytes::from(whole);
        // At least one byte is written and at least one is missing (a body is never empty: `[]`).
        half.truncate((half.len() / 2).max(1));
        Self {
            half: Some(half),
            total,
            killer,
        }
    }
}

impl http_body::Body for HalfBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(half) = self.half.take() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(half))));
        }
        // The half is in the server's write buffer: reset once it has been flushed. The body
        // never ends, so the connection cannot complete the response in between.
        self.killer.reset_after_flush();
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.total)
    }
}
