//! Errors: what went wrong, how the core classifies Salesforce's error strings, and what it does.
//!
//! Bayeux errors have the shape `code:args:message` (`403::Unknown client`). Salesforce puts the real
//! cause of a denied handshake (and of some connect failures) in `ext.sfdc.failureReason`, in the
//! same shape. The core reads both and decides an [`ErrorClass`] (one place: `classify`, with
//! [`ErrorClass::action`] saying what each class leads to); the session acts on the class.

use std::fmt;
use std::time::Duration;

use crate::oauth::AuthError;
use crate::transmit::{RequestKind, TransportError};

mod kind;

pub use kind::ErrorKind;

/// A Bayeux error string, `code:args:message`: `403::Unknown client` is code 403, no args,
/// message `Unknown client`. Strings without that shape keep their whole text as the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayeuxError {
    raw: String,
}

impl BayeuxError {
    /// Wraps an error string.
    #[must_use]
    pub fn parse(raw: &str) -> Self {
        Self {
            raw: raw.to_owned(),
        }
    }

    fn parts(&self) -> Option<(u16, &str, &str)> {
        let mut parts = self.raw.splitn(3, ':');
        let first = parts.next()?;
        if first.len() != 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let code = first.parse().ok()?;
        match (parts.next(), parts.next()) {
            (Some(args), Some(message)) => Some((code, args, message)),
            (Some(message), None) => Some((code, "", message)),
            _ => None,
        }
    }

    /// The numeric code, when the string starts with three digits and a colon.
    #[must_use]
    pub fn code(&self) -> Option<u16> {
        self.parts().map(|(c, _, _)| c)
    }

    /// The comma-separated arguments between the two colons.
    #[must_use]
    pub fn args(&self) -> Vec<&str> {
        self.parts()
            .map(|(_, a, _)| a.split(',').filter(|a| !a.is_empty()).collect())
            .unwrap_or_default()
    }

    /// The text after the code and arguments.
    #[must_use]
    pub fn message(&self) -> &str {
        self.parts().map_or(self.raw.as_str(), |(_, _, m)| m)
    }

    /// The string as the server sent it.
    #[must_use]
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for BayeuxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// What kind of failure a server error is, which decides what the core does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The Bayeux session is gone (`403::Unknown client`, `402::Unknown client`, a missing
    /// `BAYEUX_BROWSER` cookie, `Client has not completed handshake`): the core handshakes again
    /// and resubscribes every channel, whatever the advice says.
    SessionLost,
    /// The token is not accepted (`401::Authentication invalid`, `403::Handshake denied` with a
    /// `401` failure reason): the core fetches a new token, handshakes and resubscribes.
    Auth,
    /// A stored replay id is outside the retention window or unknown: the core applies the
    /// configured replay fallback once, or gives up on the channel.
    InvalidReplayId,
    /// The user lacks a permission for one channel: that channel fails, the others go on.
    Permission,
    /// The channel name is wrong (it does not exist, bad syntax, unknown filter fields): that
    /// channel fails, the others go on.
    Channel,
    /// An org or topic limit is reached (concurrent clients, daily events, subscriptions per
    /// topic): the core backs off with a long cap and tries again.
    Limit,
    /// The server is busy or failed (`503::Server is too busy`, HTTP 5xx, too many simultaneous
    /// connections): the core backs off with jitter and tries again; it never refreshes a token
    /// for this class.
    Transient,
    /// The configuration is wrong for every request (API version, connection type): the session
    /// stops with this error.
    Config,
    /// The server says the client sent something malformed (a replay map without the channel, a
    /// request over 32,768 bytes). This is a bug in sfstream: the core backs off and retries.
    ClientBug,
    /// A string this version of sfstream does not know: treated like [`ErrorClass::Transient`].
    Unknown,
}

