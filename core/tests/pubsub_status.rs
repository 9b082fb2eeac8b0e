//! Reading gRPC response heads and trailers: trailers-only responses, answers that are not gRPC,
//! `grpc-status`, percent-encoded `grpc-message`, Salesforce's `error-code` and `rpc-id`, resets.

use http::{HeaderMap, HeaderValue, StatusCode};
use sfstream_core::pubsub::status::{
    ResponseHead, percent_decode, read_response_head, read_trailers,
};
use sfstream_core::pubsub::{GrpcStatus, PubSubErrorClass, Status};

fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_bytes(value).unwrap());
    }
    map
}

fn ended(head: ResponseHead) -> Status {
    match head {
        ResponseHead::Ended(status) => status,
        other => panic!("expected the call to be over, got {other:?}"),
    }
}

#[test]
fn a_grpc_response_head_starts_a_stream() {
    for ct in [
        "application/grpc",
        "application/grpc+proto",
        "Application/GRPC",
        "application/grpc; charset=utf-8",
    ] {
        let head = read_response_head(StatusCode::OK, &headers(&[("content-type", ct.as_bytes())]));
        assert_eq!(head, ResponseHead::Streaming, "{ct}");
    }
}

#[test]
fn a_trailers_only_response_ends_the_call() {
    let h = headers(&[
        ("content-type", b"application/grpc"),
        ("grpc-status", b"16"),
        ("grpc-message", b"Authentication%20failed rpcId: 1f2e"),
        (
            "error-code",
            b"sfdc.platform.eventbus.grpc.service.auth.error",
        ),
        ("rpc-id", b"1f2e"),
    ]);
    let status = ended(read_response_head(StatusCode::OK, &h));
    assert_eq!(status.code, GrpcStatus::Unauthenticated);
    assert_eq!(status.message, "Authentication failed rpcId: 1f2e");
    assert_eq!(
        status.error_code.as_deref(),
        Some("sfdc.platform.eventbus.grpc.service.auth.error")
    );
    assert_eq!(status.rpc_id.as_deref(), Some("1f2e"));
    assert_eq!(status.class(), PubSubErrorClass::Auth);
    // The rpc id is in the message already: shown once.
    let shown = status.to_string();
    assert_eq!(shown.matches("1f2e").count(), 1, "{shown}");
    assert!(
        shown.starts_with("UNAUTHENTICATED: Authentication failed"),
        "{shown}"
    );
    assert!(shown.contains("fetching a new token"), "{shown}");
}

#[test]
fn a_unary_success_can_come_trailers_only() {
    let h = headers(&[("content-type", b"application/grpc"), ("grpc-status", b"0")]);
    let status = ended(read_response_head(StatusCode::OK, &h));
    assert!(status.is_ok());
    assert_eq!(status.message, "");
}

#[test]
fn an_http_error_without_grpc_status_maps_to_a_grpc_status() {
    let cases = [
        (400, GrpcStatus::Internal),
        (401, GrpcStatus::Unauthenticated),
        (403, GrpcStatus::PermissionDenied),
        (404, GrpcStatus::Unimplemented),
        (429, GrpcStatus::Unavailable),
        (502, GrpcStatus::Unavailable),
        (503, GrpcStatus::Unavailable),
        (504, GrpcStatus::Unavailable),
        (500, GrpcStatus::Unknown),
    ];
    for (code, expected) in cases {
        let status = ended(read_response_head(
            StatusCode::from_u16(code).unwrap(),
            &headers(&[("content-type", b"text/html")]),
        ));
        assert_eq!(status.code, expected, "HTTP {code}");
        assert!(
            status.message.contains(&format!("HTTP {code}")),
            "{}",
            status.message
        );
        assert!(status.message.contains("text/html"), "{}", status.message);
    }
    // A maintenance page is something to wait out.
    let status = ended(read_response_head(
        StatusCode::SERVICE_UNAVAILABLE,
        &HeaderMap::new(),
    ));
    assert_eq!(status.class(), PubSubErrorClass::Transient);
    assert!(
        status.message.contains("no content-type"),
        "{}",
        status.message
    );
}

#[test]
fn a_non_200_with_grpc_status_trusts_the_grpc_status() {
    let h = headers(&[("grpc-status", b"14"), ("grpc-message", b"upstream reset")]);
    let status = ended(read_response_head(StatusCode::BAD_GATEWAY, &h));
    assert_eq!(status.code, GrpcStatus::Unavailable);
    assert_eq!(status.message, "upstream reset");
}

