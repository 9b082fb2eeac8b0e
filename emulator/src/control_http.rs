//! The control API over HTTP, under `/_emulator/`. Requests and replies are JSON; errors are
//! HTTP 400 with `{"error": "..."}`. Faults and chaos never apply to these routes.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chaos::{ChaosConfig, ChaosKind, ChaosMix};
use crate::control::Control;
use crate::error::Error;
use crate::faults::{DropAdvice, Fault, FaultTarget, PushedDisconnect};
use crate::orgs::Orgs;
use crate::state::Shared;

/// The control routes: under `/_emulator/` for the default org, and under
/// `/_emulator/orgs/{org}/` for any org; `GET /_emulator/orgs` lists the orgs.
pub(crate) fn routes() -> Router<Arc<Orgs>> {
    let per_org = |p: &str| {
        Router::new()
            .route(&format!("{p}/settings"), get(settings))
            .route(&format!("{p}/channels"), get(channels).post(create_channel))
            .route(&format!("{p}/publish"), post(publish))
            .route(&format!("{p}/publish_bulk"), post(publish_bulk))
            .route(&format!("{p}/tokens"), post(issue_token))
            .route(&format!("{p}/tokens/revoke"), post(revoke_tokens))
            .route(&format!("{p}/sessions/drop"), post(drop_sessions))
            .route(&format!("{p}/sessions/disconnect"), post(push_disconnect))
            .route(&format!("{p}/sessions/reroute"), post(reroute_sessions))
            .route(&format!("{p}/sessions/reset_max"), post(reset_max_sessions))
            .route(&format!("{p}/channels/expire"), post(expire_events))
            .route(&format!("{p}/channels/retention"), post(set_retention))
            .route(
                &format!("{p}/faults"),
                post(add_faults).delete(clear_faults),
            )
            .route(&format!("{p}/chaos"), post(start_chaos).delete(stop_chaos))
            .route(&format!("{p}/stats"), get(stats))
    };
    per_org("/_emulator")
        .merge(per_org("/_emulator/orgs/{org}"))
        .route("/_emulator/orgs", get(list_orgs))
}

/// The org a control request is about: `{org}` in the path, or the default org.
struct OrgShared(Arc<Shared>);

impl FromRequestParts<Arc<Orgs>> for OrgShared {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, orgs: &Arc<Orgs>) -> Result<Self, Response> {
        let params = RawPathParams::from_request_parts(parts, orgs)
            .await
            .map_err(IntoResponse::into_response)?;
        match params.iter().find(|(k, _)| *k == "org") {
            None => Ok(Self(Arc::clone(orgs.default_org()))),
            Some((_, id)) => orgs.get(id).map(|s| Self(Arc::clone(s))).ok_or_else(|| {
                (
                    StatusCode::NOT_FOUND,
                    Json(
                        json!({ "error": format!("no org {id}; GET /_emulator/orgs lists them") }),
                    ),
                )
                    .into_response()
            }),
        }
    }
}

/// Every org with its credentials, the default org first.
async fn list_orgs(State(orgs): State<Arc<Orgs>>) -> Response {
    let list: Vec<Value> = orgs
        .all()
        .iter()
        .map(|s| {
            let c = &s.settings.credentials;
            json!({
                "org_id": s.settings.org_id,
                "user_id": s.settings.user_id,
                "client_id": c.client_id,
                "client_secret": c.client_secret,
                "username": c.username,
                "password": c.password,
                "security_token": c.security_token,
                "refresh_token": c.refresh_token,
                "access_token": c.access_token,
            })
        })
        .collect();
    Json(json!({ "orgs": list })).into_response()
}

async fn reset_max_sessions(OrgShared(shared): OrgShared) -> Response {
    Json(json!({ "active_sessions": control(shared).reset_max_active_sessions() })).into_response()
}

fn control(shared: Arc<Shared>) -> Control {
    Control { shared }
}

fn bad(message: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.to_string() })),
    )
        .into_response()
}

fn from_error(e: &Error) -> Response {
    bad(e)
}

