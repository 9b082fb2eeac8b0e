//! What a Pub/Sub API failure means for the client: Salesforce's `error-code` trailer when it
//! names a known case, else the gRPC status. The whole decision is the two tables below.
//!
//! ```
//! use sfstream_core::pubsub::{GrpcStatus, PubSubErrorClass, classify};
//!
//! let class = classify(
//!     GrpcStatus::ResourceExhausted,
//!     Some("sfdc.platform.eventbus.grpc.subscription.limit.exceeded"),
//!     "You have exceeded the event delivery limit for your org.",
//! );
//! assert_eq!(class, PubSubErrorClass::DeliveryLimit);
//! // Without Salesforce's code, the status decides.
//! assert_eq!(classify(GrpcStatus::Unavailable, None, ""), PubSubErrorClass::Transient);
//! ```

use super::status::GrpcStatus;

/// What kind of failure a Pub/Sub call ended with, which decides what the client does about it.
/// Mirrors [`crate::ErrorClass`] of the Streaming API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PubSubErrorClass {
    /// The token is not accepted (`UNAUTHENTICATED`, `service.auth.error`): fetch a new token,
    /// then open the streams again.
    Auth,
    /// The service is down or busy, or the connection was cut (`UNAVAILABLE`, resets,
    /// `service.unavailable`, protection codes): back off with jitter and try again.
    Transient,
    /// A stream ended without a specific cause (an idle close, `INTERNAL`, `subscription.internal.error`,
    /// a replay that went backwards): open a new stream from the last processed replay id.
    Resubscribe,
    /// The stored replay id is invalid or outside the retention window
    /// (`subscription.fetch.replayid.corrupted`): apply the configured replay fallback once.
    InvalidReplayId,
    /// Too many concurrent clients, or the managed subscription is active elsewhere: back off
    /// with a long cap and try again.
    Limit,
    /// The org's 24-hour event delivery allocation is used up (`subscription.limit.exceeded`):
    /// stay disconnected and try again much later; retrying soon only burns more.
    DeliveryLimit,
    /// This topic (or managed subscription) cannot be read: it does not exist, the user lacks
    /// access, or it is stopped. It fails; the other topics go on.
    Topic,
    /// The configuration is wrong for every call (missing auth headers, no license, not a Pub/Sub
    /// endpoint): stop with this error.
    Config,
    /// The server says the client sent something malformed (no replay id with `CUSTOM`, no
    /// credit requested, a changed topic). This is a bug in sfstream: back off and try again.
    ClientBug,
}

impl PubSubErrorClass {
    /// What the client does about an error of this class, in words for logs and error messages.
    #[must_use]
    pub fn action(self) -> &'static str {
        match self {
            Self::Auth => "fetching a new token, then opening the streams again",
            Self::Transient => "backing off and trying again",
            Self::Resubscribe => "opening the stream again from the last processed replay id",
            Self::InvalidReplayId => "applying the replay fallback if one is configured",
            Self::Limit => "backing off and trying again later; check the org's Pub/Sub limits",
            Self::DeliveryLimit => {
                "staying disconnected: the org's 24-hour event delivery allocation is used up; \
                 trying again much later"
            }
            Self::Topic => {
                "giving up on this topic: check its name and that the user may read it (or that \
                 the managed subscription exists and runs)"
            }
            Self::Config => "stopping: fix the configuration",
            Self::ClientBug => "backing off and trying again; please report this as a bug",
        }
    }
}

/// The prefix of Salesforce's `error-code` values.
pub const ERROR_CODE_PREFIX: &str = "sfdc.platform.eventbus.grpc.";

