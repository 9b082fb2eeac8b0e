//! gRPC call outcomes: the response head (`:status`, `content-type`, or a trailers-only error),
//! the trailers (`grpc-status`, `grpc-message`, Salesforce's `error-code` and `rpc-id`) and
//! HTTP/2 stream resets, read into a [`Status`] that says what to do about it.
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use sfstream_core::pubsub::{GrpcStatus, PubSubErrorClass};
//! use sfstream_core::pubsub::status::{read_response_head, read_trailers, ResponseHead};
//!
//! let mut head = HeaderMap::new();
//! head.insert("content-type", "application/grpc".parse().unwrap());
//! assert!(matches!(read_response_head(StatusCode::OK, &head), ResponseHead::Streaming));
//!
//! let mut trailers = HeaderMap::new();
//! trailers.insert("grpc-status", "3".parse().unwrap());
//! trailers.insert("grpc-message", "Replay%20ID%20is%20invalid%2E rpcId: 7f3a".parse().unwrap());
//! trailers.insert("error-code", "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted".parse().unwrap());
//! trailers.insert("rpc-id", "7f3a".parse().unwrap());
//! let status = read_trailers(&trailers);
//! assert_eq!(status.code, GrpcStatus::InvalidArgument);
//! assert_eq!(status.message, "Replay ID is invalid. rpcId: 7f3a");
//! assert_eq!(status.class(), PubSubErrorClass::InvalidReplayId);
//! ```

use std::fmt;

use http::{HeaderMap, StatusCode};

use super::classify::{PubSubErrorClass, classify};

/// A gRPC status code. Codes this version does not name are kept as [`GrpcStatus::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrpcStatus {
    /// 0: success.
    Ok,
    /// 1: the call was cancelled.
    Cancelled,
    /// 2: an unknown error.
    Unknown,
    /// 3: the request is invalid.
    InvalidArgument,
    /// 4: the deadline passed.
    DeadlineExceeded,
    /// 5: the thing asked for does not exist.
    NotFound,
    /// 6: it already exists.
    AlreadyExists,
    /// 7: the caller may not do this.
    PermissionDenied,
    /// 8: a quota or limit is used up.
    ResourceExhausted,
    /// 9: the system is not in a state for this.
    FailedPrecondition,
    /// 10: aborted (a concurrency conflict).
    Aborted,
    /// 11: out of range.
    OutOfRange,
    /// 12: the method is not served here.
    Unimplemented,
    /// 13: an internal error.
    Internal,
    /// 14: the service is unavailable for now.
    Unavailable,
    /// 15: data was lost.
    DataLoss,
    /// 16: the credentials are missing or not accepted.
    Unauthenticated,
    /// A code outside 0–16.
    Other(u32),
}

