//! Tokens and the parsing of token-endpoint responses.

use std::fmt;

use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value};

use super::*;
use crate::secret::Secret;

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
pub(super) fn id_segments(id: &str) -> Option<(&str, &str)> {
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

pub(super) fn required_str<'a>(
    map: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a str, String> {
    match map.get(field) {
        None | Some(Value::Null) => Err(format!("the response has no `{field}` field")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("`{field}` is empty")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("`{field}` is not a string")),
    }
}

pub(super) fn optional_str(map: &Map<String, Value>, field: &str) -> Option<String> {
    map.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// What is safe to say about a JSON error: its category and position, not the text serde_json
/// would print (that quotes offending values, which may be a token).
pub(super) fn json_error_facts(err: &serde_json::Error) -> String {
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
pub(super) fn status_text(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("unknown status")
}

/// Server text for an error message: control characters replaced, length bounded.
pub(super) fn server_text(text: &str) -> String {
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

pub(super) fn is_header_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
}

/// Whether a token can go in `Authorization: Bearer <token>` unchanged.
pub(super) fn is_header_safe(token: &str) -> bool {
    token.bytes().all(is_header_byte)
}