/// Salesforce's `error-code` values (after [`ERROR_CODE_PREFIX`]) and their classes. A code
/// matches an entry equal to it or ending in `.` + the entry, the longest entry first (the
/// managed-subscription codes are listed by their distinctive tails).
pub const ERROR_CODES: &[(&str, PubSubErrorClass)] = {
    use PubSubErrorClass::{
        Auth, ClientBug, Config, DeliveryLimit, InvalidReplayId, Limit, Resubscribe, Topic,
        Transient,
    };
    &[
        ("service.auth.error", Auth),
        ("service.auth.refresh.invalid", Auth),
        ("service.auth.headers.invalid", Config),
        ("service.unavailable", Transient),
        ("service.protection.triggered", Transient),
        ("service.protection.stream.limit.triggered", Transient),
        ("service.tenant.license", Config),
        ("concurrent.client.limit.exceeded", Limit),
        ("subscription.limit.exceeded", DeliveryLimit),
        ("subscription.fetch.replayid.corrupted", InvalidReplayId),
        ("subscription.fetch.replayid.validation.failed", ClientBug),
        ("subscription.fetch.requested.events.invalid", ClientBug),
        ("subscription.fetch.topic.mismatch", ClientBug),
        ("subscription.fetch.replay.repeated", Resubscribe),
        ("subscription.fetch.overflow", ClientBug),
        ("subscription.fetch.request.invalid", ClientBug),
        ("subscription.topic.cannot.subscribe", Topic),
        ("subscription.internal.error", Resubscribe),
        ("topic.not.found", Topic),
        ("topic.meta.permission", Topic),
        ("topic.validation.empty", Topic),
        ("topic.api.unavailable", Transient),
        ("schema.meta.permission", Topic),
        ("schema.validation.failed", Topic),
        ("schema.api.unavailable", Transient),
        ("publish.event.count.invalid", ClientBug),
        ("publish.topic.mismatch", ClientBug),
        ("publish.topic.validation.empty", Topic),
        ("publish.auth.refresh.invalid", ClientBug),
        ("publish.stream.sweeper.timeout", Resubscribe),
        ("managed.subscription.already.active", Limit),
        ("config.stopped", Topic),
        ("config.deleted", Topic),
        ("developer.name.not.found", Topic),
        ("subscription.id.not.found", Topic),
        ("subscription.id.invalid", Topic),
        ("id.or.developer.name.empty", Topic),
        ("fetch.request.events.invalid", ClientBug),
        ("fetch.request.invalid", ClientBug),
        ("fetch.request.commit.request.restricted", ClientBug),
        ("fetch.request.auth.request.restricted", ClientBug),
    ]
};

/// The class of a status without a known `error-code`.
#[must_use]
pub fn class_of_status(status: GrpcStatus) -> PubSubErrorClass {
    use PubSubErrorClass::{Auth, ClientBug, Config, Limit, Resubscribe, Topic, Transient};
    match status {
        GrpcStatus::Unauthenticated => Auth,
        GrpcStatus::Unavailable | GrpcStatus::DeadlineExceeded => Transient,
        GrpcStatus::NotFound | GrpcStatus::PermissionDenied => Topic,
        GrpcStatus::ResourceExhausted => Limit,
        GrpcStatus::InvalidArgument | GrpcStatus::AlreadyExists | GrpcStatus::OutOfRange => {
            ClientBug
        }
        GrpcStatus::Unimplemented => Config,
        GrpcStatus::Ok
        | GrpcStatus::Cancelled
        | GrpcStatus::Unknown
        | GrpcStatus::FailedPrecondition
        | GrpcStatus::Aborted
        | GrpcStatus::Internal
        | GrpcStatus::DataLoss
        | GrpcStatus::Other(_) => Resubscribe,
    }
}

/// The class of Salesforce's `error-code` value, if it is a known one.
#[must_use]
pub fn class_of_error_code(error_code: &str) -> Option<PubSubErrorClass> {
    let code = error_code.trim();
    let code = code.strip_prefix(ERROR_CODE_PREFIX).unwrap_or(code);
    ERROR_CODES
        .iter()
        .filter(|(entry, _)| {
            code == *entry
                || code
                    .strip_suffix(entry)
                    .is_some_and(|head| head.ends_with('.'))
        })
        .max_by_key(|(entry, _)| entry.len())
        .map(|(_, class)| *class)
}

/// Decides the class of a failed (or ended) call from its status, Salesforce's `error-code`
/// trailer and the status message.
#[must_use]
pub fn classify(status: GrpcStatus, error_code: Option<&str>, message: &str) -> PubSubErrorClass {
    if let Some(class) = error_code.and_then(class_of_error_code) {
        return class;
    }
    // The delivery-limit message is documented; recognise it even without the code.
    if message.contains("exceeded the event delivery limit") {
        return PubSubErrorClass::DeliveryLimit;
    }
    class_of_status(status)
}
