//! Credentials and the token requests built from them.

use std::fmt;
use std::time::SystemTime;

use http::{Method, Request, header};

use super::jwt::{self, JwtKey};
use super::*;
use crate::secret::Secret;

/// How the client obtains an access token.
///
/// `Debug` is safe to log: secrets print as `***`, and so does the user info of a URL.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// Username-password flow (blocked by default in orgs created since Summer '23).
    Password {
        /// The Connected App's consumer key.
        client_id: String,
        /// The Connected App's consumer secret.
        client_secret: Secret,
        /// The Salesforce username.
        username: String,
        /// The password with the user's security token appended.
        password: Secret,
        /// Where to log in.
        login: LoginUrl,
    },
    /// Refresh-token flow. An empty `client_secret` is left out of the request, for Connected
    /// Apps that do not require the secret for this flow.
    RefreshToken {
        /// The Connected App's consumer key.
        client_id: String,
        /// The Connected App's consumer secret (may be empty, see above).
        client_secret: Secret,
        /// The refresh token from an earlier interactive authorization.
        refresh_token: Secret,
        /// Where to log in.
        login: LoginUrl,
    },
    /// JWT bearer flow: an RS256 assertion signed with the key whose certificate is uploaded to
    /// the Connected App; the user must be pre-authorized for the app.
    JwtBearer {
        /// The Connected App's consumer key (the `iss` claim).
        client_id: String,
        /// The Salesforce username (the `sub` claim).
        username: String,
        /// The RSA private key.
        key: JwtKey,
        /// Where to log in.
        login: LoginUrl,
        /// The `aud` claim; `None` means [`LoginUrl::default_audience`].
        audience: Option<String>,
    },
    /// Client credentials flow, with a "Run As" user configured on the Connected App. Salesforce
    /// accepts it only on the org's My Domain host, so `login` must be [`LoginUrl::Custom`].
    ClientCredentials {
        /// The Connected App's consumer key.
        client_id: String,
        /// The Connected App's consumer secret.
        client_secret: Secret,
        /// The My Domain login URL.
        login: LoginUrl,
    },
    /// An access token obtained elsewhere; nothing to fetch, and nothing to refresh.
    AccessToken {
        /// The access token (session id).
        access_token: Secret,
        /// The instance the token belongs to, e.g. `https://MyDomainName.my.salesforce.com`.
        instance_url: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field by hand: a field added to a variant shows only once it is known to be safe.
        match self {
            Self::Password {
                client_id,
                client_secret,
                username,
                password,
                login,
            } => f
                .debug_struct("Password")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("username", username)
                .field("password", password)
                .field("login", login)
                .finish(),
            Self::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
                login,
            } => f
                .debug_struct("RefreshToken")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("refresh_token", refresh_token)
                .field("login", login)
                .finish(),
            Self::JwtBearer {
                client_id,
                username,
                key,
                login,
                audience,
            } => f
                .debug_struct("JwtBearer")
                .field("client_id", client_id)
                .field("username", username)
                .field("key", key)
                .field("login", login)
                .field("audience", audience)
                .finish(),
            Self::ClientCredentials {
                client_id,
                client_secret,
                login,
            } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("login", login)
                .finish(),
            Self::AccessToken {
                access_token,
                instance_url,
            } => f
                .debug_struct("AccessToken")
                .field("access_token", access_token)
                .field("instance_url", &redact_userinfo(instance_url))
                .finish(),
        }
    }
}

impl Credentials {
    /// The username-password flow. `password` is the password with the user's security token
    /// appended; `login` is [`LoginUrl::Production`], [`LoginUrl::Sandbox`] or a URL (a `&str`
    /// or `String` converts into [`LoginUrl::Custom`]).
    pub fn password(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
        login: impl Into<LoginUrl>,
    ) -> Self {
        Self::Password {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            username: username.into(),
            password: password.into(),
            login: login.into(),
        }
    }

    /// The refresh-token flow (an empty `client_secret` is left out of the request).
    pub fn refresh_token(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
        login: impl Into<LoginUrl>,
    ) -> Self {
        Self::RefreshToken {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
            login: login.into(),
        }
    }

    /// The JWT bearer flow, with the login URL's default audience
    /// ([`LoginUrl::default_audience`]).
    pub fn jwt_bearer(
        client_id: impl Into<String>,
        username: impl Into<String>,
        key: JwtKey,
        login: impl Into<LoginUrl>,
    ) -> Self {
        Self::JwtBearer {
            client_id: client_id.into(),
            username: username.into(),
            key,
            login: login.into(),
            audience: None,
        }
    }