impl GrpcStatus {
    /// The status for a numeric code.
    #[must_use]
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => Self::Ok,
            1 => Self::Cancelled,
            2 => Self::Unknown,
            3 => Self::InvalidArgument,
            4 => Self::DeadlineExceeded,
            5 => Self::NotFound,
            6 => Self::AlreadyExists,
            7 => Self::PermissionDenied,
            8 => Self::ResourceExhausted,
            9 => Self::FailedPrecondition,
            10 => Self::Aborted,
            11 => Self::OutOfRange,
            12 => Self::Unimplemented,
            13 => Self::Internal,
            14 => Self::Unavailable,
            15 => Self::DataLoss,
            16 => Self::Unauthenticated,
            other => Self::Other(other),
        }
    }

    /// The numeric code.
    #[must_use]
    pub fn code(self) -> u32 {
        match self {
            Self::Ok => 0,
            Self::Cancelled => 1,
            Self::Unknown => 2,
            Self::InvalidArgument => 3,
            Self::DeadlineExceeded => 4,
            Self::NotFound => 5,
            Self::AlreadyExists => 6,
            Self::PermissionDenied => 7,
            Self::ResourceExhausted => 8,
            Self::FailedPrecondition => 9,
            Self::Aborted => 10,
            Self::OutOfRange => 11,
            Self::Unimplemented => 12,
            Self::Internal => 13,
            Self::Unavailable => 14,
            Self::DataLoss => 15,
            Self::Unauthenticated => 16,
            Self::Other(code) => code,
        }
    }

    /// The canonical name (`UNAVAILABLE`), or `CODE_OUTSIDE_0_16` for the others (their number
    /// is in [`GrpcStatus::code`] and in the `Display` form).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Cancelled => "CANCELLED",
            Self::Unknown => "UNKNOWN",
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Self::NotFound => "NOT_FOUND",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Self::FailedPrecondition => "FAILED_PRECONDITION",
            Self::Aborted => "ABORTED",
            Self::OutOfRange => "OUT_OF_RANGE",
            Self::Unimplemented => "UNIMPLEMENTED",
            Self::Internal => "INTERNAL",
            Self::Unavailable => "UNAVAILABLE",
            Self::DataLoss => "DATA_LOSS",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Other(_) => "CODE_OUTSIDE_0_16",
        }
    }

    /// The status a non-200 HTTP answer stands for, per gRPC's HTTP-to-status mapping
    /// (a proxy or maintenance page answered instead of the gRPC server).
    #[must_use]
    pub fn from_http_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 => Self::Internal,
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::Unimplemented,
            429 | 502..=504 => Self::Unavailable,
            _ => Self::Unknown,
        }
    }

    /// The status an HTTP/2 `RST_STREAM` (or `GOAWAY`) error code stands for. A reset with
    /// `NO_ERROR` before the trailers is a cut stream (`UNAVAILABLE`, as Salesforce's clients
    /// see it), not a success.
    #[must_use]
    pub fn from_reset(h2_error_code: u32) -> Self {
        match h2_error_code {
            0x0 | 0x7 => Self::Unavailable, // NO_ERROR, REFUSED_STREAM
            0x8 => Self::Cancelled,         // CANCEL
            0xb => Self::ResourceExhausted, // ENHANCE_YOUR_CALM
            0xc => Self::PermissionDenied,  // INADEQUATE_SECURITY
            _ => Self::Internal,
        }
    }
}

impl fmt::Display for GrpcStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(code) => write!(f, "gRPC status {code}"),
            known => f.write_str(known.name()),
        }
    }
}

/// The outcome of a gRPC call: its status and Salesforce's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The status code.
    pub code: GrpcStatus,
    /// `grpc-message`, percent-decoded (bad UTF-8 replaced), or a description of what the client
    /// saw when the status did not come from a gRPC server.
    pub message: String,
    /// Salesforce's `error-code` trailer, e.g.
    /// `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted`.
    pub error_code: Option<String>,
    /// Salesforce's `rpc-id` trailer, for Salesforce support.
    pub rpc_id: Option<String>,
}

impl Status {
    /// A status with a message and no Salesforce details (for outcomes the client derives).
    #[must_use]
    pub fn new(code: GrpcStatus, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            error_code: None,
            rpc_id: None,
        }
    }

    /// The status of a stream reset by HTTP/2 error code `h2_error_code` before its trailers.
    #[must_use]
    pub fn from_reset(h2_error_code: u32) -> Self {
        Self::new(
            GrpcStatus::from_reset(h2_error_code),
            format!(
                "the HTTP/2 stream was reset (error code {h2_error_code:#x}) before the call ended"
            ),
        )
    }

    /// Whether the call succeeded.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.code == GrpcStatus::Ok
    }

    /// What kind of failure this is, which decides what to do (see [`PubSubErrorClass::action`]).
    /// A stream that ends with `OK` (the server's idle close) is opened again:
    /// [`PubSubErrorClass::Resubscribe`].
    #[must_use]
    pub fn class(&self) -> PubSubErrorClass {
        classify(self.code, self.error_code.as_deref(), &self.message)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(code) = &self.error_code {
            write!(f, " (error-code {code})")?;
        }
        if let Some(rpc_id) = &self.rpc_id {
            if !self.message.contains(rpc_id.as_str()) {
                write!(f, " (rpc-id {rpc_id})")?;
            }
        }
        write!(f, "; {}", self.class().action())
    }
}

