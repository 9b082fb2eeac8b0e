//! The control API over HTTP/JSON under `/_emulator/`, served on the gRPC port, so that Node or
//! Python tests can drive the emulator. Errors are HTTP 400 (404 for unknown names) with
//! `{"error": "…"}`. Faults never apply to these routes.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{ManagedState, ReplayStart};
use crate::control::Control;
use crate::error::Error;
use crate::faults::{Fault, FaultTarget};
use crate::schema::{Field, FieldType};
use crate::state::Shared;
use crate::util;

/// The control routes.
pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_emulator/settings", get(settings))
        .route("/_emulator/topics", get(topics).post(create_topic))
        .route("/_emulator/topics/schema", post(change_schema))
        .route("/_emulator/topics/reset", post(reset_topic))
        .route("/_emulator/publish", post(publish))
        .route(
            "/_emulator/managed_subscriptions",
            get(managed_list).post(managed_create),
        )
        .route(
            "/_emulator/managed_subscriptions/state",
            post(managed_state),
        )
        .route(
            "/_emulator/managed_subscriptions/delete",
            post(managed_delete),
        )
        .route("/_emulator/tokens", post(issue_token))
        .route("/_emulator/tokens/expire", post(expire_tokens))
        .route("/_emulator/clock/advance", post(advance_clock))
        .route("/_emulator/faults", post(add_faults).delete(clear_faults))
        .route("/_emulator/chaos", post(start_chaos).delete(stop_chaos))
        .route("/_emulator/stats", get(stats))
        .with_state(shared)
}

