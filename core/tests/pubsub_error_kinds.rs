//! Every Pub/Sub error maps to one of the Streaming API's kinds, with whether it is fatal or
//! retryable and which topic it names: applications match both APIs' errors alike.

use std::time::Duration;

use sfstream_core::ErrorKind::{self, *};
use sfstream_core::oauth::AuthError;
use sfstream_core::pubsub::{CallKind, GrpcStatus, PubSubError, PubSubErrorClass, Status};

fn call(code: GrpcStatus, error_code: Option<&str>, target: &str) -> PubSubError {
    let mut status = Status::new(code, "m");
    status.error_code = error_code.map(str::to_owned);
    PubSubError::Call {
        kind: CallKind::Subscribe,
        target: target.into(),
        status,
    }
}

#[test]
fn every_error_has_a_kind_a_fatality_a_retryability_and_its_topic() {
    let t = "/event/Order__e";
    let cases: Vec<(PubSubError, ErrorKind, bool, bool, Option<&str>)> = vec![
        (
            call(GrpcStatus::Unauthenticated, None, t),
            Authentication,
            false,
            true,
            Some(t),
        ),
        (
            call(GrpcStatus::Unavailable, None, t),
            Server,
            false,
            true,
            Some(t),
        ),
        (
            call(GrpcStatus::Internal, None, t),
            Server,
            false,
            true,
            Some(t),
        ),
        (
            call(GrpcStatus::NotFound, None, t),
            Channel,
            false,
            false,
            Some(t),
        ),
        (
            call(GrpcStatus::PermissionDenied, None, t),
            Permission,
            false,
            false,
            Some(t),
        ),
        (
            call(GrpcStatus::ResourceExhausted, None, t),
            Limit,
            false,
            true,
            Some(t),
        ),
        (
            call(GrpcStatus::InvalidArgument, None, t),
            Server,
            false,
            true,
            Some(t),
        ),
        (
            call(GrpcStatus::Unimplemented, None, t),
            Configuration,
            true,
            false,
            Some(t),
        ),
        (
            call(
                GrpcStatus::InvalidArgument,
                Some("sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"),
                t,
            ),
            Replay,
            false,
            false,
            Some(t),
        ),
        // A schema call names a schema id, not a topic.
        (
            call(GrpcStatus::Unavailable, None, "schema-1"),
            Server,
            false,
            true,
            None,
        ),
        (
            PubSubError::Auth(AuthError::TokenRefused { detail: "x".into() }),
            Authentication,
            true,
            false,
            None,
        ),
        (
            PubSubError::Watchdog {
                topic: t.into(),
                silent_for: Duration::from_secs(70),
            },
            Transport,
            false,
            true,
            Some(t),
        ),
        (
            PubSubError::InvalidOperation("x".into()),
            InvalidOperation,
            false,
            false,
            None,
        ),
        (
            PubSubError::Config("x".into()),
            Configuration,
            true,
            false,
            None,
        ),
        (PubSubError::Closed, ClosedByUser, true, false, None),
    ];
    for (error, kind, fatal, retryable, topic) in cases {
        assert_eq!(error.kind(), kind, "{error}");
        assert_eq!(error.is_fatal(), fatal, "fatal: {error}");
        assert_eq!(error.is_retryable(), retryable, "retryable: {error}");
        assert_eq!(error.topic(), topic, "topic: {error}");
    }
}

#[test]
fn a_class_is_retried_exactly_when_its_action_is_to_try_again() {
    use PubSubErrorClass::*;
    for class in [
        Auth,
        Transient,
        Resubscribe,
        InvalidReplayId,
        Limit,
        DeliveryLimit,
        Topic,
        Config,
        ClientBug,
    ] {
        let gives_up = class.action().starts_with("giving up")
            || class.action().starts_with("stopping")
            || class.action().starts_with("applying the replay fallback");
        assert_eq!(
            class.is_retried(),
            !gives_up,
            "{class:?}: {}",
            class.action()
        );
    }
}
