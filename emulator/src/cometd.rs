//! `POST /cometd/{version}`: request-level rules (version, size, JSON arrays, auth header,
//! injected faults) and the dispatch of each message to its meta channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::response::Response;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, SET_COOKIE};
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::bayeux::{self, Part, Reply};
use crate::broken::{self, Broken};
use crate::chaos::RequestShape;
use crate::faults::{Endpoint, Fault};
use crate::orgs::Orgs;
use crate::state::{Injection, RequestInfo, Shared};
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
    /// Whether the request holds a single message (only then is a connect held).
    pub(crate) alone: bool,
    /// Per-request outcomes the messages decide: cookies to set, a broken response.
    outcome: Mutex<Outcome>,
}

#[derive(Default)]
struct Outcome {
    set_cookies: Vec<HeaderValue>,
    /// A broken response chaos drew, fired if a connect of the request delivers events.
    armed: Option<Broken>,
    /// Set when a connect took events for a broken response.
    broken: Option<Broken>,
}

impl Ctx {
    fn outcome(&self) -> std::sync::MutexGuard<'_, Outcome> {
        self.outcome.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a `Set-Cookie` header to the response.
    pub(crate) fn set_cookie(&self, cookie: Option<HeaderValue>) {
        if let Some(c) = cookie {
            self.outcome().set_cookies.push(c);
        }
    }

    /// The broken response chaos armed for this request, once.
    pub(crate) fn take_armed_broken(&self) -> Option<Broken> {
        self.outcome().armed.take()
    }

    /// Marks the response as broken (a connect took its events under a broken-response fault).
    pub(crate) fn break_response(&self, broken: Broken) {
        self.outcome().broken = Some(broken);
    }
}

/// The token of `Authorization: Bearer <token>`, `Authorization: OAuth <token>` or a bare
/// `Authorization: <token>` (what EMP-Connector sends, and Salesforce accepts).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth") =>
        {
            token.trim()
        }
        Some(_) => return None,
        // A scheme without its token is no token.
        None if value.eq_ignore_ascii_case("bearer") || value.eq_ignore_ascii_case("oauth") => {
            return None;
        }
        None => value,
    };
    (!token.is_empty()).then(|| token.to_owned())
}

/// Checks the `Content-Type`: Salesforce documents `application/json` as required on every
/// call to the CometD servlet. `Err` holds the Bayeux error text.
fn check_content_type(headers: &HeaderMap) -> Result<(), String> {
    let value = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = value
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match essence {
        Some(e) if e.eq_ignore_ascii_case("application/json") => Ok(()),
        Some(_) => Err(format!(
            "400::Invalid Content-Type {{{}}}: the CometD endpoint requires Content-Type: \
             application/json",
            value.unwrap_or_default()
        )),
        None => Err(
            "400::Missing Content-Type: the CometD endpoint requires Content-Type: \
             application/json"
                .to_owned(),
        ),
    }
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

/// What fault injection needs to know of a request.
fn request_info<'a>(
    messages: Option<&'a [Value]>,
    st_has: impl Fn(&str) -> bool,
    token: Option<&'a str>,
) -> RequestInfo<'a> {
    let list = messages.unwrap_or_default();
    let on = |channel: &str| {
        list.iter()
            .any(|m| m.get("channel").and_then(Value::as_str) == Some(channel))
    };
    let client_id = list
        .iter()
        .filter_map(|m| m.get("clientId").and_then(Value::as_str))
        .find(|id| st_has(id));
    RequestInfo {
        shape: RequestShape {
            has_handshake: on("/meta/handshake"),
            has_connect: on("/meta/connect"),
            has_session: client_id.is_some(),
        },
        client_id,
        token,
    }
}

/// The CometD endpoint handler (all `/cometd` paths).
pub(crate) async fn endpoint(State(orgs): State<Arc<Orgs>>, req: Request) -> Response {
    let version = version_segment(req.uri().path()).map(str::to_owned);
    let (parts, body) = req.into_parts();
    let token = bearer(&parts.headers);
    let shared = Arc::clone(orgs.by_token(token.as_deref()));
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
    let injection = {
        let live = |id: &str| shared.lock().sessions.contains_key(id);
        let info = request_info(messages, live, token.as_deref());
        shared.take_fault(Endpoint::CometD, &info)
    };
    let mut armed = None;
    let mode = match injection {
        Injection::Request(Fault::Status(code)) => {
            shared.count_errors(1);
            return respond::status_fault(code);
        }
        Injection::Request(Fault::Reset) => return respond::reset(&parts.extensions).await,
        Injection::Request(Fault::MalformedJson) => {
            return respond::malformed(r#"[{"channel":"/meta/connect","#);
        }
        Injection::Request(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Mode::Normal
        }
        Injection::Request(Fault::ServerTooBusy) => Mode::Busy,
        Injection::Request(Fault::DenyHandshakeConcurrentLimit) => Mode::DenyHandshakes,
        Injection::Broken(broken) => {
            armed = Some(broken);
            Mode::Normal
        }
        // Queued broken-response faults are taken by a connect that delivers events, not here.
        Injection::Request(
            Fault::CutAfterDelivery | Fault::ResetAfterDelivery | Fault::HoldAfterDelivery(_),
        )
        | Injection::None => Mode::Normal,
    };

    if let Err(error) = check_version(version.as_deref(), shared.settings.min_api_version) {
        let reply = reject_all(messages, error);
        shared.count_errors(1);
        return respond::json(StatusCode::BAD_REQUEST, bayeux::render(&reply));
    }
    if let Err(error) = check_content_type(&parts.headers) {
        let reply = reject_all(messages, &error);
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
        token,
        cookies: cookies::parse(&parts.headers),
        shared: Arc::clone(&shared),
        mode,
        alone: messages.len() == 1,
        outcome: Mutex::new(Outcome {
            armed,
            ..Outcome::default()
        }),
    };
    let mut out = Vec::with_capacity(messages.len());
    let mut empty_body = false;
    for msg in messages {
        dispatch(&ctx, msg, &mut out, &mut empty_body).await;
    }
    shared.count_errors(bayeux::failures(&out));
    let outcome = std::mem::take(&mut *ctx.outcome());
    if let Some(how) = outcome.broken {
        return broken::respond(how, &parts.extensions, bayeux::render_chunks(&out)).await;
    }
    let mut response = if empty_body {
        respond::json(StatusCode::OK, Vec::new())
    } else {
        respond::json_chunks(StatusCode::OK, bayeux::render_chunks(&out))
    };
    for cookie in outcome.set_cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

async fn dispatch(ctx: &Ctx, msg: &Value, out: &mut Vec<Part>, empty_body: &mut bool) {
    ctx.shared.note_received(msg);
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
    let first = out.len();
    if ctx.mode == Mode::Busy {
        out.push(Part::reply(meta::busy(msg, channel)));
    } else {
        match channel {
            "/meta/handshake" => out.push(Part::reply(meta::handshake(ctx, msg))),
            "/meta/connect" => out.extend(long_poll::connect(ctx, msg, ctx.alone).await),
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
    if matches!(channel, "/meta/subscribe" | "/meta/unsubscribe") {
        // CometD's server copies `subscription` into every reply of these channels, failed
        // ones included.
        for part in &mut out[first..] {
            if let Part::Reply(reply) = part {
                if reply.subscription.is_none() {
                    reply.subscription = msg.get("subscription").cloned();
                }
            }
        }
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
    fn bearer_oauth_and_bare_tokens_are_accepted() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("OAuth abc"));
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("abc"));
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }
}