    /// The client credentials flow; `login` must be the org's My Domain URL.
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        login: impl Into<LoginUrl>,
    ) -> Self {
        Self::ClientCredentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            login: login.into(),
        }
    }

    /// A ready access token and the instance it belongs to.
    pub fn access_token(access_token: impl Into<Secret>, instance_url: impl Into<String>) -> Self {
        Self::AccessToken {
            access_token: access_token.into(),
            instance_url: instance_url.into(),
        }
    }

    /// The flow's name: `password`, `refresh_token`, `jwt_bearer`, `client_credentials` or
    /// `access_token`.
    #[must_use]
    pub fn flow_name(&self) -> &'static str {
        match self {
            Self::Password { .. } => "password",
            Self::RefreshToken { .. } => "refresh_token",
            Self::JwtBearer { .. } => "jwt_bearer",
            Self::ClientCredentials { .. } => "client_credentials",
            Self::AccessToken { .. } => "access_token",
        }
    }

    /// The login URL, or `None` for [`Credentials::AccessToken`].
    #[must_use]
    pub fn login(&self) -> Option<&LoginUrl> {
        match self {
            Self::Password { login, .. }
            | Self::RefreshToken { login, .. }
            | Self::JwtBearer { login, .. }
            | Self::ClientCredentials { login, .. } => Some(login),
            Self::AccessToken { .. } => None,
        }
    }

    /// Whether asking again can yield a different token. False for a ready access token: when
    /// the server rejects it, the user must supply a new one.
    #[must_use]
    pub fn can_refresh(&self) -> bool {
        !matches!(self, Self::AccessToken { .. })
    }

    /// Checks the configuration without building a request: required fields non-empty, login and
    /// instance URLs `https` (or loopback `http`), client credentials on a My Domain URL.
    pub fn validate(&self) -> Result<(), AuthError> {
        match self {
            Self::Password {
                client_id,
                client_secret,
                username,
                password,
                login,
            } => {
                require_client_id(client_id)?;
                require_secret(client_secret, "client_secret (the consumer secret)")?;
                require_text(username, "username")?;
                require_secret(password, "password")?;
                login.validate()
            }
            Self::RefreshToken {
                client_id,
                refresh_token,
                login,
                ..
            } => {
                require_client_id(client_id)?;
                require_secret(refresh_token, "refresh_token")?;
                login.validate()
            }
            Self::JwtBearer {
                client_id,
                username,
                login,
                audience,
                ..
            } => {
                require_client_id(client_id)?;
                require_text(username, "username")?;
                if let Some(aud) = audience {
                    require_text(aud, "audience")?;
                }
                login.validate()
            }
            Self::ClientCredentials {
                client_id,
                client_secret,
                login,
            } => {
                require_client_id(client_id)?;
                require_secret(client_secret, "client_secret (the consumer secret)")?;
                if matches!(login, LoginUrl::Production | LoginUrl::Sandbox) {
                    return Err(config(
                        "the client credentials flow must use the org's My Domain login URL \
                         (LoginUrl::Custom(\"https://MyDomainName.my.salesforce.com\")); \
                         login.salesforce.com and test.salesforce.com answer \
                         \"request not supported on this domain\"",
                    ));
                }
                login.validate()
            }
            Self::AccessToken {
                access_token,
                instance_url,
            } => {
                require_secret(access_token, "access_token")?;
                if !is_header_safe(access_token.expose()) {
                    return Err(config(
                        "access_token contains characters that cannot go in an HTTP header",
                    ));
                }
                check_url_scheme(instance_url).map_err(|detail| AuthError::InvalidConfig {
                    detail: format!("instance_url: {detail}"),
                })
            }
        }
    }

    /// Builds the token request, or `None` for [`Credentials::AccessToken`] (nothing to fetch).
    ///
    /// `wall_clock` is the current time; only the JWT bearer flow uses it (for `exp`).
    pub fn token_request(
        &self,
        wall_clock: SystemTime,
    ) -> Result<Option<Request<Vec<u8>>>, AuthError> {
        self.validate()?;
        let mut form = form_urlencoded::Serializer::new(String::new());
        let login = match self {
            Self::Password {
                client_id,
                client_secret,
                username,
                password,
                login,
            } => {
                form.append_pair("grant_type", "password")
                    .append_pair("client_id", client_id)
                    .append_pair("client_secret", client_secret.expose())
                    .append_pair("username", username)
                    .append_pair("password", password.expose());
                login
            }
            Self::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
                login,
            } => {
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("client_id", client_id);
                if !client_secret.is_empty() {
                    form.append_pair("client_secret", client_secret.expose());
                }
                form.append_pair("refresh_token", refresh_token.expose());
                login
            }
            Self::JwtBearer {
                client_id,
                username,
                key,
                login,
                audience,
            } => {
                let aud = audience.clone().unwrap_or_else(|| login.default_audience());
                let assertion = jwt::assertion(key, client_id, username, &aud, wall_clock)?;
                form.append_pair("grant_type", JWT_BEARER_GRANT_TYPE)
                    .append_pair("assertion", &assertion);
                login
            }
            Self::ClientCredentials {
                client_id,
                client_secret,
                login,
            } => {
                form.append_pair("grant_type", "client_credentials")
                    .append_pair("client_id", client_id)
                    .append_pair("client_secret", client_secret.expose());
                login
            }
            Self::AccessToken { .. } => return Ok(None),
        };
        Request::builder()
            .method(Method::POST)
            .uri(login.token_url())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(form.finish().into_bytes())
            .map(Some)
            .map_err(|_| config("login URL: the token URL is not a valid URI"))
    }

    /// The token of [`Credentials::AccessToken`]; `None` for the flows that must ask for one.
    #[must_use]
    pub fn ready_token(&self) -> Option<Token> {
        match self {
            Self::AccessToken {
                access_token,
                instance_url,
            } => Some(Token::new(access_token.clone(), instance_url.as_str())),
            _ => None,
        }
    }
}

pub(super) fn config(detail: &str) -> AuthError {
    AuthError::InvalidConfig {
        detail: detail.to_owned(),
    }
}

pub(super) fn require_client_id(client_id: &str) -> Result<(), AuthError> {
    require_text(client_id, "client_id (the Connected App's consumer key)")
}

pub(super) fn require_text(value: &str, what: &str) -> Result<(), AuthError> {
    if value.trim().is_empty() {
        return Err(AuthError::InvalidConfig {
            detail: format!("{what} is empty"),
        });
    }
    Ok(())
}

pub(super) fn require_secret(value: &Secret, what: &str) -> Result<(), AuthError> {
    require_text(value.expose(), what)
}
