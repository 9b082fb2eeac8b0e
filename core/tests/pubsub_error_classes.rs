//! Every row of the Pub/Sub error tables: Salesforce's `error-code` suffixes and the gRPC statuses
//! without one, each mapped to the class that decides what the client does. One test per row; a
//! last test checks that no row of the table is left without one.

use sfstream_core::pubsub::classify::{ERROR_CODE_PREFIX, ERROR_CODES, class_of_status};
use sfstream_core::pubsub::{GrpcStatus, PubSubErrorClass, classify};

use PubSubErrorClass::*;

/// The suffixes tested below; the completeness test compares it with the table.
const TESTED: &[&str] = &[
    "service.auth.error",
    "service.auth.refresh.invalid",
    "service.auth.headers.invalid",
    "service.unavailable",
    "service.protection.triggered",
    "service.protection.stream.limit.triggered",
    "service.tenant.license",
    "concurrent.client.limit.exceeded",
    "subscription.limit.exceeded",
    "subscription.fetch.replayid.corrupted",
    "subscription.fetch.replayid.validation.failed",
    "subscription.fetch.requested.events.invalid",
    "subscription.fetch.topic.mismatch",
    "subscription.fetch.replay.repeated",
    "subscription.fetch.overflow",
    "subscription.fetch.request.invalid",
    "subscription.topic.cannot.subscribe",
    "subscription.internal.error",
    "topic.not.found",
    "topic.meta.permission",
    "topic.validation.empty",
    "topic.api.unavailable",
    "schema.meta.permission",
    "schema.validation.failed",
    "schema.api.unavailable",
    "publish.event.count.invalid",
    "publish.topic.mismatch",
    "publish.topic.validation.empty",
    "publish.auth.refresh.invalid",
    "publish.stream.sweeper.timeout",
    "managed.subscription.already.active",
    "config.stopped",
    "config.deleted",
    "developer.name.not.found",
    "subscription.id.not.found",
    "subscription.id.invalid",
    "id.or.developer.name.empty",
    "fetch.request.events.invalid",
    "fetch.request.invalid",
    "fetch.request.commit.request.restricted",
    "fetch.request.auth.request.restricted",
];

/// The full trailer value, under a status that would say something else on its own, so that the
/// code is what decides.
fn by_code(suffix: &str) -> PubSubErrorClass {
    let class = classify(
        GrpcStatus::Unknown,
        Some(&format!("{ERROR_CODE_PREFIX}{suffix}")),
        "",
    );
    // The bare suffix means the same.
    assert_eq!(
        classify(GrpcStatus::Unknown, Some(suffix), ""),
        class,
        "{suffix}"
    );
    class
}

macro_rules! code_rows {
    ($($test:ident: $suffix:literal => $class:expr;)*) => {$(
        #[test]
        fn $test() {
            assert!(TESTED.contains(&$suffix), "list {} in TESTED", $suffix);
            assert_eq!(by_code($suffix), $class, "{}", $suffix);
        }
    )*};
}

code_rows! {
    service_auth_error: "service.auth.error" => Auth;
    service_auth_refresh_invalid: "service.auth.refresh.invalid" => Auth;
    service_auth_headers_invalid: "service.auth.headers.invalid" => Config;
    service_unavailable: "service.unavailable" => Transient;
    service_protection_triggered: "service.protection.triggered" => Transient;
    service_protection_stream_limit: "service.protection.stream.limit.triggered" => Transient;
    service_tenant_license: "service.tenant.license" => Config;
    concurrent_client_limit: "concurrent.client.limit.exceeded" => Limit;
    delivery_limit: "subscription.limit.exceeded" => DeliveryLimit;
    replay_id_corrupted: "subscription.fetch.replayid.corrupted" => InvalidReplayId;
    replay_id_validation_failed: "subscription.fetch.replayid.validation.failed" => ClientBug;
    requested_events_invalid: "subscription.fetch.requested.events.invalid" => ClientBug;
    fetch_topic_mismatch: "subscription.fetch.topic.mismatch" => ClientBug;
    fetch_replay_repeated: "subscription.fetch.replay.repeated" => Resubscribe;
    fetch_overflow: "subscription.fetch.overflow" => ClientBug;
    fetch_request_invalid: "subscription.fetch.request.invalid" => ClientBug;
    topic_cannot_subscribe: "subscription.topic.cannot.subscribe" => Topic;
    subscription_internal_error: "subscription.internal.error" => Resubscribe;
    topic_not_found: "topic.not.found" => Topic;
    topic_meta_permission: "topic.meta.permission" => Topic;
    topic_validation_empty: "topic.validation.empty" => Topic;
    topic_api_unavailable: "topic.api.unavailable" => Transient;
    schema_meta_permission: "schema.meta.permission" => Topic;
    schema_validation_failed: "schema.validation.failed" => Topic;
    schema_api_unavailable: "schema.api.unavailable" => Transient;
    publish_event_count_invalid: "publish.event.count.invalid" => ClientBug;
    publish_topic_mismatch: "publish.topic.mismatch" => ClientBug;
    publish_topic_validation_empty: "publish.topic.validation.empty" => Topic;
    publish_auth_refresh_invalid: "publish.auth.refresh.invalid" => ClientBug;
    publish_stream_sweeper_timeout: "publish.stream.sweeper.timeout" => Resubscribe;
    managed_already_active: "managed.subscription.already.active" => Limit;
    managed_config_stopped: "config.stopped" => Topic;
    managed_config_deleted: "config.deleted" => Topic;
    managed_developer_name_not_found: "developer.name.not.found" => Topic;
    managed_subscription_id_not_found: "subscription.id.not.found" => Topic;
    managed_subscription_id_invalid: "subscription.id.invalid" => Topic;
    managed_id_or_name_empty: "id.or.developer.name.empty" => Topic;
    managed_fetch_events_invalid: "fetch.request.events.invalid" => ClientBug;
    managed_fetch_request_invalid: "fetch.request.invalid" => ClientBug;
    managed_commit_restricted: "fetch.request.commit.request.restricted" => ClientBug;
    managed_auth_restricted: "fetch.request.auth.request.restricted" => ClientBug;
}