/// Unwraps a JSON body or answers 400.
macro_rules! body {
    ($payload:expr) => {
        match $payload {
            Ok(Json(v)) => v,
            Err(rejection) => return bad(rejection.body_text()),
        }
    };
}

async fn settings(OrgShared(shared): OrgShared) -> Response {
    let s = &shared.settings;
    let c = &s.credentials;
    Json(json!({
        "org_id": s.org_id,
        "base_url": s.base_url,
        "token_url": format!("{}/services/oauth2/token", s.base_url),
        "cometd_url": format!("{}/cometd/64.0", s.base_url),
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "username": c.username,
        "password": c.password,
        "security_token": c.security_token,
        "refresh_token": c.refresh_token,
        "access_token": c.access_token,
        "long_poll_timeout_ms": s.long_poll_timeout_ms(),
        "reconnect_deadline_ms": u64::try_from(s.reconnect_deadline.as_millis()).unwrap_or(u64::MAX),
        "retention_ms": u64::try_from(s.retention.as_millis()).unwrap_or(u64::MAX),
        "max_batch": s.max_batch,
        "revoked_token_ends_sessions": s.revoked_token_ends_sessions,
    }))
    .into_response()
}

async fn channels(OrgShared(shared): OrgShared) -> Response {
    let list: Vec<Value> = control(shared)
        .channels()
        .into_iter()
        .map(|(name, kind)| json!({ "name": name, "kind": kind }))
        .collect();
    Json(json!({ "channels": list })).into_response()
}

#[derive(Deserialize)]
struct ChannelRequest {
    name: String,
}

async fn create_channel(
    OrgShared(shared): OrgShared,
    payload: Result<Json<ChannelRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    match control(shared).create_channel(&req.name) {
        Ok(kind) => (
            StatusCode::CREATED,
            Json(json!({ "name": req.name, "kind": kind })),
        )
            .into_response(),
        Err(e) => from_error(&e),
    }
}

#[derive(Deserialize)]
struct PublishRequest {
    channel: String,
    payload: Option<Value>,
    payloads: Option<Vec<Value>>,
    count: Option<usize>,
}

/// `{"channel", "payload"}` → `{"replay_id"}`; `{"channel", "payloads": [...]}` or
/// `{"channel", "count": n}` (generated payloads) → `{"replay_ids": [...]}`.
async fn publish(
    OrgShared(shared): OrgShared,
    payload: Result<Json<PublishRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let control = control(shared);
    let result = match (req.payload, req.payloads, req.count) {
        (Some(p), None, None) => {
            return match control.publish(&req.channel, p) {
                Ok(id) => Json(json!({ "replay_id": id })).into_response(),
                Err(e) => from_error(&e),
            };
        }
        (None, Some(list), None) => control.publish_many(&req.channel, list),
        (None, None, Some(n)) => control.publish_generated(&req.channel, n),
        (None, None, None) => control.publish_generated(&req.channel, 1),
        _ => return bad("give one of payload, payloads or count"),
    };
    match result {
        Ok(ids) => Json(json!({ "replay_ids": ids })).into_response(),
        Err(e) => from_error(&e),
    }
}

#[derive(Deserialize)]
struct BulkRequest {
    channel: String,
    count: usize,
    #[serde(default = "default_payload_size")]
    payload_size: usize,
}

fn default_payload_size() -> usize {
    1000
}

async fn publish_bulk(
    OrgShared(shared): OrgShared,
    payload: Result<Json<BulkRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let control = control(shared);
    // Serialising many events takes a while: keep it off the async workers.
    let joined = tokio::task::spawn_blocking(move || {
        control.publish_bulk(&req.channel, req.count, req.payload_size)
    })
    .await;
    match joined {
        Ok(Ok(summary)) => Json(summary).into_response(),
        Ok(Err(e)) => from_error(&e),
        Err(e) => bad(e),
    }
}

async fn issue_token(OrgShared(shared): OrgShared) -> Response {
    Json(json!({ "access_token": control(shared).issue_token() })).into_response()
}

