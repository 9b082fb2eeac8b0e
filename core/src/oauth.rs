//! OAuth 2.0 token requests and responses for Salesforce, without I/O.
//!
//! The streaming endpoint only accepts an already-issued access token, so before the first
//! handshake (and again after a `401::Authentication invalid`) the client asks the org's OAuth
//! token endpoint for one. This module builds that request as an [`http::Request`] and parses the
//! reply; the runtime adapter only carries the bytes.
//!
//! ```text
//! Credentials ──token_request(now)──▶ POST {login}/services/oauth2/token   (adapter sends it)
//!     │                                        │
//!     └─ AccessToken: ready_token() ◀──────────┴── parse_token_response(status, body) ──▶ Token
//! ```
//!
//! Every credential is held in a [`Secret`], and errors carry only safe facts (HTTP status, body
//! length, which field is missing, where a JSON syntax error is), never the body itself: a token
//! response that fails to parse may still contain a live access token.
//!
//! Salesforce issues no `expires_in`: a token is used until the server rejects it, and the session
//! then asks [`Credentials::token_request`] again if [`Credentials::can_refresh`] says that can help.

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use serde_json::{Map, Value};

use crate::jwt::{self, JwtKey};
use crate::secret::Secret;

/// The production login host.
pub const PRODUCTION_LOGIN: &str = "https://login.salesforce.com";
/// The sandbox login host.
pub const SANDBOX_LOGIN: &str = "https://test.salesforce.com";
/// The path of the token endpoint below a login base URL.
pub const TOKEN_PATH: &str = "/services/oauth2/token";
/// The `grant_type` of the JWT bearer flow (RFC 7523).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Longest server-provided `error` / `error_description` text kept in an [`AuthError`].
const MAX_SERVER_TEXT: usize = 300;

/// Where the token endpoint lives.
///
/// `Debug` masks user info (`https://user:***@host`) should a URL carry any; such URLs are
/// refused by [`LoginUrl::validate`] anyway.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LoginUrl {
    /// `https://login.salesforce.com`.
    #[default]
    Production,
    /// `https://test.salesforce.com`.
    Sandbox,
    /// Any other base URL: the org's My Domain (`https://MyDomainName.my.salesforce.com`, required
    /// by the client credentials flow), an Experience Cloud site, or a local emulator
    /// (`http://127.0.0.1:8080`: plain `http` is accepted only for loopback hosts).
    Custom(String),
}

impl LoginUrl {
    /// The base URL without a trailing slash.
    #[must_use]
    pub fn base(&self) -> &str {
        match self {
            Self::Production => PRODUCTION_LOGIN,
            Self::Sandbox => SANDBOX_LOGIN,
            Self::Custom(url) => url.trim().trim_end_matches('/'),
        }
    }

    /// The token endpoint: the base plus `/services/oauth2/token`, with no double slash.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base())
    }

    /// Checks that the base is an absolute `https` URL (or `http` to a loopback host) without
    /// user info, query or fragment.
    pub fn validate(&self) -> Result<(), AuthError> {
        let base = self.base();
        check_url_scheme(base).map_err(|detail| AuthError::InvalidConfig {
            detail: format!("login URL: {detail}"),
        })?;
        if base.contains('?') || base.contains('#') {
            return Err(AuthError::InvalidConfig {
                detail: "login URL: must not contain a query or a fragment".to_owned(),
            });
        }
        Ok(())
    }

    /// The JWT `aud` claim used when none is configured.
    ///
    /// Salesforce wants the *authorization server* here, which for My Domain hosts is not the
    /// host the request goes to: a My Domain token endpoint still expects
    /// `https://login.salesforce.com` (or `https://test.salesforce.com` for sandboxes and scratch
    /// orgs), and answers `audience is invalid` or `user hasn't approved this consumer` otherwise
    /// (simple-salesforce#672, restforce#886). Any other custom base (an Experience Cloud site,
    /// an emulator) is its own audience.
    #[must_use]
    pub fn default_audience(&self) -> String {
        match self {
            Self::Production => PRODUCTION_LOGIN.to_owned(),
            Self::Sandbox => SANDBOX_LOGIN.to_owned(),
            Self::Custom(_) => {
                let base = self.base();
                let host = base
                    .parse::<Uri>()
                    .ok()
                    .and_then(|u| u.host().map(str::to_ascii_lowercase));
                match host {
                    Some(h) if h.ends_with(".my.salesforce.com") => {
                        let first_label = h.split('.').next().unwrap_or("");
                        if h.ends_with(".sandbox.my.salesforce.com")
                            || h.ends_with(".scratch.my.salesforce.com")
                            || first_label.contains("--")
                        {
                            SANDBOX_LOGIN.to_owned()
                        } else {
                            PRODUCTION_LOGIN.to_owned()
                        }
                    }
                    _ => base.to_owned(),
                }
            }
        }
    }
}