impl ErrorClass {
    /// What the core does about an error of this class, in words for logs and error messages.
    #[must_use]
    pub fn action(self) -> &'static str {
        match self {
            Self::SessionLost => "handshaking again and resubscribing every channel",
            Self::Auth => "fetching a new token, then handshaking and resubscribing",
            Self::InvalidReplayId => {
                "applying the replay fallback once if one is configured, else giving up on this \
                 channel: subscribe from a replay id the server keeps, or configure a fallback"
            }
            Self::Permission => {
                "giving up on this channel: grant the user the permission it needs, then subscribe again"
            }
            Self::Channel => {
                "giving up on this channel: check its name (case-sensitive) and that it exists"
            }
            Self::Limit => "backing off and trying again later; check the org's streaming limits",
            Self::Transient | Self::Unknown => "backing off and trying again",
            Self::Config => "stopping: fix the configuration",
            Self::ClientBug => "backing off and trying again; please report this as a bug",
        }
    }
}

impl ErrorClass {
    /// The class of an HTTP status that came instead of a Bayeux reply.
    #[must_use]
    pub fn of_http_status(status: u16) -> Self {
        match status {
            401 | 403 => Self::Auth,
            413 => Self::ClientBug,
            404 => Self::Config,
            _ => Self::Transient,
        }
    }
}

/// Decides the class of a Bayeux error, with the `ext.sfdc.failureReason` beside it if any.
#[must_use]
pub(crate) fn classify(error: &BayeuxError, failure_reason: Option<&BayeuxError>) -> ErrorClass {
    if let Some(reason) = failure_reason {
        // The failure reason is the real cause. Salesforce sends `401::Authentication invalid`
        // with a `503::Server is too busy` reason: that is load, not a bad token.
        if reason.code() == Some(503) || reason.raw().contains("too busy") {
            return ErrorClass::Transient;
        }
        let by_reason = classify_one(reason);
        if by_reason != ErrorClass::Unknown {
            return by_reason;
        }
    }
    let class = classify_one(error);
    if class == ErrorClass::Unknown && error.message().contains("Handshake denied") {
        // A denied handshake without a readable reason: most often a token problem.
        return ErrorClass::Auth;
    }
    class
}

fn classify_one(e: &BayeuxError) -> ErrorClass {
    let m = e.raw();
    let has = |needle: &str| m.contains(needle);
    if has("Unknown client") || has("has not completed handshake") {
        return ErrorClass::SessionLost;
    }
    if has("has established a session, but no") && has("cookie present") {
        return ErrorClass::SessionLost;
    }
    if has("you provided was invalid") && has("replayId") {
        return ErrorClass::InvalidReplayId;
    }
    if has("wasn't found using the provided replay ID map") || e.code() == Some(413) {
        return ErrorClass::ClientBug;
    }
    if has("API version") || has("Invalid connection type") {
        return ErrorClass::Config;
    }
    if has("too busy") || has("simultaneous connections") || e.code() == Some(503) {
        return ErrorClass::Transient;
    }
    if has("concurrent user limit")
        || has("daily limit")
        || has("Subscription limit exceeded")
        || has("maximum channel limit")
    {
        return ErrorClass::Limit;
    }
    if has("doesn't exist")
        || has("does not exist")
        || has("Channel name not specified")
        || has("must start with a leading")
        || has("Query fields")
        || has("Unknown channel")
        || has("may not vary only by case")
    {
        return ErrorClass::Channel;
    }
    if has("Cannot create channel")
        || has("does not have access")
        || has("Restricted channel")
        || has("not enabled for streaming")
        || has("not allowed to subscribe")
        || has("No access on channel")
        || has("denied_by_security_policy")
        || has("does not match the session's user id")
    {
        return ErrorClass::Permission;
    }
    if e.code() == Some(401) || has("Authentication invalid") || has("requires authentication") {
        return ErrorClass::Auth;
    }
    ErrorClass::Unknown
}