type S = State<Arc<Shared>>;

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
    let code = match e {
        Error::UnknownTopic(_) | Error::UnknownSubscription(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    (code, Json(json!({ "error": e.to_string() }))).into_response()
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

async fn settings(State(shared): S) -> Response {
    let s = &shared.settings;
    Json(json!({
        "url": s.url,
        "org_id": s.org_id,
        "user_id": s.user_id,
        "access_token": s.access_token,
        "tls_cert_path": s.tls_cert_path.as_ref().map(|p| p.display().to_string()),
        "keepalive_ms": util::millis(s.keepalive),
        "idle_timeout_ms": util::millis(s.idle_timeout),
        "publish_idle_timeout_ms": util::millis(s.publish_idle_timeout),
        "retention_ms": util::millis(s.retention),
        "max_events_per_response": s.max_events_per_response,
        "delivery_allocation": s.delivery_allocation,
    }))
    .into_response()
}

async fn topics(State(shared): S) -> Response {
    Json(json!({ "topics": control(shared).topics() })).into_response()
}

#[derive(Deserialize)]
struct FieldSpec {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(Deserialize)]
struct TopicRequest {
    #[serde(alias = "topic")]
    name: String,
    fields: Option<Vec<FieldSpec>>,
    /// An Avro schema, as a JSON object or as a string.
    schema: Option<Value>,
}

fn fields_of(specs: Option<Vec<FieldSpec>>) -> Result<Option<Vec<Field>>, Error> {
    specs
        .map(|list| {
            list.into_iter()
                .map(|f| Ok(Field::new(f.name, FieldType::parse(&f.ty)?)))
                .collect()
        })
        .transpose()
}

fn schema_text(schema: Option<Value>) -> Option<String> {
    schema.map(|v| match v {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

async fn create_topic(
    State(shared): S,
    payload: Result<Json<TopicRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let fields = match fields_of(req.fields) {
        Ok(f) => f,
        Err(e) => return from_error(&e),
    };
    let result = shared
        .lock()
        .create_topic(&req.name, fields.as_deref(), schema_text(req.schema));
    match result {
        Ok(kind) => (
            StatusCode::CREATED,
            Json(json!({ "name": req.name, "kind": kind })),
        )
            .into_response(),
        Err(e) => from_error(&e),
    }
}

async fn change_schema(
    State(shared): S,
    payload: Result<Json<TopicRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let fields = match fields_of(req.fields) {
        Ok(f) => f,
        Err(e) => return from_error(&e),
    };
    let schema = schema_text(req.schema);
    match control(shared).change_schema(&req.name, fields.as_deref(), schema.as_deref()) {
        Ok(id) => Json(json!({ "schema_id": id })).into_response(),
        Err(e) => from_error(&e),
    }
}

#[derive(Deserialize)]
struct TopicName {
    topic: String,
}

async fn reset_topic(
    State(shared): S,
    payload: Result<Json<TopicName>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    match control(shared).reset_replay_ids(&req.topic) {
        Ok(()) => Json(json!({ "reset": req.topic })).into_response(),
        Err(e) => from_error(&e),
    }
}

#[derive(Deserialize)]
struct PublishRequest {
    topic: String,
    payload: Option<Value>,
    payloads: Option<Vec<Value>>,
    count: Option<usize>,
}

/// `{"topic","payload"}` → `{"replay_id"}`; `{"topic","payloads":[…]}` or `{"topic","count"}` →
/// `{"replay_ids"}` (standard base64 of the 8 bytes).
async fn publish(
    State(shared): S,
    payload: Result<Json<PublishRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let c = control(shared);
    match (req.payload, req.payloads, req.count) {
        (Some(p), None, None) => match c.publish(&req.topic, p) {
            Ok(id) => Json(json!({ "replay_id": id })).into_response(),
            Err(e) => from_error(&e),
        },
        (None, Some(list), None) => match c.publish_many(&req.topic, list) {
            Ok(ids) => Json(json!({ "replay_ids": ids })).into_response(),
            Err(e) => from_error(&e),
        },
        (None, None, Some(n)) => match c.publish_generated(&req.topic, n) {
            Ok(ids) => Json(json!({ "replay_ids": ids })).into_response(),
            Err(e) => from_error(&e),
        },
        _ => bad("give exactly one of payload, payloads or count"),
    }
}

async fn managed_list(State(shared): S) -> Response {
    Json(json!({ "managed_subscriptions": control(shared).managed_subscriptions() }))
        .into_response()
}

#[derive(Deserialize)]
struct ManagedCreate {
    developer_name: String,
    topic: String,
    #[serde(default)]
    default_replay: ReplayStart,
    #[serde(default)]
    error_recovery_replay: ReplayStart,
    #[serde(default)]
    state: ManagedState,
}

async fn managed_create(
    State(shared): S,
    payload: Result<Json<ManagedCreate>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let c = control(shared);
    let id = match c.create_managed_subscription(
        &req.developer_name,
        &req.topic,
        req.default_replay,
        req.error_recovery_replay,
    ) {
        Ok(id) => id,
        Err(e) => return from_error(&e),
    };
    if req.state == ManagedState::Stop
        && let Err(e) = c.set_managed_state(&id, ManagedState::Stop)
    {
        return from_error(&e);
    }
    (
        StatusCode::CREATED,
        Json(json!({ "id": id, "developer_name": req.developer_name })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct ManagedStateRequest {
    subscription: String,
    state: Option<ManagedState>,
}

async fn managed_state(
    State(shared): S,
    payload: Result<Json<ManagedStateRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let Some(state) = req.state else {
        return bad("state must be RUN or STOP");
    };
    match control(shared).set_managed_state(&req.subscription, state) {
        Ok(()) => Json(json!({ "subscription": req.subscription, "state": state })).into_response(),
        Err(e) => from_error(&e),
    }
}

async fn managed_delete(
    State(shared): S,
    payload: Result<Json<ManagedStateRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    match control(shared).delete_managed_subscription(&req.subscription) {
        Ok(()) => Json(json!({ "deleted": req.subscription })).into_response(),
        Err(e) => from_error(&e),
    }
}

async fn issue_token(State(shared): S) -> Response {
    match control(shared).issue_token() {
        Some(token) => Json(json!({ "access_token": token })).into_response(),
        None => bad("the emulator runs with a custom token check; issue tokens there"),
    }
}

async fn expire_tokens(State(shared): S) -> Response {
    match control(shared).expire_tokens() {
        Some(n) => Json(json!({ "expired": n })).into_response(),
        None => bad("the emulator runs with a custom token check; expire tokens there"),
    }
}

#[derive(Deserialize)]
struct Advance {
    ms: u64,
}

async fn advance_clock(
    State(shared): S,
    payload: Result<Json<Advance>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let c = control(shared);
    match c.advance_clock(Duration::from_millis(req.ms)) {
        Ok(()) => Json(json!({ "now_ms": c.now_ms() })).into_response(),
        Err(e) => from_error(&e),
    }
}

#[derive(Deserialize)]
struct FaultSpec {
    kind: String,
    events: Option<u32>,
    code: Option<i32>,
    error_code: Option<String>,
    message: Option<String>,
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

fn parse_fault(spec: FaultSpec) -> Result<Fault, String> {
    Ok(match spec.kind.as_str() {
        "unavailable" => Fault::Unavailable,
        "cut_after_delivery" => Fault::CutAfterDelivery,
        "stall" => Fault::Stall,
        "delivery_limit_exceeded" => Fault::DeliveryLimitExceeded,
        "token_expired" => Fault::TokenExpired,
        "corrupted_replay_id" => Fault::CorruptedReplayId,
        "duplicate_delivery" => Fault::DuplicateDelivery {
            events: spec.events.unwrap_or(1),
        },
        "status" => {
            let code = spec.code.unwrap_or(14);
            if !(1..=16).contains(&code) {
                return Err(format!("code {code} is not a gRPC error status (1–16)"));
            }
            Fault::Status {
                code,
                error_code: spec.error_code,
                message: spec.message.unwrap_or_else(|| "Injected failure.".into()),
            }
        }
        other => return Err(format!("unknown fault kind {other:?}")),
    })
}

async fn add_faults(
    State(shared): S,
    payload: Result<Json<FaultRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    let fault = match parse_fault(req.fault) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let target = match req.target.as_deref() {
        None | Some("any") => FaultTarget::Any,
        Some("subscribe") => FaultTarget::Subscribe,
        Some("managed_subscribe") => FaultTarget::ManagedSubscribe,
        Some("publish") => FaultTarget::Publish,
        Some("unary") => FaultTarget::Unary,
        Some(other) => {
            return bad(format!(
                "unknown target {other:?}: any, subscribe, managed_subscribe, publish or unary"
            ));
        }
    };
    control(shared).fail_next_on(target, req.count, fault);
    Json(json!({ "queued": req.count })).into_response()
}

async fn clear_faults(State(shared): S) -> Response {
    control(shared).clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct ChaosRequest {
    rate: f64,
    #[serde(default)]
    seed: u64,
}

async fn start_chaos(
    State(shared): S,
    payload: Result<Json<ChaosRequest>, JsonRejection>,
) -> Response {
    let req = body!(payload);
    match control(shared).chaos(req.rate, req.seed) {
        Ok(()) => Json(json!({ "rate": req.rate, "seed": req.seed })).into_response(),
        Err(e) => from_error(&e),
    }
}

async fn stop_chaos(State(shared): S) -> Response {
    control(shared).stop_chaos();
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(State(shared): S) -> Response {
    Json(control(shared).stats()).into_response()
}