impl fmt::Debug for LoginUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Production => f.write_str("Production"),
            Self::Sandbox => f.write_str("Sandbox"),
            Self::Custom(url) => f
                .debug_tuple("Custom")
                .field(&redact_userinfo(url))
                .finish(),
        }
    }
}

/// `scheme://user:pass@host/…` → `scheme://***@host/…`; other URLs unchanged.
fn redact_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// Whether `host` names this machine: `localhost`, an address in `127.0.0.0/8`, or `::1`
/// (brackets and IPv4-mapped forms accepted).
///
/// Loopback traffic never leaves the machine, so plain `http` and non-`Secure` cookie contexts are
/// acceptable there (browsers treat it the same way); this is what lets the local emulator work.
#[must_use]
pub fn is_loopback_host(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    host.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Checks that `uri` may carry credentials: `https`, or `http` to a loopback host.
///
/// The error names the problem and the fix; it contains the host but never user info.
pub fn check_uri_scheme(uri: &Uri) -> Result<(), String> {
    let Some(authority) = uri.authority() else {
        return Err(
            "must be an absolute URL such as https://MyDomainName.my.salesforce.com".into(),
        );
    };
    if authority.as_str().contains('@') {
        return Err("must not contain user info (credentials belong in the credentials)".into());
    }
    let host = authority.host();
    if host.is_empty() {
        return Err("has no host".into());
    }
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Ok(()),
        Some("http") if is_loopback_host(host) => Ok(()),
        Some("http") => Err(format!(
            "plain http:// to {host} would send credentials unencrypted: use https:// \
             (plain http is accepted only for loopback hosts such as 127.0.0.1 or localhost)"
        )),
        _ => Err("unsupported URL scheme: use https://".into()),
    }
}

/// [`check_uri_scheme`] for a URL string (a login base or the `instance_url` of a token).
pub fn check_url_scheme(url: &str) -> Result<(), String> {
    let uri = url
        .trim()
        .parse::<Uri>()
        .map_err(|_| "is not a valid absolute URL".to_owned())?;
    check_uri_scheme(&uri)
}

/// How the client obtains an access token.
///
/// `Debug` is safe to log: secrets print as `***`.
#[derive(Debug, Clone)]
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

impl Credentials {
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

/// An access token and what came with it.
///
/// `Debug` hides the access token, the refresh token and the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The access token (session id), sent as `Authorization: Bearer …`.
    pub access_token: Secret,
    /// The base of the org's endpoints (`/cometd/…` hangs below it), without a trailing slash.
    pub instance_url: String,
    /// The identity URL, `https://login.salesforce.com/id/<orgId>/<userId>`.
    pub id: Option<String>,
    /// The token type; `"Bearer"` when the response names none.
    pub token_type: String,
    /// When the token was issued, epoch milliseconds as a string (a JSON number is accepted too).
    pub issued_at: Option<String>,
    /// Base64 HMAC-SHA256 of `id` + `issued_at` keyed with the consumer secret.
    pub signature: Option<String>,
    /// A refresh token, if the flow and the app's scopes issue one.
    pub refresh_token: Option<Secret>,
    /// The granted scopes, space separated.
    pub scope: Option<String>,
}

