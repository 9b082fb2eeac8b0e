//! `POST /cometd/{version}`: request-level rules (version, size, JSON arrays, auth header,
//! injected faults) and the dispatch of each message to its meta channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::response::Response;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, HeaderValue, SET_COOKIE};
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::bayeux::{self, Part, Reply};
use crate::broken::{self, Broken};
use crate::faults::{Endpoint, Fault};
use crate::state::Shared;
use crate::{cookies, long_poll, meta, respond};

/// The largest request body Salesforce accepts.
pub(crate) const MAX_REQUEST_BYTES: usize = 32_768;

/// Injected behaviour for the whole request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal,
    /// Every message gets the `503::Server is too busy` answer.
    Busy,
    /// Handshakes are denied for the concurrent-client limit.
    DenyHandshakes,
}

/// What every message of a request shares.
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) token: Option<String>,
    pub(crate) cookies: HashMap<String, String>,
    pub(crate) mode: Mode,
    /// Set when a connect of this request took events for a broken response.
    pub(crate) broken: Mutex<Option<Broken>>,
}

impl Ctx {
    /// Marks the response as broken (a connect took its events under a broken-response fault).
    pub(crate) fn break_response(&self, broken: Broken) {
        *self.broken.lock().unwrap_or_else(PoisonError::into_inner) = Some(broken);
    }

    fn broken(&self) -> Option<Broken> {
        *self.broken.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The token of `Authorization: Bearer <token>` or `Authorization: OAuth <token>`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    ((scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        && !token.is_empty())
    .then(|| token.to_owned())
}

/// The version segment of `/cometd/{version}[/…]`, if any.
fn version_segment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/cometd")?.trim_start_matches('/');
    rest.split('/').next().filter(|v| !v.is_empty())
}

/// Checks the API version; `Err` holds the Bayeux error text.
fn check_version(version: Option<&str>, min_major: u32) -> Result<(), &'static str> {
    let Some(version) = version else {
        return Err("400::API version in the URI is mandatory. URI format: '/cometd/66.0'");
    };
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    match major.parse::<u32>() {
        Ok(m) if digits(major) && digits(minor) && m >= min_major => Ok(()),
        _ => Err(
            "400::Unsupported API version. Only API versions '37.0' and later are supported. \
             URI format: '/cometd/66.0'",
        ),
    }
}

/// One failed reply per message (or a single one when the body was not an array).
fn reject_all(messages: Option<&[Value]>, error: &str) -> Vec<Part> {
    match messages {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|m| {
                let channel = m.get("channel").and_then(Value::as_str).unwrap_or_default();
                let mut reply = Reply::to(m, channel).failed(error);
                if channel.is_empty() {
                    reply.channel = None;
                }
                Part::reply(reply)
            })
            .collect(),
        _ => vec![Part::reply(Reply::default().failed(error))],
    }
}

fn too_large(shared: &Shared) -> Response {
    shared.count_errors(1);
    let mut response = respond::text(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Maximum Request Size Exceeded",
    );
    // The status line reads `413 Maximum Request Size Exceeded`, as Salesforce documents it.
    response
        .extensions_mut()
        .insert(hyper::ext::ReasonPhrase::from_static(
            b"Maximum Request Size Exceeded",
        ));
    response
}

