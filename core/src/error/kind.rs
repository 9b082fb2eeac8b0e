//! What kind of error an error is, for applications to match on, and what follows from it.
//!
//! Every error of the core and of the client maps to one [`ErrorKind`] (one place each:
//! [`Error::kind`](crate::Error::kind), [`ErrorClass::kind`]). The kind is stable: new kinds may
//! come, existing ones keep their meaning.

use std::fmt;

use super::ErrorClass;

/// What kind of error an error is. Applications match on it instead of on error variants or
/// texts; `as_str` gives a stable name for logs and metrics.
///
/// Whether the client has stopped because of an error, and whether trying again may help, are
/// properties of the error value (`is_fatal`, `is_retryable`): an authentication error is fatal
/// when the credentials were refused, not when the token endpoint was busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials or the access token were refused (a wrong password or secret, a revoked
    /// refresh token, a ready token the server refused and that cannot be renewed). Fix the
    /// credentials.
    Authentication,
    /// The user lacks a permission a channel needs. That channel failed; grant the permission and
    /// subscribe again.
    Permission,
    /// A channel's name is wrong: it does not exist, its syntax is wrong, or its filter names
    /// unknown fields. That channel failed; the error names it.
    Channel,
    /// The server refused a channel's replay id (older than it keeps, or newer than any event)
    /// and no fallback applied. That channel failed; subscribe it from an id the server keeps,
    /// or configure a replay fallback.
    Replay,
    /// An org or topic limit is reached (concurrent clients, daily events, subscriptions).
    Limit,
    /// The server failed or was busy (HTTP 5xx, `503::Server is too busy`), or lost the session.
    Server,
    /// The server's answer could not be read (not the JSON the protocol defines).
    Protocol,
    /// A request got no response: network, DNS, TLS, a timeout. See
    /// [`TransportError::kind`](crate::TransportError::kind) for which.
    Transport,
    /// The server has been out of reach for the configured connection timeout. The client keeps
    /// trying; the next call may succeed.
    ConnectionLost,
    /// The configuration cannot work: a URL, an API version, a setting, the credentials' shape, a
    /// login URL that is not a token endpoint, a redirect to another host.
    Configuration,
    /// `subscribe` was called for a channel that is already subscribed.
    AlreadySubscribed,
    /// `unsubscribe` or `commit` was called for a channel that is not subscribed.
    NotSubscribed,
    /// `commit` was called under the automatic commit policy, which commits each message as it
    /// is taken: nothing to do, and a sign that the manual policy was meant.
    AutomaticCommit,
    /// A call the client's state does not allow (opening twice, committing a message without a
    /// replay id, giving stored ids after opening).
    InvalidOperation,
    /// The call needs an open client: call `open` first.
    NotOpen,
    /// The replay store failed (a file that cannot be written, a lock held by another process).
    Store,
    /// The application closed the client.
    ClosedByUser,
    /// The client stopped after a failure that retrying cannot fix; the error carries it.
    ClosedByFailure,
    /// A close with a time bound ran out of time; the error says what was not finished.
    CloseTimedOut,
}

