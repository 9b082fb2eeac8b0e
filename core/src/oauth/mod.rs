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
//! Every credential is held in a [`Secret`](crate::Secret), and errors carry only safe facts (HTTP status, body
//! length, which field is missing, where a JSON syntax error is), never the body itself: a token
//! response that fails to parse may still contain a live access token.
//!
//! Salesforce issues no `expires_in`: a token is used until the server rejects it, and the session
//! then asks [`Credentials::token_request`] again if [`Credentials::can_refresh`] says that can help.

mod credentials;
mod error;
pub mod jwt;
mod login;
mod token;

pub use credentials::Credentials;
pub use error::AuthError;
pub(crate) use login::is_loopback_host;
pub(crate) use login::redact_userinfo;
pub use login::{LoginUrl, check_uri_scheme, check_url_scheme};
pub use token::{Token, parse_token_response};

use token::*;

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
