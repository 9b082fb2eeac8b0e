//! Exit codes, and the one-message failures that lead to them.

use std::process::ExitCode;

use sfstream_tokio::Error;
use sfstream_tokio::ErrorKind;
use sfstream_tokio::core::Error as CoreError;
use sfstream_tokio::core::oauth::AuthError;

/// Why the process exits. The numbers are documented in `sfstream --help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 1: anything else.
    Other = 1,
    /// 2: bad usage or configuration.
    Config = 2,
    /// 3: authentication refused.
    Auth = 3,
    /// 4: a subscription failed.
    Subscription = 4,
    /// 5: the server could not be reached.
    Unreachable = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A failure: an exit code and one message that says what is wrong and what to do. Messages never
/// contain a secret.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The exit code.
    pub(crate) exit: Exit,
    /// What to tell the user.
    pub(crate) message: String,
}

impl Failure {
    /// A failure with this exit code.
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    /// A configuration failure (exit 2).
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(Exit::Config, message)
    }

    /// Any other failure (exit 1).
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self::new(Exit::Other, message)
    }

    /// Classifies a client error by its kind. `server` names the server for "unreachable"
    /// messages. A client stopped by a failure is classified by that failure.
    pub(crate) fn from_client(error: &Error, server: &str) -> Self {
        if let Some(cause) = error.closed_cause() {
            return Self::from_client(cause, server);
        }
        match (error.kind(), error) {
            (_, Error::Store(e)) => Self::other(format!("{e}")),
            (ErrorKind::ClosedByUser, _) => Self::other("the streaming session ended unexpectedly"),
            (ErrorKind::NotOpen, _) => Self::other("internal error: the client is not open"),
            (_, Error::Stream(e)) => Self::from_core(e, server),
            (_, other) => Self::other(other.to_string()),
        }
    }

    fn from_core(error: &CoreError, server: &str) -> Self {
        match (error.kind(), error) {
            (_, CoreError::Auth(AuthError::InvalidConfig { detail })) => {
                Self::config(format!("invalid credentials configuration: {detail}"))
            }
            (_, CoreError::Auth(AuthError::InvalidKey { detail })) => Self::config(format!(
                "the JWT key (SF_JWT_KEY_FILE or --jwt-key-file) cannot be used: {detail}"
            )),
            (_, CoreError::Auth(e)) if e.is_not_a_token_endpoint() => Self::config(format!(
                "the login URL ({server}; SF_LOGIN_URL or --login-url) does not lead to a \
                 Salesforce token endpoint ({e}). Check the URL: the org's My Domain \
                 (https://MyDomainName.my.salesforce.com), login.salesforce.com or \
                 test.salesforce.com"
            )),
            (ErrorKind::Authentication, CoreError::HttpStatus { .. }) => Self::new(
                Exit::Auth,
                format!("{error}: check the access token and instance URL, or use another flow"),
            ),
            (ErrorKind::Authentication, CoreError::Auth(e)) => {
                Self::new(Exit::Auth, format!("authentication refused: {e}"))
            }
            (ErrorKind::Authentication, _) => Self::new(Exit::Auth, error.to_string()),
            (ErrorKind::Replay, _) => Self::new(
                Exit::Subscription,
                format!(
                    "{error}. The server does not have this replay id: it is older than the \
                     server keeps, or newer than any event of the channel. Pass --fallback to \
                     replay every retained event instead (or --fallback=new to skip to new \
                     events)"
                ),
            ),
            (ErrorKind::Channel | ErrorKind::Permission, _) => {
                Self::new(Exit::Subscription, error.to_string())
            }
            (ErrorKind::ConnectionLost, CoreError::ConnectionLost { outage }) => Self::new(
                Exit::Unreachable,
                format!(
                    "could not reach {server} for {:.1}s; giving up. Check the login URL \
                     (SF_LOGIN_URL or --login-url), the instance URL and the network; \
                     --give-up-after sets how long to keep trying",
                    outage.as_secs_f64()
                ),
            ),
            (_, CoreError::Config(m)) => Self::config(format!("invalid configuration: {m}")),
            (ErrorKind::Configuration, _) => Self::config(error.to_string()),
            (
                ErrorKind::InvalidOperation
                | ErrorKind::AlreadySubscribed
                | ErrorKind::NotSubscribed
                | ErrorKind::AutomaticCommit,
                _,
            ) => Self::config(error.to_string()),
            _ => Self::other(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn classes_map_to_documented_codes() {
        let lost = Error::Stream(CoreError::ConnectionLost {
            outage: Duration::from_secs(3),
        });
        assert_eq!(Failure::from_client(&lost, "x").exit, Exit::Unreachable);
        let auth = Error::Stream(CoreError::Auth(AuthError::Rejected {
            status: 400,
            error: "invalid_grant".into(),
            description: "authentication failure".into(),
        }));
        let f = Failure::from_client(&auth, "x");
        assert_eq!(f.exit, Exit::Auth);
        assert!(f.message.contains("security token"), "{}", f.message);
        let config = Error::Stream(CoreError::Config("bad".into()));
        assert_eq!(Failure::from_client(&config, "x").exit, Exit::Config);
        let refused = Error::Stream(CoreError::Auth(AuthError::TokenRefused {
            detail: "the server refused it".into(),
        }));
        assert_eq!(Failure::from_client(&refused, "x").exit, Exit::Auth);
        assert_eq!(ExitCode::from(Exit::Unreachable), ExitCode::from(5));
    }
}
