//! The gRPC errors the emulator sends. Errors Salesforce itself generates carry the trailer
//! `error-code: sfdc.platform.eventbus.grpc.<suffix>`, the trailer `rpc-id`, and end their message
//! with `rpcId: <id>`; infrastructure errors (resets, an oversize request) carry neither.

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

/// The prefix of every Salesforce `error-code`.
pub const ERROR_CODE_PREFIX: &str = "sfdc.platform.eventbus.grpc.";

/// The message of the delivery-limit error, as Salesforce words it.
pub const DELIVERY_LIMIT_MESSAGE: &str = "You have exceeded the event delivery limit for your org.";

/// The message of an infrastructure reset, as Salesforce's proxy words it.
pub const RESET_MESSAGE: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: remote reset";

/// A Salesforce-generated error: `code`, `error-code` trailer `…<suffix>`, `rpc-id` trailer and
/// the `rpcId:` suffix on the message.
pub(crate) fn salesforce(code: Code, suffix: &str, message: &str, rpc_id: &str) -> Status {
    let mut status = Status::new(code, format!("{message} rpcId: {rpc_id}"));
    let error_code = format!("{ERROR_CODE_PREFIX}{suffix}");
    if let Ok(v) = MetadataValue::try_from(error_code.as_str()) {
        status.metadata_mut().insert("error-code", v);
    }
    if let Ok(v) = MetadataValue::try_from(rpc_id) {
        status.metadata_mut().insert("rpc-id", v);
    }
    status
}

/// An infrastructure `UNAVAILABLE`: no `error-code`, no `rpc-id`.
pub(crate) fn reset() -> Status {
    Status::unavailable(RESET_MESSAGE)
}

pub(crate) fn auth_error(rpc_id: &str) -> Status {
    salesforce(
        Code::Unauthenticated,
        "service.auth.error",
        "Authentication failed: the access token is invalid or expired, or the tenant id does not match it.",
        rpc_id,
    )
}

pub(crate) fn auth_headers_invalid(rpc_id: &str) -> Status {
    salesforce(
        Code::Unauthenticated,
        "service.auth.headers.invalid",
        "The accesstoken, instanceurl and tenantid headers must all be present and not blank.",
        rpc_id,
    )
}

pub(crate) fn delivery_limit(rpc_id: &str) -> Status {
    salesforce(
        Code::ResourceExhausted,
        "subscription.limit.exceeded",
        DELIVERY_LIMIT_MESSAGE,
        rpc_id,
    )
}

pub(crate) fn replay_corrupted(rpc_id: &str) -> Status {
    salesforce(
        Code::InvalidArgument,
        "subscription.fetch.replayid.corrupted",
        "The Replay ID validation failed. Ensure that the Replay ID is valid and within the retention window.",
        rpc_id,
    )
}

pub(crate) fn topic_not_found(rpc_id: &str, topic: &str, permission_denied: bool) -> Status {
    if permission_denied {
        salesforce(
            Code::PermissionDenied,
            "topic.meta.permission",
            &format!("You don't have access to topic {topic}, or it doesn't exist."),
            rpc_id,
        )
    } else {
        salesforce(
            Code::NotFound,
            "topic.not.found",
            &format!("Topic {topic} doesn't exist."),
            rpc_id,
        )
    }
}