macro_rules! status_rows {
    ($($test:ident: $status:expr => $class:expr;)*) => {$(
        #[test]
        fn $test() {
            assert_eq!(class_of_status($status), $class);
            assert_eq!(classify($status, None, ""), $class);
            // An error code this version does not know leaves the decision to the status.
            assert_eq!(
                classify($status, Some("sfdc.platform.eventbus.grpc.something.new"), ""),
                $class
            );
        }
    )*};
}

status_rows! {
    status_ok_is_a_clean_close: GrpcStatus::Ok => Resubscribe;
    status_cancelled: GrpcStatus::Cancelled => Resubscribe;
    status_unknown: GrpcStatus::Unknown => Resubscribe;
    status_invalid_argument: GrpcStatus::InvalidArgument => ClientBug;
    status_deadline_exceeded: GrpcStatus::DeadlineExceeded => Transient;
    status_not_found: GrpcStatus::NotFound => Topic;
    status_already_exists: GrpcStatus::AlreadyExists => ClientBug;
    status_permission_denied: GrpcStatus::PermissionDenied => Topic;
    status_resource_exhausted: GrpcStatus::ResourceExhausted => Limit;
    status_failed_precondition: GrpcStatus::FailedPrecondition => Resubscribe;
    status_aborted: GrpcStatus::Aborted => Resubscribe;
    status_out_of_range: GrpcStatus::OutOfRange => ClientBug;
    status_unimplemented_is_not_a_pubsub_endpoint: GrpcStatus::Unimplemented => Config;
    status_internal: GrpcStatus::Internal => Resubscribe;
    status_unavailable: GrpcStatus::Unavailable => Transient;
    status_data_loss: GrpcStatus::DataLoss => Resubscribe;
    status_unauthenticated: GrpcStatus::Unauthenticated => Auth;
    status_outside_the_known_codes: GrpcStatus::Other(99) => Resubscribe;
}

#[test]
fn every_table_row_is_tested() {
    let table: Vec<&str> = ERROR_CODES.iter().map(|(suffix, _)| *suffix).collect();
    let mut missing: Vec<&str> = table
        .iter()
        .filter(|s| !TESTED.contains(s))
        .copied()
        .collect();
    missing.sort_unstable();
    assert!(missing.is_empty(), "rows without a test: {missing:?}");
    assert_eq!(
        table.len(),
        TESTED.len(),
        "a tested code that is not in the table"
    );
}

#[test]
fn the_delivery_limit_message_is_recognised_without_its_code() {
    let class = classify(
        GrpcStatus::ResourceExhausted,
        None,
        "You have exceeded the event delivery limit for your org. rpcId: 9",
    );
    assert_eq!(class, DeliveryLimit);
}

#[test]
fn a_code_wins_over_the_status_and_matches_on_whole_segments() {
    // UNAVAILABLE alone would back off; the code says the token is bad.
    assert_eq!(
        classify(
            GrpcStatus::Unavailable,
            Some("sfdc.platform.eventbus.grpc.service.auth.error"),
            ""
        ),
        Auth
    );
    // Managed-subscription codes are matched by their tail, whatever prefix they come with.
    assert_eq!(
        by_code("managed.subscription.config.stopped"),
        Topic,
        "a tail after a dot"
    );
    // A code that merely ends with the same letters is not the same code.
    assert_eq!(
        classify(GrpcStatus::Unavailable, Some("xconfig.stopped"), ""),
        Transient
    );
}

#[test]
fn every_class_has_an_action() {
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
        assert!(class.action().len() > 10, "{class:?}");
    }
    assert!(DeliveryLimit.action().contains("much later"));
}