/// The CometD endpoint handler (all `/cometd` paths).
pub(crate) async fn endpoint(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let version = version_segment(req.uri().path()).map(str::to_owned);
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
        return too_large(&shared);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return too_large(&shared);
    };
    let parsed = serde_json::from_slice::<Value>(&bytes);
    let messages = match &parsed {
        Ok(Value::Array(list)) => Some(list.as_slice()),
        _ => None,
    };
    let has_handshake = messages.is_some_and(|list| {
        list.iter()
            .any(|m| m.get("channel").and_then(Value::as_str) == Some("/meta/handshake"))
    });

    let mode = match shared.take_fault(Endpoint::CometD, has_handshake) {
        Some(Fault::Status(code)) => {
            shared.count_errors(1);
            return respond::status_fault(code);
        }
        Some(Fault::Reset) => return respond::reset(&parts.extensions).await,
        Some(Fault::MalformedJson) => {
            return respond::malformed(r#"[{"channel":"/meta/connect","#);
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Mode::Normal
        }
        Some(Fault::ServerTooBusy) => Mode::Busy,
        Some(Fault::DenyHandshakeConcurrentLimit) => Mode::DenyHandshakes,
        // Broken-response faults are taken by a connect that delivers events, not here.
        Some(Fault::CutAfterDelivery | Fault::ResetAfterDelivery | Fault::HoldAfterDelivery(_))
        | None => Mode::Normal,
    };

    if let Err(error) = check_version(version.as_deref(), shared.settings.min_api_version) {
        let reply = reject_all(messages, error);
        shared.count_errors(1);
        return respond::json(StatusCode::BAD_REQUEST, bayeux::render(&reply));
    }
    let Some(messages) = messages else {
        let error = if parsed.is_ok() {
            "400::The request body must be a JSON array of Bayeux messages"
        } else {
            "400::Invalid JSON in the request body"
        };
        shared.count_errors(1);
        let reply = reject_all(None, error);
        return respond::json(StatusCode::BAD_REQUEST, bayeux::render(&reply));
    };

    let ctx = Ctx {
        token: bearer(&parts.headers),
        cookies: cookies::parse(&parts.headers),
        shared: Arc::clone(&shared),
        mode,
        broken: Mutex::new(None),
    };
    let mut out = Vec::with_capacity(messages.len());
    let mut set_cookies = Vec::new();
    let mut empty_body = false;
    for msg in messages {
        dispatch(&ctx, msg, &mut out, &mut set_cookies, &mut empty_body).await;
    }
    shared.count_errors(bayeux::failures(&out));
    if let Some(how) = ctx.broken() {
        return broken::respond(how, &parts.extensions, bayeux::render_chunks(&out)).await;
    }
    let mut response = if empty_body {
        respond::json(StatusCode::OK, Vec::new())
    } else {
        respond::json_chunks(StatusCode::OK, bayeux::render_chunks(&out))
    };
    for cookie in set_cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

async fn dispatch(
    ctx: &Ctx,
    msg: &Value,
    out: &mut Vec<Part>,
    set_cookies: &mut Vec<HeaderValue>,
    empty_body: &mut bool,
) {
    let Some(channel) = msg.get("channel").and_then(Value::as_str) else {
        let mut reply = Reply::to(msg, "").failed("400::Channel name not specified");
        reply.channel = None;
        out.push(Part::reply(reply));
        return;
    };
    match channel {
        "/meta/handshake" => ctx.shared.lock().totals.handshakes += 1,
        "/meta/connect" => ctx.shared.lock().totals.connects += 1,
        _ => {}
    }
    if ctx.mode == Mode::Busy {
        out.push(Part::reply(meta::busy(msg, channel)));
        return;
    }
    match channel {
        "/meta/handshake" => out.push(Part::reply(meta::handshake(ctx, msg, set_cookies))),
        "/meta/connect" => out.extend(long_poll::connect(ctx, msg).await),
        "/meta/subscribe" => match meta::subscribe(ctx, msg) {
            meta::Subscribed::Parts(parts) => out.extend(parts),
            meta::Subscribed::EmptyBody => *empty_body = true,
        },
        "/meta/unsubscribe" => out.extend(meta::unsubscribe(ctx, msg)),
        "/meta/disconnect" => out.extend(meta::disconnect(ctx, msg)),
        other if other.starts_with("/meta/") => {
            let error = format!("400::Unknown meta channel {{{other}}}");
            out.push(Part::reply(Reply::to(msg, other).failed(error)));
        }
        // Salesforce does not take publishes over CometD for these channel types.
        other => out.push(Part::reply(
            Reply::to(msg, other).failed("403::Restricted channel"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked() {
        assert!(check_version(Some("64.0"), 37).is_ok());
        assert!(check_version(Some("37.0"), 37).is_ok());
        assert!(check_version(Some("37"), 37).is_ok());
        assert!(check_version(None, 37).is_err());
        for bad in ["36.0", "replay", "x.0", "64.", "-1", "64.0.1"] {
            assert!(check_version(Some(bad), 37).is_err(), "{bad}");
        }
        assert_eq!(version_segment("/cometd/64.0/"), Some("64.0"));
        assert_eq!(version_segment("/cometd/"), None);
        assert_eq!(version_segment("/cometd"), None);
    }

    #[test]
    fn bearer_and_oauth_schemes_are_accepted() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("OAuth abc"));
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("abc"));
        assert_eq!(bearer(&h), None);
    }
}