impl Token {
    /// A token with only the required parts (the others `None`, type `Bearer`).
    pub fn new(access_token: Secret, instance_url: impl Into<String>) -> Self {
        let instance_url = instance_url.into();
        Self {
            access_token,
            instance_url: instance_url.trim().trim_end_matches('/').to_owned(),
            id: None,
            token_type: "Bearer".to_owned(),
            issued_at: None,
            signature: None,
            refresh_token: None,
            scope: None,
        }
    }

    /// The org id: the second-last path segment of [`Token::id`].
    #[must_use]
    pub fn org_id(&self) -> Option<&str> {
        id_segments(self.id.as_deref()?).map(|(org, _)| org)
    }

    /// The user id: the last path segment of [`Token::id`].
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        id_segments(self.id.as_deref()?).map(|(_, user)| user)
    }

    /// `Authorization: Bearer <token>`, marked sensitive so HTTP libraries keep it out of logs.
    ///
    /// The scheme is always `Bearer` (what Salesforce documents for `/cometd`), whatever
    /// `token_type` says. Tokens from [`parse_token_response`] and validated credentials are
    /// header-safe; bytes that cannot go in a header (only possible in a hand-built `Token`) are
    /// dropped, which makes the server answer 401 rather than this method panic.
    #[must_use]
    pub fn authorization_header(&self) -> HeaderValue {
        let mut bytes = b"Bearer ".to_vec();
        bytes.extend(
            self.access_token
                .expose()
                .bytes()
                .filter(|&b| is_header_byte(b)),
        );
        let mut value =
            HeaderValue::from_bytes(&bytes).unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &self.access_token)
            .field("instance_url", &self.instance_url)
            .field("id", &self.id)
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("signature", &self.signature.as_ref().map(|_| "***"))
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .finish()
    }
}

/// `(org id, user id)` from an identity URL such as `https://login.salesforce.com/id/00D…/005…`.
fn id_segments(id: &str) -> Option<(&str, &str)> {
    let path = id.split(['?', '#']).next()?.trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let user = segments.next().filter(|s| !s.is_empty())?;
    let org = segments.next().filter(|s| !s.is_empty())?;
    // A bare "https:/" would otherwise pass as an org id.
    if org.ends_with(':') {
        return None;
    }
    Some((org, user))
}

/// Parses a token endpoint reply.
///
/// A 2xx JSON object with string `access_token` and `instance_url` is a [`Token`]; a JSON
/// `{"error": …, "error_description": …}` is [`AuthError::Rejected`]; anything else is
/// [`AuthError::Malformed`]. Unknown fields are ignored, and so are optional fields of an
/// unexpected type. Never panics, and the error never contains the body.
pub fn parse_token_response(status: StatusCode, body: &[u8]) -> Result<Token, AuthError> {
    let code = status.as_u16();
    let malformed = |detail: String| AuthError::Malformed {
        status: code,
        detail,
    };
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            let what = if status.is_success() {
                format!(
                    "the {}-byte body is not JSON ({})",
                    body.len(),
                    json_error_facts(&err)
                )
            } else {
                format!(
                    "{} with a {}-byte body that is not a JSON OAuth error ({}); \
                     is the login URL right?",
                    status_text(status),
                    body.len(),
                    json_error_facts(&err)
                )
            };
            return Err(malformed(what));
        }
    };
    let Value::Object(map) = value else {
        return Err(malformed(format!(
            "the {}-byte body is JSON but not an object",
            body.len()
        )));
    };
    let has_token = map.contains_key("access_token");
    if let Some(error) = map.get("error")
        && (!status.is_success() || !has_token)
    {
        let error = match error {
            Value::String(s) => server_text(s),
            _ => "(non-string error)".to_owned(),
        };
        let description = map
            .get("error_description")
            .and_then(Value::as_str)
            .map(server_text)
            .unwrap_or_default();
        return Err(AuthError::Rejected {
            status: code,
            error,
            description,
        });
    }
    if !status.is_success() {
        return Err(malformed(format!(
            "{} with a {}-byte JSON body that has no `error` field",
            status_text(status),
            body.len()
        )));
    }
    let access_token = required_str(&map, "access_token").map_err(&malformed)?;
    if !is_header_safe(access_token) {
        return Err(malformed(
            "`access_token` contains characters that cannot go in an HTTP header".to_owned(),
        ));
    }
    let instance_url = required_str(&map, "instance_url").map_err(&malformed)?;
    check_url_scheme(instance_url)
        .map_err(|detail| malformed(format!("`instance_url` {detail}")))?;
    let mut token = Token::new(Secret::new(access_token), instance_url);
    token.id = optional_str(&map, "id");
    if let Some(token_type) = optional_str(&map, "token_type").filter(|t| !t.is_empty()) {
        token.token_type = token_type;
    }
    token.issued_at = match map.get("issued_at") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    token.signature = optional_str(&map, "signature");
    token.refresh_token = optional_str(&map, "refresh_token").map(Secret::new);
    token.scope = optional_str(&map, "scope");
    Ok(token)
}