impl std::error::Error for Status {}

/// What the response head says about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseHead {
    /// A gRPC response: messages and then trailers follow.
    Streaming,
    /// The call is over: a trailers-only response (an immediate error, or a unary call's
    /// immediate result), or an answer that is not gRPC at all (an HTTP error from a proxy, a
    /// maintenance page).
    Ended(Status),
}

/// Reads a response's `:status` and headers.
#[must_use]
pub fn read_response_head(status: StatusCode, headers: &HeaderMap) -> ResponseHead {
    let has_grpc_status = headers.contains_key("grpc-status");
    if status != StatusCode::OK && !has_grpc_status {
        return ResponseHead::Ended(Status::new(
            GrpcStatus::from_http_status(status),
            format!(
                "the server answered HTTP {status} instead of a gRPC response{}",
                describe_content_type(headers)
            ),
        ));
    }
    let content_type = header_text(headers, "content-type");
    let is_grpc = content_type.as_deref().is_some_and(is_grpc_content_type);
    if has_grpc_status {
        // Trailers-only: the whole outcome is in this block.
        return ResponseHead::Ended(read_trailers(headers));
    }
    if !is_grpc {
        return ResponseHead::Ended(Status::new(
            GrpcStatus::Unknown,
            format!(
                "the server answered{} instead of application/grpc: is the Pub/Sub URL right?",
                describe_content_type(headers)
            ),
        ));
    }
    ResponseHead::Streaming
}

/// Reads the trailers that end a call (or a trailers-only response).
#[must_use]
pub fn read_trailers(trailers: &HeaderMap) -> Status {
    let error_code = header_text(trailers, "error-code").filter(|c| !c.is_empty());
    let rpc_id = header_text(trailers, "rpc-id").filter(|c| !c.is_empty());
    let message = trailers
        .get("grpc-message")
        .map(|m| percent_decode(m.as_bytes()))
        .unwrap_or_default();
    let (code, message) = match header_text(trailers, "grpc-status") {
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(code) => (GrpcStatus::from_code(code), message),
            Err(_) => (
                GrpcStatus::Unknown,
                join(
                    &format!("the grpc-status trailer `{raw}` is not a number"),
                    &message,
                ),
            ),
        },
        None => (
            GrpcStatus::Unknown,
            join("the call ended without a grpc-status trailer", &message),
        ),
    };
    Status {
        code,
        message,
        error_code,
        rpc_id,
    }
}

fn join(first: &str, second: &str) -> String {
    if second.is_empty() {
        first.to_owned()
    } else {
        format!("{first}: {second}")
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn describe_content_type(headers: &HeaderMap) -> String {
    match header_text(headers, "content-type") {
        Some(ct) => format!(" with content-type `{ct}`"),
        None => " with no content-type".to_owned(),
    }
}

/// `application/grpc`, `application/grpc+proto`, `application/grpc; charset=…`.
fn is_grpc_content_type(value: &str) -> bool {
    let value = value.trim();
    let Some(rest) = value
        .get(..16)
        .filter(|p| p.eq_ignore_ascii_case("application/grpc"))
        .map(|_| &value[16..])
    else {
        return false;
    };
    rest.is_empty() || rest.starts_with('+') || rest.starts_with(';')
}

/// Decodes `%XX` escapes; anything else (including a malformed escape) stays as it is. The bytes
/// are read as UTF-8, with bad sequences replaced.
#[must_use]
pub fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            if let (Some(h), Some(l)) = (
                raw.get(i + 1).and_then(|b| hex_value(*b)),
                raw.get(i + 2).and_then(|b| hex_value(*b)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
