//! Why a token could not be obtained.

/// Why no token was obtained.
///
/// Display text explains the usual fix; no variant ever contains a secret or a response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused: Salesforce's `{"error", "error_description"}`.
    #[error("{}", rejected_message(.status, .error, .description))]
    Rejected {
        /// HTTP status (usually 400).
        status: u16,
        /// The OAuth `error` code, e.g. `invalid_grant`.
        error: String,
        /// Salesforce's `error_description`, e.g. `authentication failure` (bounded length).
        description: String,
    },
    /// The reply was neither a token nor an OAuth error.
    #[error("unusable token endpoint response (HTTP {status}): {detail}")]
    Malformed {
        /// HTTP status.
        status: u16,
        /// Safe facts only: status, length, missing field, JSON error position.
        detail: String,
    },
    /// The JWT signing key could not be parsed or used.
    #[error("JWT signing key: {detail}")]
    InvalidKey {
        /// What is wrong with the key (never its contents).
        detail: String,
    },
    /// The server refused the access token, and the credentials cannot fetch another (a ready
    /// token was configured).
    #[error("access token refused: {detail}")]
    TokenRefused {
        /// What the server said and what to do.
        detail: String,
    },
    /// The credentials are incomplete or unsafe to use.
    #[error("OAuth configuration: {detail}")]
    InvalidConfig {
        /// What to change.
        detail: String,
    },
}

impl AuthError {
    /// The usual fix for a [`AuthError::Rejected`] error, if the code/description is a known one.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Rejected {
                error, description, ..
            } => rejected_hint(error, description),
            _ => None,
        }
    }

    /// Whether the reply came from something that is not an OAuth token endpoint: a success or
    /// a 4xx (other than 429) that is neither a token nor an OAuth error, such as a 404 or an
    /// HTML page. The URL the token request went to is wrong (usually the login URL); the
    /// credentials may be fine, and retrying cannot help.
    #[must_use]
    pub fn is_not_a_token_endpoint(&self) -> bool {
        matches!(self, Self::Malformed { .. }) && !self.is_transient()
    }

    /// Whether retrying the same request later may succeed (server trouble, rate limiting),
    /// as opposed to a configuration or credential problem that needs the user.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Rejected { status, error, .. } => {
                *status >= 500 || *status == 429 || error == "rate_limit_exceeded"
            }
            Self::Malformed { status, .. } => *status >= 500 || *status == 429,
            Self::InvalidKey { .. } | Self::InvalidConfig { .. } | Self::TokenRefused { .. } => {
                false
            }
        }
    }
}

pub(super) fn rejected_message(status: &u16, error: &str, description: &str) -> String {
    let mut msg = format!("token request rejected (HTTP {status}): {error}");
    if !description.is_empty() {
        msg.push_str(": ");
        msg.push_str(description);
    }
    if let Some(hint) = rejected_hint(error, description) {
        msg.push_str(" — ");
        msg.push_str(hint);
    }
    msg
}

/// The usual causes of Salesforce's token errors (reference §1.1).
pub(super) fn rejected_hint(error: &str, description: &str) -> Option<&'static str> {
    let d = description.to_ascii_lowercase();
    let hint = match error {
        _ if d.contains("request not supported on this domain") => {
            "the client credentials flow must use the org's My Domain login URL \
             (https://MyDomainName.my.salesforce.com), not login.salesforce.com or test.salesforce.com"
        }
        _ if d.contains("no client credentials user enabled") => {
            "set a \"Run As\" user in the Connected App's client credentials flow settings"
        }
        _ if d.contains("hasn't approved this consumer") || d.contains("has not approved") => {
            "pre-authorize the Connected App for this user (Permitted Users: \"Admin approved users \
             are pre-authorized\", then add the user's profile or permission set); the JWT bearer \
             flow needs this; also check that the JWT audience is https://login.salesforce.com \
             (https://test.salesforce.com for sandboxes)"
        }
        _ if d.contains("audience is invalid") => {
            "the JWT audience must be https://login.salesforce.com (production), \
             https://test.salesforce.com (sandbox) or the Experience Cloud site URL"
        }
        _ if d.contains("expired access/refresh token") => {
            "the refresh token was revoked or expired: authorize again to get a new one"
        }
        _ if d.contains("authentication failure") => {
            "check the username, the password with the user's security token appended, the \
             user's login IP ranges or the app's IP relaxation, that the username-password flow is \
             allowed in the org (blocked by default since Summer '23), and that the login URL is \
             the org's (production, sandbox or My Domain)"
        }
        "invalid_client_id" => {
            "check the consumer key (client_id); a new Connected App can take up to 10 minutes to \
             become usable"
        }
        "invalid_client" | "invalid_client_credentials" => {
            "check the consumer key (client_id) and consumer secret (client_secret)"
        }
        "inactive_user" => "the user is inactive: activate it or use another user",
        "inactive_org" => "the org is locked, closed or suspended",
        "rate_limit_exceeded" => "too many login attempts: wait before trying again",
        "invalid_app_access" => {
            "the user is not admin-approved for this app: add the user's profile or permission set \
             to the Connected App"
        }
        "unsupported_grant_type" => "this OAuth flow is not enabled for the Connected App or org",
        "invalid_grant" => {
            "the credentials or grant were refused: check them and the Connected App's OAuth policies"
        }
        _ => return None,
    };
    Some(hint)
}
