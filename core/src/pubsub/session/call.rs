//! The runtime seam of the Pub/Sub session: what it asks the adapter to do with gRPC calls
//! ([`CallOp`]), and the bookkeeping of each call's bytes until it ends.
//!
//! Every call, unary or streaming, is one HTTP/2 stream: the session opens it ([`CallOp::Open`]:
//! a `POST` with the gRPC and Salesforce headers), sends framed messages on it
//! ([`CallOp::Send`]), half-closes it when it has nothing more to send ([`CallOp::HalfClose`];
//! a unary call right after its one message) and aborts it when it no longer wants it
//! ([`CallOp::Cancel`]). The adapter performs the operations in the order they come out and
//! reports what the server sends back under the call's [`CallId`].

use std::fmt;
use std::time::Instant;

use bytes::Bytes;

use crate::pubsub::proto::path;
use crate::redact;

/// Identifies one gRPC call the session asked for. Everything the server sends on it is reported
/// under this id; reports for a call the session has ended or cancelled are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub(crate) u64);

impl CallId {
    /// The number behind the id, for logs.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// Which method of `eventbus.v1.PubSub` a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallKind {
    /// `Subscribe`: a bidirectional stream of `FetchRequest`s and `FetchResponse`s.
    Subscribe,
    /// `GetSchema`: unary.
    GetSchema,
    /// `GetTopic`: unary.
    GetTopic,
    /// `Publish`: unary.
    Publish,
    /// `PublishStream`: a bidirectional stream of `PublishRequest`s and `PublishResponse`s.
    PublishStream,
    /// `ManagedSubscribe` (beta): a bidirectional stream.
    ManagedSubscribe,
}

impl CallKind {
    /// The HTTP/2 `:path` of the method.
    #[must_use]
    pub fn path(self) -> &'static str {
        match self {
            Self::Subscribe => path::SUBSCRIBE,
            Self::GetSchema => path::GET_SCHEMA,
            Self::GetTopic => path::GET_TOPIC,
            Self::Publish => path::PUBLISH,
            Self::PublishStream => path::PUBLISH_STREAM,
            Self::ManagedSubscribe => path::MANAGED_SUBSCRIBE,
        }
    }

    /// Whether the call stays open for many messages each way (a stream), as opposed to one
    /// request and one response (unary).
    #[must_use]
    pub fn is_streaming(self) -> bool {
        matches!(
            self,
            Self::Subscribe | Self::PublishStream | Self::ManagedSubscribe
        )
    }

    /// The method's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribe => "Subscribe",
            Self::GetSchema => "GetSchema",
            Self::GetTopic => "GetTopic",
            Self::Publish => "Publish",
            Self::PublishStream => "PublishStream",
            Self::ManagedSubscribe => "ManagedSubscribe",
        }
    }
}

/// What the session asks the adapter to do with a gRPC call. Perform them in the order
/// [`PubSubSession::poll_call_op`](super::PubSubSession::poll_call_op) returns them.
#[derive(Debug)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "an operation lives from its making to its taking; boxing the head would cost an \
              allocation per call for nothing"
)]
pub enum CallOp {
    /// Open an HTTP/2 stream with this request head (its body is the messages that follow).
    Open(OpenCall),
    /// Write these bytes (one gRPC message, already framed: flag, length, protobuf) on the
    /// call's request body.
    Send {
        /// The call.
        call: CallId,
        /// The framed message.
        message: Bytes,
    },
    /// End the request body (HTTP/2 `END_STREAM`): the session sends nothing more on the call,
    /// and keeps reading what the server sends until the trailers.
    HalfClose {
        /// The call.
        call: CallId,
    },
    /// Abort the call (HTTP/2 `RST_STREAM` with `CANCEL`). Anything reported for it afterwards is
    /// ignored, so the adapter need not report how it ended.
    Cancel {
        /// The call.
        call: CallId,
    },
}

/// A call to open.
///
/// `request` is the head of an HTTP/2 `POST`: its URI is the Pub/Sub endpoint and the method's
/// path, its headers `content-type: application/grpc`, `te: trailers` and Salesforce's
/// `accesstoken` (marked sensitive), `instanceurl` and `tenantid`, plus `x-client-trace-id`
/// and, for a unary call, `grpc-timeout`. Send it as is, over TLS with ALPN `h2` (plain h2c
/// only to a loopback host, which the configuration enforces), and follow no redirect.
///
/// `Debug` is safe to log: it hides the access token.
pub struct OpenCall {
    /// The id to report the call's outcome under.
    pub call: CallId,
    /// The method.
    pub kind: CallKind,
    /// The request head.
    pub request: http::Request<()>,
    /// When to give up on a unary call (the session also fails it at that instant, so a late
    /// answer is ignored either way). `None` for a stream, which lives until it ends or the
    /// session cancels it (the session watches its liveness itself).
    pub deadline: Option<Instant>,
}

impl fmt::Debug for OpenCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenCall")
            .field("call", &self.call)
            .field("kind", &self.kind)
            .field("uri", &redact::Url(self.request.uri()))
            .field("headers", &redact::Headers(self.request.headers()))
            .field("deadline", &self.deadline)
            .finish()
    }
}