impl ErrorKind {
    /// A stable lower-case name (`"authentication"`, `"closed_by_user"` …), for logs and
    /// metrics.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::Permission => "permission",
            Self::Channel => "channel",
            Self::Replay => "replay",
            Self::Limit => "limit",
            Self::Server => "server",
            Self::Protocol => "protocol",
            Self::Transport => "transport",
            Self::ConnectionLost => "connection_lost",
            Self::Configuration => "configuration",
            Self::AlreadySubscribed => "already_subscribed",
            Self::NotSubscribed => "not_subscribed",
            Self::AutomaticCommit => "automatic_commit",
            Self::InvalidOperation => "invalid_operation",
            Self::NotOpen => "not_open",
            Self::Store => "store",
            Self::ClosedByUser => "closed_by_user",
            Self::ClosedByFailure => "closed_by_failure",
            Self::CloseTimedOut => "close_timed_out",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorClass {
    /// The kind of error a server error of this class is.
    #[must_use]
    pub fn kind(self) -> ErrorKind {
        match self {
            Self::Auth => ErrorKind::Authentication,
            Self::InvalidReplayId => ErrorKind::Replay,
            Self::Permission => ErrorKind::Permission,
            Self::Channel => ErrorKind::Channel,
            Self::Limit => ErrorKind::Limit,
            Self::Config => ErrorKind::Configuration,
            Self::SessionLost | Self::Transient | Self::ClientBug | Self::Unknown => {
                ErrorKind::Server
            }
        }
    }

    /// Whether the core tries again after an error of this class (on a session that lives on):
    /// the classes whose [`action`](Self::action) is to back off, handshake or authenticate
    /// again.
    #[must_use]
    pub fn is_retried(self) -> bool {
        match self {
            Self::SessionLost
            | Self::Auth
            | Self::Limit
            | Self::Transient
            | Self::ClientBug
            | Self::Unknown => true,
            Self::InvalidReplayId | Self::Permission | Self::Channel | Self::Config => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::ErrorKind::{self, *};
    use crate::error::{BayeuxError, Error, ErrorClass, ServerError};
    use crate::oauth::AuthError;
    use crate::transmit::{RequestKind, TransportError};

    fn server(class: ErrorClass, subscription: Option<&str>) -> Error {
        let channel = if subscription.is_some() {
            "/meta/subscribe"
        } else {
            "/meta/handshake"
        };
        Error::Server(ServerError {
            channel: channel.into(),
            subscription: subscription.map(str::to_owned),
            error: BayeuxError::parse("400::something"),
            failure_reason: None,
            class,
        })
    }

    fn rejected(status: u16, error: &str) -> Error {
        Error::Auth(AuthError::Rejected {
            status,
            error: error.into(),
            description: "authentication failure".into(),
        })
    }

    /// Every variant (and every class of server error): its kind, whether it is fatal,
    /// whether it is retryable, and the channel it names.
    #[test]
    fn every_error_maps_to_a_kind_fatality_and_retryability() {
        let cases: Vec<(Error, ErrorKind, bool, bool, Option<&str>)> = vec![
            (
                rejected(400, "invalid_grant"),
                Authentication,
                true,
                false,
                None,
            ),
            (rejected(503, "server_error"), Server, false, true, None),
            (
                rejected(400, "rate_limit_exceeded"),
                Server,
                false,
                true,
                None,
            ),
            (
                Error::Auth(AuthError::TokenRefused { detail: "x".into() }),
                Authentication,
                true,
                false,
                None,
            ),
            (
                Error::Auth(AuthError::InvalidConfig { detail: "x".into() }),
                Configuration,
                true,
                false,
                None,
            ),
            (
                Error::Auth(AuthError::InvalidKey { detail: "x".into() }),
                Configuration,
                true,
                false,
                None,
            ),
            (
                Error::Auth(AuthError::Malformed {
                    status: 404,
                    detail: "x".into(),
                }),
                Configuration,
                true,
                false,
                None,
            ),
            (
                Error::Auth(AuthError::Malformed {
                    status: 502,
                    detail: "x".into(),
                }),
                Server,
                false,
                true,
                None,
            ),
            (
                server(ErrorClass::SessionLost, None),
                Server,
                false,
                true,
                None,
            ),
            (
                server(ErrorClass::Auth, None),
                Authentication,
                false,
                true,
                None,
            ),
            (
                server(ErrorClass::InvalidReplayId, Some("/topic/A")),
                Replay,
                false,
                false,
                Some("/topic/A"),
            ),
            (
                server(ErrorClass::Permission, Some("/topic/A")),
                Permission,
                false,
                false,
                Some("/topic/A"),
            ),
            (
                server(ErrorClass::Permission, None),
                Permission,
                true,
                false,
                None,
            ),
            (
                server(ErrorClass::Channel, Some("/topic/Nope")),
                Channel,
                false,
                false,
                Some("/topic/Nope"),
            ),
            (
                server(ErrorClass::Channel, None),
                Channel,
                true,
                false,
                None,
            ),
            (server(ErrorClass::Limit, None), Limit, false, true, None),
            (
                server(ErrorClass::Transient, None),
                Server,
                false,
                true,
                None,
            ),
            (
                server(ErrorClass::Config, None),
                Configuration,
                true,
                false,
                None,
            ),
            (
                server(ErrorClass::ClientBug, None),
                Server,
                false,
                true,
                None,
            ),
            (server(ErrorClass::Unknown, None), Server, false, true, None),
            (
                Error::Transport {
                    request: RequestKind::Connect,
                    error: TransportError::Timeout,
                },
                Transport,
                false,
                true,
                None,
            ),
            (
                Error::HttpStatus {
                    request: RequestKind::Handshake,
                    status: 503,
                },
                Server,
                false,
                true,
                None,
            ),
            (
                Error::HttpStatus {
                    request: RequestKind::Handshake,
                    status: 401,
                },
                Authentication,
                false,
                true,
                None,
            ),
            (
                Error::HttpStatus {
                    request: RequestKind::Handshake,
                    status: 404,
                },
                Configuration,
                true,
                false,
                None,
            ),
            (
                Error::Protocol {
                    request: RequestKind::Connect,
                    detail: "x".into(),
                },
                Protocol,
                false,
                true,
                None,
            ),
            (
                Error::ConnectionLost {
                    outage: Duration::from_secs(3),
                },
                ConnectionLost,
                false,
                true,
                None,
            ),
            (
                Error::AlreadySubscribed {
                    channel: "/topic/A".into(),
                },
                AlreadySubscribed,
                false,
                false,
                Some("/topic/A"),
            ),
            (
                Error::NotSubscribed {
                    channel: "/topic/B".into(),
                },
                NotSubscribed,
                false,
                false,
                Some("/topic/B"),
            ),
            (Error::AutomaticCommit, AutomaticCommit, false, false, None),
            (
                Error::InvalidOperation("x".into()),
                InvalidOperation,
                false,
                false,
                None,
            ),
            (Error::Config("x".into()), Configuration, true, false, None),
            (
                Error::Closed { cause: None },
                ClosedByUser,
                true,
                false,
                None,
            ),
            (
                Error::Closed {
                    cause: Some(Box::new(rejected(400, "invalid_grant"))),
                },
                ClosedByFailure,
                true,
                false,
                None,
            ),
        ];
        for (error, kind, fatal, retryable, channel) in cases {
            assert_eq!(error.kind(), kind, "{error:?}");
            assert_eq!(error.is_fatal(), fatal, "is_fatal of {error:?}");
            assert_eq!(error.is_retryable(), retryable, "is_retryable of {error:?}");
            assert_eq!(error.channel(), channel, "channel of {error:?}");
            assert!(
                !(fatal && retryable),
                "{error:?} is both fatal and retryable"
            );
        }
    }

    #[test]
    fn a_closed_error_carries_its_cause() {
        let cause = rejected(400, "invalid_grant");
        let closed = Error::Closed {
            cause: Some(Box::new(cause)),
        };
        let inner = closed.closed_cause().expect("a cause");
        assert_eq!(inner.kind(), Authentication);
        assert!(
            closed.to_string().contains("ended after a failure"),
            "{closed}"
        );
        assert!(Error::Closed { cause: None }.closed_cause().is_none());
        assert_eq!(
            Error::Closed { cause: None }.to_string(),
            "the session is closed"
        );
    }

    /// Texts returned as final results promise no retry.
    #[test]
    fn texts_do_not_promise_retries() {
        let texts = [
            Error::Transport {
                request: RequestKind::Token,
                error: TransportError::Connect("connection refused".into()),
            }
            .to_string(),
            Error::HttpStatus {
                request: RequestKind::Handshake,
                status: 502,
            }
            .to_string(),
            Error::ConnectionLost {
                outage: Duration::from_secs(3),
            }
            .to_string(),
            server(ErrorClass::Channel, None).to_string(),
        ];
        for text in texts {
            assert!(!text.contains("retrying"), "{text}");
            assert!(!text.contains("giving up on this channel"), "{text}");
        }
        let channel = server(ErrorClass::Channel, Some("/topic/Nope")).to_string();
        assert!(channel.contains("giving up on this channel"), "{channel}");
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(Authentication.as_str(), "authentication");
        assert_eq!(ClosedByFailure.to_string(), "closed_by_failure");
        assert_eq!(ErrorClass::Channel.kind(), Channel);
        assert!(!ErrorClass::Channel.is_retried());
        assert!(ErrorClass::Limit.is_retried());
    }
}