#[test]
fn a_200_that_is_not_grpc_is_unknown_and_says_so() {
    let status = ended(read_response_head(
        StatusCode::OK,
        &headers(&[("content-type", b"text/html; charset=utf-8")]),
    ));
    assert_eq!(status.code, GrpcStatus::Unknown);
    assert!(
        status.message.contains("is the Pub/Sub URL right?"),
        "{}",
        status.message
    );
    // `application/grpcx` is not gRPC either.
    let status = ended(read_response_head(
        StatusCode::OK,
        &headers(&[("content-type", b"application/grpcx")]),
    ));
    assert_eq!(status.code, GrpcStatus::Unknown);
}

#[test]
fn trailers_carry_the_status_and_salesforce_details() {
    let t = headers(&[
        ("grpc-status", b"3"),
        ("grpc-message", b"%5BReplay%5D corrupted%3a rpcId: a-1"),
        (
            "error-code",
            b"sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
        ),
        ("rpc-id", b"a-1"),
    ]);
    let status = read_trailers(&t);
    assert_eq!(status.code, GrpcStatus::InvalidArgument);
    assert_eq!(status.message, "[Replay] corrupted: rpcId: a-1");
    assert_eq!(status.class(), PubSubErrorClass::InvalidReplayId);
}

#[test]
fn a_clean_end_of_stream_is_ok_and_reopened() {
    let status = read_trailers(&headers(&[("grpc-status", b"0")]));
    assert!(status.is_ok());
    assert_eq!(status.error_code, None);
    assert_eq!(status.rpc_id, None);
    assert_eq!(status.class(), PubSubErrorClass::Resubscribe);
}

#[test]
fn a_missing_or_garbled_grpc_status_is_unknown_and_explained() {
    let status = read_trailers(&headers(&[("grpc-message", b"bye")]));
    assert_eq!(status.code, GrpcStatus::Unknown);
    assert_eq!(
        status.message,
        "the call ended without a grpc-status trailer: bye"
    );

    let status = read_trailers(&headers(&[("grpc-status", b"fourteen")]));
    assert_eq!(status.code, GrpcStatus::Unknown);
    assert!(
        status.message.contains("`fourteen` is not a number"),
        "{}",
        status.message
    );

    let status = read_trailers(&headers(&[("grpc-status", b" 14 ")]));
    assert_eq!(status.code, GrpcStatus::Unavailable);
}

#[test]
fn codes_outside_the_known_range_are_kept() {
    let status = read_trailers(&headers(&[("grpc-status", b"42")]));
    assert_eq!(status.code, GrpcStatus::Other(42));
    assert_eq!(status.code.code(), 42);
    assert_eq!(status.code.to_string(), "gRPC status 42");
    for code in 0..=16 {
        let status = GrpcStatus::from_code(code);
        assert_eq!(status.code(), code);
        assert!(!matches!(status, GrpcStatus::Other(_)));
    }
    assert_eq!(GrpcStatus::from_code(14).to_string(), "UNAVAILABLE");
}

#[test]
fn grpc_message_percent_decoding() {
    assert_eq!(percent_decode(b"plain text"), "plain text");
    assert_eq!(percent_decode(b"caf%C3%A9 %e2%9c%93"), "café ✓");
    // Malformed escapes stay as they are.
    assert_eq!(percent_decode(b"100% sure %zz %4"), "100% sure %zz %4");
    // Bytes that are not UTF-8 are replaced, not an error.
    assert_eq!(percent_decode(b"bad %FF byte"), "bad \u{FFFD} byte");
    // A header value with raw non-ASCII bytes is read the same way.
    let status = read_trailers(&headers(&[
        ("grpc-status", b"2"),
        ("grpc-message", b"x\xffy"),
    ]));
    assert_eq!(status.message, "x\u{FFFD}y");
}

#[test]
fn empty_salesforce_trailers_count_as_absent() {
    let status = read_trailers(&headers(&[
        ("grpc-status", b"14"),
        ("error-code", b""),
        ("rpc-id", b""),
    ]));
    assert_eq!(status.error_code, None);
    assert_eq!(status.rpc_id, None);
}

#[test]
fn stream_resets_map_to_statuses() {
    assert_eq!(GrpcStatus::from_reset(0x0), GrpcStatus::Unavailable); // NO_ERROR before trailers
    assert_eq!(GrpcStatus::from_reset(0x7), GrpcStatus::Unavailable); // REFUSED_STREAM
    assert_eq!(GrpcStatus::from_reset(0x8), GrpcStatus::Cancelled);
    assert_eq!(GrpcStatus::from_reset(0xb), GrpcStatus::ResourceExhausted);
    assert_eq!(GrpcStatus::from_reset(0xc), GrpcStatus::PermissionDenied);
    assert_eq!(GrpcStatus::from_reset(0x2), GrpcStatus::Internal);
    let status = Status::from_reset(0);
    assert_eq!(status.class(), PubSubErrorClass::Transient);
    assert!(
        status.message.contains("reset (error code 0x0)"),
        "{}",
        status.message
    );
}