/// Extracts `{X}` from `400::The replayId {X} you provided was invalid…`.
#[must_use]
pub fn invalid_replay_id(error: &BayeuxError) -> Option<i64> {
    let raw = error.raw();
    let start = raw.find("replayId {")? + "replayId {".len();
    let end = raw[start..].find('}')? + start;
    raw[start..end].trim().parse().ok()
}

/// An unsuccessful Bayeux reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// The meta channel of the reply (`/meta/connect`, `/meta/subscribe`, …).
    pub channel: String,
    /// The subscription the reply is about, for subscribe and unsubscribe.
    pub subscription: Option<String>,
    /// The `error` field.
    pub error: BayeuxError,
    /// `ext.sfdc.failureReason`, when Salesforce gave one.
    pub failure_reason: Option<BayeuxError>,
    /// What kind of failure this is.
    pub class: ErrorClass,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.channel)?;
        if let Some(s) = &self.subscription {
            write!(f, " for {s}")?;
        }
        write!(f, ": {}", self.error)?;
        if let Some(r) = &self.failure_reason {
            write!(f, " (reason: {r})")?;
        }
        match self.class {
            // A channel-level class on a request that is not about one channel (a handshake,
            // a long poll) ends the session.
            ErrorClass::Permission | ErrorClass::Channel if self.subscription.is_none() => {
                f.write_str("; stopping")
            }
            class => write!(f, "; {}", class.action()),
        }
    }
}

impl ServerError {
    /// Whether the session ends because of it: a configuration class, or a channel-level class
    /// on a request that is not about one channel.
    fn is_fatal(&self) -> bool {
        match self.class {
            ErrorClass::Config => true,
            ErrorClass::Permission | ErrorClass::Channel => self.subscription.is_none(),
            _ => false,
        }
    }
}

impl std::error::Error for ServerError {}

/// Everything that can go wrong, as events from the session and as results of commands.
///
/// Match on [`Error::kind`] rather than on the variants: the kind is stable and covers every
/// variant, while variants may gain fields. Texts say what happened; what the session does about
/// a failure it retries is said where it retries ([`Event::Reconnecting`](crate::Event)), not in
/// the error, which may also be returned as a final result.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Getting a token failed, or a token was refused.
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    /// The server answered a Bayeux message with `successful: false`.
    #[error("server error: {0}")]
    Server(#[from] ServerError),
    /// A request got no response.
    #[error("{kind} request failed: {error}", kind = .request.as_str())]
    Transport {
        /// What the request was for.
        request: RequestKind,
        /// Why it failed.
        error: TransportError,
    },
    /// A request got an HTTP status the core cannot use.
    #[error("{kind} request got HTTP {status}{hint}", kind = .request.as_str(), hint = status_hint(*.status))]
    HttpStatus {
        /// What the request was for.
        request: RequestKind,
        /// The status code.
        status: u16,
    },
    /// The server sent bytes that are not the Bayeux JSON the core expects. Nothing already
    /// committed is lost; the core retries.
    #[error("malformed response to a {kind} request: {detail}", kind = .request.as_str())]
    Protocol {
        /// What the request was for.
        request: RequestKind,
        /// What was wrong (never the body itself, which may carry secrets).
        detail: String,
    },
    /// The server has been unreachable for at least the configured connection timeout. The
    /// session keeps trying; it reports this once per outage.
    #[error("no working connection with the server for {:.1}s", .outage.as_secs_f64())]
    ConnectionLost {
        /// How long the outage has lasted.
        outage: Duration,
    },
    /// `subscribe` was called for a channel already subscribed (or waiting to be).
    #[error("already subscribed to {channel}")]
    AlreadySubscribed {
        /// The channel.
        channel: String,
    },
    /// `unsubscribe` or `commit` was called for a channel that is not subscribed.
    #[error("not subscribed to {channel}")]
    NotSubscribed {
        /// The channel.
        channel: String,
    },
    /// `commit` was called under [`CommitPolicy::Automatic`](crate::CommitPolicy), which commits
    /// each message when the application takes it.
    #[error(
        "commit() under the automatic commit policy: every message is committed when it is \
         taken; use CommitPolicy::Manual to commit after processing"
    )]
    AutomaticCommit,
    /// The session was told to do something its state does not allow.
    #[error("invalid operation: {0}")]
    InvalidOperation(String),
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The session is closed: by [`Session::close`](crate::Session::close) (`cause` is `None`)
    /// or after a failure retrying cannot fix (`cause`, the error the session ended with).
    #[error("{}", closed_text(.cause.as_deref()))]
    Closed {
        /// The failure that ended the session; `None` when the application closed it.
        cause: Option<Box<Error>>,
    },
}