async fn revoke_tokens(OrgShared(shared): OrgShared) -> Response {
    Json(json!({ "revoked": control(shared).revoke_tokens() })).into_response()
}

#[derive(Deserialize, Default)]
struct DropRequest {
    advice: Option<String>,
}

/// `{"advice": "handshake" | "none"}`; an empty body means `handshake`.
async fn drop_sessions(OrgShared(shared): OrgShared, body: axum::body::Bytes) -> Response {
    let req: DropRequest = match optional_body(&body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let advice = match req.advice.as_deref() {
        None | Some("handshake") => DropAdvice::Handshake,
        Some("none") => DropAdvice::None,
        Some(other) => return bad(format!("advice must be handshake or none, not {other:?}")),
    };
    Json(json!({ "dropped": control(shared).drop_sessions(advice) })).into_response()
}

/// A JSON body that may be empty (then the type's default).
fn optional_body<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        serde_json::from_slice(body)
    }
}

#[derive(Deserialize, Default)]
struct DisconnectRequest {
    error: Option<String>,
}

/// `{"error": "unknown_client" | "authentication_invalid"}`; an empty body means
/// `unknown_client`.
async fn push_disconnect(OrgShared(shared): OrgShared, body: axum::body::Bytes) -> Response {
    let req: DisconnectRequest = match optional_body(&body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let kind = match req.error.as_deref() {
        None | Some("unknown_client") => PushedDisconnect::UnknownClient,
        Some("authentication_invalid") => PushedDisconnect::AuthenticationInvalid,
        Some(other) => {
            return bad(format!(
                "error must be unknown_client or authentication_invalid, not {other:?}"
            ));
        }
    };
    Json(json!({ "disconnected": control(shared).push_disconnect_with(kind) })).into_response()
}

async fn reroute_sessions(OrgShared(shared): OrgShared) -> Response {
    Json(json!({ "rerouted": control(shared).reroute_sessions() })).into_response()
}

#[derive(Deserialize)]
struct ExpireRequest {
    channel: String,
    through_replay_id: Option<i64>,
}

/// `{"channel", "through_replay_id"}` (without the id: every retained event) → `{"expired"}`.
async fn expire_events(
    OrgShared(shared): OrgShared,
    payload: Result<Json<ExpireRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    match control(shared).expire_events(&req.channel, req.through_replay_id) {
        Ok(n) => Json(json!({ "expired": n })).into_response(),
        Err(e) => from_error(&e),
    }
}

#[derive(Deserialize)]
struct RetentionRequest {
    channel: String,
    retention_ms: Option<u64>,
}

/// `{"channel", "retention_ms"}` (`null` or absent: back to the emulator's retention).
async fn set_retention(
    OrgShared(shared): OrgShared,
    payload: Result<Json<RetentionRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let retention = req.retention_ms.map(Duration::from_millis);
    match control(shared).set_retention(&req.channel, retention) {
        Ok(()) => Json(json!({ "channel": req.channel, "retention_ms": req.retention_ms }))
            .into_response(),
        Err(e) => from_error(&e),
    }
}

#[derive(Deserialize)]
struct FaultSpec {
    kind: String,
    status: Option<u16>,
    ms: Option<u64>,
}

#[derive(Deserialize)]
struct FaultRequest {
    #[serde(default = "one")]
    count: u32,
    fault: FaultSpec,
    target: Option<String>,
}

fn one() -> u32 {
    1
}

fn parse_fault(spec: &FaultSpec) -> Result<Fault, String> {
    Ok(match spec.kind.as_str() {
        "status" => {
            let code = spec.status.unwrap_or(503);
            if StatusCode::from_u16(code).is_err() {
                return Err(format!("invalid status {code}"));
            }
            Fault::Status(code)
        }
        "reset" => Fault::Reset,
        "delay" => Fault::Delay(Duration::from_millis(spec.ms.unwrap_or(1000))),
        "malformed_json" => Fault::MalformedJson,
        "deny_handshake_concurrent_limit" => Fault::DenyHandshakeConcurrentLimit,
        "server_too_busy" => Fault::ServerTooBusy,
        "cut_after_delivery" => Fault::CutAfterDelivery,
        "reset_after_delivery" => Fault::ResetAfterDelivery,
        "hold_after_delivery" => match spec.ms {
            Some(ms) => Fault::HoldAfterDelivery(Duration::from_millis(ms)),
            None => {
                return Err(
                    "hold_after_delivery needs \"ms\": how long to hold the response (choose more \
                     than the client's deadline)"
                        .to_owned(),
                );
            }
        },
        other => return Err(format!("unknown fault kind {other:?}")),
    })
}

/// `{"count": n, "fault": {"kind": "status", "status": 503}, "target": "cometd"}`.
async fn add_faults(
    OrgShared(shared): OrgShared,
    payload: Result<Json<FaultRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let fault = match parse_fault(&req.fault) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let target = match req.target.as_deref() {
        None | Some("cometd") => FaultTarget::CometD,
        Some("token") => FaultTarget::Token,
        Some("any") => FaultTarget::Any,
        Some(other) => return bad(format!("unknown target {other:?}")),
    };
    if fault.is_broken_response() && target == FaultTarget::Token {
        return bad(format!(
            "{} breaks /meta/connect responses; use target \"cometd\" or \"any\", not \"token\"",
            req.fault.kind
        ));
    }
    control(shared).fail_next_on(target, req.count, fault);
    Json(json!({ "queued": req.count })).into_response()
}

async fn clear_faults(OrgShared(shared): OrgShared) -> Response {
    control(shared).clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct ChaosRequest {
    rate: f64,
    #[serde(default)]
    seed: u64,
    max_delay_ms: Option<u64>,
    hold_ms: Option<u64>,
    mix: Option<Value>,
}

/// `"transport"`, `"all"`, or `{"kind": weight, …}` with the names of [`ChaosKind::name`].
fn parse_mix(value: &Value) -> Result<ChaosMix, String> {
    match value {
        Value::String(s) if s == "transport" => Ok(ChaosMix::transport()),
        Value::String(s) if s == "all" => Ok(ChaosMix::all()),
        Value::Object(map) => {
            let mut mix = ChaosMix::none();
            for (name, weight) in map {
                let kind = ChaosKind::from_name(name).ok_or_else(|| {
                    let known: Vec<&str> = ChaosKind::ALL.iter().map(|k| k.name()).collect();
                    format!("unknown chaos kind {name:?}; known: {}", known.join(", "))
                })?;
                let weight = weight
                    .as_u64()
                    .and_then(|w| u32::try_from(w).ok())
                    .ok_or_else(|| format!("the weight of {name} must be a whole number"))?;
                mix = mix.with(kind, weight);
            }
            Ok(mix)
        }
        other => Err(format!(
            "mix must be \"transport\", \"all\" or an object of weights, not {other}"
        )),
    }
}

/// `{"rate": 0.1, "seed": 42, "max_delay_ms": 250, "hold_ms": 5000, "mix": "all"}`.
async fn start_chaos(
    OrgShared(shared): OrgShared,
    payload: Result<Json<ChaosRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let mut config = ChaosConfig::new(req.rate, req.seed);
    if let Some(ms) = req.max_delay_ms {
        config = config.max_delay(Duration::from_millis(ms));
    }
    if let Some(ms) = req.hold_ms {
        config = config.hold(Duration::from_millis(ms));
    }
    if let Some(mix) = &req.mix {
        match parse_mix(mix) {
            Ok(mix) => config = config.mix(mix),
            Err(e) => return bad(e),
        }
    }
    match control(shared).chaos_with(config) {
        Ok(()) => Json(json!({ "rate": req.rate, "seed": req.seed })).into_response(),
        Err(e) => from_error(&e),
    }
}

async fn stop_chaos(OrgShared(shared): OrgShared) -> Response {
    control(shared).stop_chaos();
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(OrgShared(shared): OrgShared) -> Response {
    Json(control(shared).stats()).into_response()
}