fn required_str<'a>(map: &'a Map<String, Value>, field: &str) -> Result<&'a str, String> {
    match map.get(field) {
        None | Some(Value::Null) => Err(format!("the response has no `{field}` field")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("`{field}` is empty")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("`{field}` is not a string")),
    }
}

fn optional_str(map: &Map<String, Value>, field: &str) -> Option<String> {
    map.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// What is safe to say about a JSON error: its category and position, not the text serde_json
/// would print (that quotes offending values, which may be a token).
fn json_error_facts(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match err.classify() {
        Category::Eof if err.line() <= 1 && err.column() == 0 => "empty body".to_owned(),
        Category::Eof => "truncated: unexpected end of input".to_owned(),
        Category::Syntax => format!(
            "syntax error at line {} column {}",
            err.line(),
            err.column()
        ),
        Category::Data => format!(
            "unexpected JSON data at line {} column {}",
            err.line(),
            err.column()
        ),
        Category::Io => "read error".to_owned(),
    }
}

/// The status's reason phrase (the code itself is already in [`AuthError::Malformed`]'s text).
fn status_text(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("unknown status")
}

/// Server text for an error message: control characters replaced, length bounded.
fn server_text(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_SERVER_TEXT)
        .collect();
    if text.chars().count() > MAX_SERVER_TEXT {
        out.push('…');
    }
    out
}

fn is_header_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
}

/// Whether a token can go in `Authorization: Bearer <token>` unchanged.
fn is_header_safe(token: &str) -> bool {
    token.bytes().all(is_header_byte)
}

fn config(detail: &str) -> AuthError {
    AuthError::InvalidConfig {
        detail: detail.to_owned(),
    }
}

fn require_client_id(client_id: &str) -> Result<(), AuthError> {
    require_text(client_id, "client_id (the Connected App's consumer key)")
}

fn require_text(value: &str, what: &str) -> Result<(), AuthError> {
    if value.trim().is_empty() {
        return Err(AuthError::InvalidConfig {
            detail: format!("{what} is empty"),
        });
    }
    Ok(())
}

fn require_secret(value: &Secret, what: &str) -> Result<(), AuthError> {
    require_text(value.expose(), what)
}

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

    /// Whether retrying the same request later may succeed (server trouble, rate limiting),
    /// as opposed to a configuration or credential problem that needs the user.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Rejected { status, error, .. } => {
                *status >= 500 || *status == 429 || error == "rate_limit_exceeded"
            }
            Self::Malformed { status, .. } => *status >= 500 || *status == 429,
            Self::InvalidKey { .. } | Self::InvalidConfig { .. } => false,
        }
    }
}

fn rejected_message(status: &u16, error: &str, description: &str) -> String {
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
fn rejected_hint(error: &str, description: &str) -> Option<&'static str> {
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