fn closed_text(cause: Option<&Error>) -> String {
    match cause {
        None => "the session is closed".to_owned(),
        Some(e) => format!("the session ended after a failure: {e}"),
    }
}

impl Error {
    /// What kind of error this is (see [`ErrorKind`]).
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Auth(e) => auth_kind(e),
            Self::Server(e) => e.class.kind(),
            Self::Transport { .. } => ErrorKind::Transport,
            Self::HttpStatus { status, .. } => ErrorClass::of_http_status(*status).kind(),
            Self::Protocol { .. } => ErrorKind::Protocol,
            Self::ConnectionLost { .. } => ErrorKind::ConnectionLost,
            Self::AlreadySubscribed { .. } => ErrorKind::AlreadySubscribed,
            Self::NotSubscribed { .. } => ErrorKind::NotSubscribed,
            Self::AutomaticCommit => ErrorKind::AutomaticCommit,
            Self::InvalidOperation(_) => ErrorKind::InvalidOperation,
            Self::Config(_) => ErrorKind::Configuration,
            Self::Closed { cause: None } => ErrorKind::ClosedByUser,
            Self::Closed { cause: Some(_) } => ErrorKind::ClosedByFailure,
        }
    }

    /// The channel the error is about, for channel-level errors (a subscription the server
    /// refused, a channel subscribed twice or not at all). The other channels go on.
    #[must_use]
    pub fn channel(&self) -> Option<&str> {
        match self {
            Self::Server(e) => e.subscription.as_deref(),
            Self::AlreadySubscribed { channel } | Self::NotSubscribed { channel } => Some(channel),
            _ => None,
        }
    }

    /// Whether the session has ended (or ends) because of this error: refused credentials, an
    /// unusable configuration, a closed session. No call succeeds afterwards without a new
    /// session and, but for a user's close, a change of configuration.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Auth(e) => !e.is_transient(),
            Self::Server(e) => e.is_fatal(),
            Self::HttpStatus { status, .. } => {
                ErrorClass::of_http_status(*status) == ErrorClass::Config
            }
            Self::Config(_) | Self::Closed { .. } => true,
            Self::Transport { .. }
            | Self::Protocol { .. }
            | Self::ConnectionLost { .. }
            | Self::AlreadySubscribed { .. }
            | Self::NotSubscribed { .. }
            | Self::AutomaticCommit
            | Self::InvalidOperation(_) => false,
        }
    }

    /// Whether the same thing may succeed later without any change: the server was busy or out
    /// of reach, a limit was reached, a token expired. The session retries these itself; an
    /// application that got one from a call may call again.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Auth(e) => e.is_transient(),
            Self::Server(e) => e.class.is_retried(),
            Self::HttpStatus { status, .. } => ErrorClass::of_http_status(*status).is_retried(),
            Self::Transport { .. } | Self::Protocol { .. } | Self::ConnectionLost { .. } => true,
            Self::AlreadySubscribed { .. }
            | Self::NotSubscribed { .. }
            | Self::AutomaticCommit
            | Self::InvalidOperation(_)
            | Self::Config(_)
            | Self::Closed { .. } => false,
        }
    }

    /// The transport failure, for a request that got no response: which kind of failure it was
    /// ([`TransportError::kind`]).
    #[must_use]
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            Self::Transport { error, .. } => Some(error),
            _ => None,
        }
    }

    /// For a closed session: the failure that ended it (`None` when the application closed it,
    /// or for any other error).
    #[must_use]
    pub fn closed_cause(&self) -> Option<&Error> {
        match self {
            Self::Closed { cause } => cause.as_deref(),
            _ => None,
        }
    }
}

