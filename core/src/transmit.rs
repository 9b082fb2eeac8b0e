//! What the core asks the adapter to send, and what the adapter reports back when sending fails.

use std::fmt;
use std::time::Instant;

use crate::redact;

/// Identifies one HTTP exchange the core asked for. Responses and errors are matched by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub(crate) u64);

impl RequestId {
    /// The number behind the id, for logs.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a request is for. Adapters may use it for logging or to pick a connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// An OAuth token request.
    Token,
    /// A `/meta/handshake`.
    Handshake,
    /// A `/meta/connect` long poll.
    Connect,
    /// `/meta/subscribe` and `/meta/unsubscribe` messages.
    Control,
    /// A `/meta/disconnect`.
    Disconnect,
}

impl RequestKind {
    /// A short lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Handshake => "handshake",
            Self::Connect => "connect",
            Self::Control => "control",
            Self::Disconnect => "disconnect",
        }
    }
}

/// One HTTP request the adapter must send.
///
/// The adapter sends `request` as is and reports the outcome with
/// [`Session::handle_response`](crate::Session::handle_response) or
/// [`Session::handle_transport_error`](crate::Session::handle_transport_error). It should give up at
/// `deadline` (the core also treats the request as failed at that instant, so a late answer is
/// ignored either way). The adapter must not follow redirects: the session refuses a 3xx answer
/// (see [`RequestKind`]), and a client that followed one would have sent the credentials the
/// request carries to wherever it pointed.
///
/// `Debug` is safe to log: it shows the body of a Bayeux request, but of a token request (which
/// carries the password, the client secret, a refresh token or a signed assertion) only its
/// size, and no value of an `Authorization`, `Cookie` or sensitive header. (`Debug` of the
/// `request` field alone is `http`'s, which shows everything.)
pub struct Transmit {
    /// The id to report the outcome under.
    pub id: RequestId,
    /// What the request is for.
    pub kind: RequestKind,
    /// The request. Its `Authorization` header is marked sensitive.
    pub request: http::Request<Vec<u8>>,
    /// When to give up waiting for the response.
    pub deadline: Instant,
}

/// Why an HTTP exchange produced no response. Adapters map their client's errors onto these.
///
/// What matters most is whether the request may have reached the server
/// ([`TransportError::may_have_reached_server`]): a long poll that reached it may have carried
/// events the server will not send again, so the session fetches them again by replay. Only
/// [`TransportError::Connect`] says it did not; an adapter that is not sure uses another variant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// No response before the deadline. The request may have been sent and held by the server.
    Timeout,
    /// The connection could not be made (DNS, refused, TLS handshake): no byte of the request
    /// was written. Adapters use it only when that is certain.
    Connect(String),
    /// An `https://` request reached a server that answered the TLS handshake in plain HTTP
    /// (a wrong port, or `https://` for a plain-HTTP server): no byte of the request was
    /// written, and retrying cannot help. Adapters report it when their TLS library says the
    /// first record was not TLS.
    NotTls(String),
    /// The connection broke while the request or response was in transit.
    Io(String),
    /// The response body was larger than the configured bound; it was not read.
    BodyTooLarge {
        /// The bound, in bytes.
        limit: usize,
    },
    /// Anything else the HTTP client reported.
    Other(String),
}

impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transmit")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("method", self.request.method())
            .field("uri", &redact::Url(self.request.uri()))
            .field("headers", &redact::Headers(self.request.headers()))
            .field("body", &redact::Body(self.kind, self.request.body()))
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl TransportError {
    /// Whether the request may have reached the server, so that the server may have acted on
    /// it (and, for a long poll, handed it events it will not send again). Conservative: every
    /// failure but [`TransportError::Connect`] may have.
    #[must_use]
    pub fn may_have_reached_server(&self) -> bool {
        match self {
            Self::Connect(_) | Self::NotTls(_) => false,
            Self::Timeout | Self::Io(_) | Self::BodyTooLarge { .. } | Self::Other(_) => true,
        }
    }

    /// Which kind of failure this is, for code that acts on it (a command-line tool that stops
    /// on a configuration mistake rather than retrying, say).
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        match self {
            Self::Timeout => TransportErrorKind::Timeout,
            Self::Connect(_) => TransportErrorKind::Connect,
            Self::NotTls(_) => TransportErrorKind::NotTls,
            Self::Io(_) => TransportErrorKind::Io,
            Self::BodyTooLarge { .. } => TransportErrorKind::BodyTooLarge,
            Self::Other(_) => TransportErrorKind::Other,
        }
    }
}

/// The kind of a [`TransportError`], without its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No response before the deadline.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The server answered TLS in plain HTTP: the URL's scheme or port is wrong.
    NotTls,
    /// The connection broke.
    Io,
    /// The response body was over the bound.
    BodyTooLarge,
    /// Anything else.
    Other,
}

impl TransportErrorKind {
    /// A stable lower-case name (`"not_tls"` …), for logs and metrics.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::NotTls => "not_tls",
            Self::Io => "io",
            Self::BodyTooLarge => "body_too_large",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("no response before the deadline"),
            Self::Connect(e) => write!(f, "could not connect: {e}"),
            Self::NotTls(e) => write!(
                f,
                "the server answered TLS in plain HTTP (use the port where it serves https, or \
                 http:// for a plain-HTTP server): {e}"
            ),
            Self::Io(e) => write!(f, "connection broke: {e}"),
            Self::BodyTooLarge { limit } => {
                write!(f, "response body larger than the {limit}-byte bound")
            }
            Self::Other(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for TransportError {}