/// The kind of an OAuth failure: a refusal of the credentials is an authentication error; an
/// endpoint that is busy is the server's; credentials of the wrong shape, an unusable key or a
/// login URL that is no token endpoint are configuration errors.
pub(crate) fn auth_kind(e: &AuthError) -> ErrorKind {
    match e {
        AuthError::InvalidConfig { .. } | AuthError::InvalidKey { .. } => ErrorKind::Configuration,
        e if e.is_transient() => ErrorKind::Server,
        e if e.is_not_a_token_endpoint() => ErrorKind::Configuration,
        _ => ErrorKind::Authentication,
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (the token was refused)",
        404 => " (wrong instance URL or API version?)",
        413 => " (request too large: a bug in sfstream, please report it)",
        500..=599 => " (server failure)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(e: &str, reason: Option<&str>) -> ErrorClass {
        let reason = reason.map(BayeuxError::parse);
        classify(&BayeuxError::parse(e), reason.as_ref())
    }

    #[test]
    fn parses_code_args_message() {
        let e = BayeuxError::parse("403::Unknown client");
        assert_eq!(e.code(), Some(403));
        assert!(e.args().is_empty());
        assert_eq!(e.message(), "Unknown client");
        let e = BayeuxError::parse("403:denied_by_security_policy:create_denied");
        assert_eq!(e.args(), vec!["denied_by_security_policy"]);
        assert_eq!(e.message(), "create_denied");
        let e = BayeuxError::parse("something odd");
        assert_eq!(e.code(), None);
        assert_eq!(e.message(), "something odd");
    }

    #[test]
    fn classifies_the_reference_table() {
        use ErrorClass::*;
        assert_eq!(class("403::Unknown client", None), SessionLost);
        assert_eq!(class("402::Unknown client", None), SessionLost);
        assert_eq!(
            class("403::Client has not completed handshake", None),
            SessionLost
        );
        assert_eq!(
            class(
                "400::Client abc has established a session, but no BAYEUX_BROWSER cookie present",
                None
            ),
            SessionLost
        );
        assert_eq!(class("401::Authentication invalid", None), Auth);
        assert_eq!(
            class("403::Handshake denied", Some("401::Authentication invalid")),
            Auth
        );
        assert_eq!(
            class(
                "401::Authentication invalid",
                Some("503::Server is too busy.  Please try your request again later.")
            ),
            Transient
        );
        assert_eq!(
            class(
                "403::Handshake denied",
                Some("403::Organization concurrent user limit exceeded")
            ),
            Limit
        );
        assert_eq!(
            class("403::Organization total events daily limit exceeded", None),
            Limit
        );
        assert_eq!(
            class(
                "400::The replayId {1553783} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.",
                None
            ),
            InvalidReplayId
        );
        assert_eq!(
            class(
                "400::The channel you requested to subscribe to doesn't exist {/topic/x}",
                None
            ),
            Channel
        );
        assert_eq!(class("403::Restricted channel", None), Permission);
        assert_eq!(
            class("403:denied_by_security_policy:create_denied", None),
            Permission
        );
        assert_eq!(
            class(
                "400::API version in the URI is mandatory. URI format: '/cometd/66.0'",
                None
            ),
            Config
        );
        assert_eq!(class("500::Boom", None), Unknown);
    }

    #[test]
    fn extracts_the_invalid_replay_id() {
        let e = BayeuxError::parse(
            "400::The replayId {1553783} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.",
        );
        assert_eq!(invalid_replay_id(&e), Some(1553783));
        assert_eq!(invalid_replay_id(&BayeuxError::parse("400::nope")), None);
    }
}
