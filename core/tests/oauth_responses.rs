//! Token responses: success shapes, Salesforce's error replies, and hostile bodies.

use http::StatusCode;
use proptest::prelude::*;
use sfstream_core::Secret;
use sfstream_core::oauth::{AuthError, Token, parse_token_response};

/// The success response from the reference (restforce README).
const SAMPLE: &str = r#"{
  "access_token": "00Dx0000000BV7z!AR8AQP0jITN80ESEsj5EbaZTFG0RNBaT1cyWk7T5rqoDjoNIWQ2ME_sTZzBjfmOE6zMHq6y8PIW4eWze9JksNEkWUl.Cju7m4",
  "signature": "SSSbLO/gBhmmyNUvN18ODBDFYHzakxOMgqYtu+hDPsc=",
  "scope": "refresh_token full",
  "instance_url": "https://na1.salesforce.com",
  "id": "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
  "token_type": "Bearer",
  "issued_at": "1278448384422"
}"#;

fn ok(body: &str) -> Token {
    parse_token_response(StatusCode::OK, body.as_bytes()).expect("a token")
}

fn err(status: u16, body: &[u8]) -> AuthError {
    parse_token_response(StatusCode::from_u16(status).unwrap(), body).expect_err("an error")
}

fn malformed_detail(status: u16, body: &[u8]) -> String {
    match err(status, body) {
        AuthError::Malformed { status: s, detail } => {
            assert_eq!(s, status);
            detail
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// A 404, an HTML page or a JSON body without `error` is not a token endpoint talking: the URL
/// is wrong, not the credentials. Salesforce's own refusals, overload and rate limits are not.
#[test]
fn replies_that_are_not_from_a_token_endpoint_are_told_apart() {
    let html = b"<!DOCTYPE html><html><body>Not Found</body></html>";
    for (status, body) in [
        (404, &b""[..]),
        (404, &html[..]),
        (405, &html[..]),
        (200, &html[..]),
        (403, &b"{\"message\":\"forbidden\"}"[..]),
        (200, &b"{\"hello\":1}"[..]),
    ] {
        let e = err(status, body);
        assert!(
            e.is_not_a_token_endpoint(),
            "HTTP {status} {:?}: {e:?}",
            String::from_utf8_lossy(body)
        );
        assert!(!e.is_transient(), "{e:?}");
    }
    for (status, body) in [
        (
            400,
            &br#"{"error":"invalid_grant","error_description":"authentication failure"}"#[..],
        ),
        (
            401,
            &br#"{"error":"invalid_client","error_description":"invalid client credentials"}"#[..],
        ),
        (503, &html[..]),
        (500, &b""[..]),
        (429, &html[..]),
    ] {
        let e = err(status, body);
        assert!(
            !e.is_not_a_token_endpoint(),
            "HTTP {status} {:?}: {e:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn parses_the_salesforce_sample() {
    let t = ok(SAMPLE);
    assert!(t.access_token.expose().starts_with("00Dx0000000BV7z!AR8"));
    assert_eq!(t.instance_url, "https://na1.salesforce.com");
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.issued_at.as_deref(), Some("1278448384422"));
    assert_eq!(t.scope.as_deref(), Some("refresh_token full"));
    assert_eq!(
        t.signature.as_deref(),
        Some("SSSbLO/gBhmmyNUvN18ODBDFYHzakxOMgqYtu+hDPsc=")
    );
    assert!(t.refresh_token.is_none());
    assert_eq!(t.org_id(), Some("00Dx0000000BV7z"));
    assert_eq!(t.user_id(), Some("005x00000012Q9P"));
}

#[test]
fn minimal_token_gets_defaults() {
    let t = ok(r#"{"access_token":"tok","instance_url":"https://a.my.salesforce.com/"}"#);
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.instance_url, "https://a.my.salesforce.com");
    assert!(t.id.is_none() && t.issued_at.is_none() && t.scope.is_none());
    assert_eq!(t.org_id(), None);
    assert_eq!(t.user_id(), None);
}

#[test]
fn issued_at_as_number_and_unknown_fields_are_accepted() {
    let t = ok(
        r#"{"access_token":"tok","instance_url":"https://a.my.salesforce.com",
        "issued_at":1278448384422,"sfdc_community_id":"x","api_instance_url":"https://api",
        "id_token":"eyJ","refresh_token":"5Aep861","token_type":"Bearer","scope":7}"#,
    );
    assert_eq!(t.issued_at.as_deref(), Some("1278448384422"));
    assert_eq!(
        t.refresh_token.as_ref().map(Secret::expose),
        Some("5Aep861")
    );
    // An optional field of the wrong type is ignored, not fatal.
    assert!(t.scope.is_none());
}

#[test]
fn accepts_any_2xx() {
    let t = parse_token_response(
        StatusCode::CREATED,
        br#"{"access_token":"tok","instance_url":"https://a.my.salesforce.com"}"#,
    )
    .unwrap();
    assert_eq!(t.access_token.expose(), "tok");
}

#[test]
fn identity_url_variants() {
    let with = |id: &str| {
        let mut t = Token::new(Secret::new("t"), "https://a.my.salesforce.com");
        t.id = Some(id.to_owned());
        (
            t.org_id().map(str::to_owned),
            t.user_id().map(str::to_owned),
        )
    };
    assert_eq!(
        with("https://login.salesforce.com/id/00D/005/"),
        (Some("00D".into()), Some("005".into()))
    );
    assert_eq!(
        with("https://login.salesforce.com/id/00D/005?x=1"),
        (Some("00D".into()), Some("005".into()))
    );
    assert_eq!(with("005"), (None, None));
    assert_eq!(with("https://x"), (None, None));
    assert_eq!(with(""), (None, None));
}

#[test]
fn authorization_header_is_bearer_and_sensitive() {
    let t = ok(SAMPLE);
    let h = t.authorization_header();
    assert!(h.is_sensitive());
    assert_eq!(
        h.to_str().unwrap(),
        format!("Bearer {}", t.access_token.expose())
    );
    // A hand-built token with bytes a header cannot carry degrades instead of panicking.
    let odd = Token::new(Secret::new("a\r\nb é"), "https://x.my.salesforce.com");
    assert_eq!(odd.authorization_header().to_str().unwrap(), "Bearer ab");
}

#[test]
fn invalid_grant_authentication_failure_explains_the_fixes() {
    let e = err(
        400,
        br#"{"error":"invalid_grant","error_description":"authentication failure"}"#,
    );
    assert_eq!(
        e,
        AuthError::Rejected {
            status: 400,
            error: "invalid_grant".into(),
            description: "authentication failure".into()
        }
    );
    let text = e.to_string();
    assert!(
        text.contains("invalid_grant: authentication failure"),
        "{text}"
    );
    for fix in [
        "security token",
        "IP",
        "username-password flow",
        "login URL",
    ] {
        assert!(text.contains(fix), "missing {fix:?} in {text}");
    }
    assert!(!e.is_transient());
}

#[test]
fn known_errors_have_specific_hints() {
    let cases: [(&str, &str, &str); 10] = [
        (
            "invalid_grant",
            "user hasn't approved this consumer",
            "pre-authorize",
        ),
        (
            "invalid_grant",
            "no client credentials user enabled",
            "Run As",
        ),
        (
            "invalid_grant",
            "request not supported on this domain",
            "My Domain",
        ),
        (
            "invalid_grant",
            "expired access/refresh token",
            "authorize again",
        ),
        ("invalid_grant", "audience is invalid", "audience"),
        (
            "invalid_client_id",
            "client identifier invalid",
            "consumer key",
        ),
        (
            "invalid_client",
            "invalid client credentials",
            "consumer secret",
        ),
        ("inactive_user", "user is inactive", "inactive"),
        ("inactive_org", "org is locked", "locked"),
        ("rate_limit_exceeded", "ip rate limit exceeded", "wait"),
    ];
    for (error, description, needle) in cases {
        let body = serde_json::json!({"error": error, "error_description": description});
        let e = err(400, body.to_string().as_bytes());
        let hint = e.hint().unwrap_or_else(|| panic!("no hint for {error}"));
        assert!(hint.contains(needle), "{error}/{description}: {hint}");
        assert!(e.to_string().contains(hint));
    }
    let limited = err(
        400,
        br#"{"error":"rate_limit_exceeded","error_description":"x"}"#,
    );
    assert!(limited.is_transient());
    let unknown = err(400, br#"{"error":"something_new"}"#);
    assert!(unknown.hint().is_none());
    assert_eq!(
        unknown.to_string(),
        "token request rejected (HTTP 400): something_new"
    );
}

#[test]
fn error_text_from_the_server_is_bounded_and_cleaned() {
    let long = "x".repeat(10_000);
    let body = serde_json::json!({"error": "invalid_request", "error_description": format!("a\u{7}\n{long}")});
    match err(400, body.to_string().as_bytes()) {
        AuthError::Rejected { description, .. } => {
            assert!(description.chars().count() <= 301, "{}", description.len());
            assert!(!description.chars().any(char::is_control));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_field_in_a_2xx_without_token_is_a_rejection() {
    let e = parse_token_response(StatusCode::OK, br#"{"error":"invalid_grant"}"#).unwrap_err();
    assert!(matches!(e, AuthError::Rejected { status: 200, .. }));
}

#[test]
fn html_error_pages_are_malformed_and_transient_when_5xx() {
    let body = b"<html><body>Maintenance: secret-page-content</body></html>";
    let detail = malformed_detail(503, body);
    assert!(detail.contains("Service Unavailable"), "{detail}");
    assert!(err(503, body).to_string().contains("HTTP 503"));
    assert!(detail.contains(&body.len().to_string()), "{detail}");
    assert!(!detail.contains("secret-page-content"));
    assert!(err(503, body).is_transient());
    assert!(!err(404, body).is_transient());
}

#[test]
fn missing_or_bad_required_fields() {
    let d = malformed_detail(200, br#"{"instance_url":"https://a.my.salesforce.com"}"#);
    assert!(d.contains("no `access_token`"), "{d}");
    let d = malformed_detail(200, br#"{"access_token":"SECRET-tok"}"#);
    assert!(d.contains("no `instance_url`"), "{d}");
    let d = malformed_detail(
        200,
        br#"{"access_token":12345678,"instance_url":"https://a"}"#,
    );
    assert!(d.contains("`access_token` is not a string"), "{d}");
    assert!(!d.contains("12345678"));
    let d = malformed_detail(200, br#"{"access_token":"","instance_url":"https://a"}"#);
    assert!(d.contains("empty"), "{d}");
    let d = malformed_detail(200, br#"{"access_token":"a b","instance_url":"https://a"}"#);
    assert!(d.contains("HTTP header"), "{d}");
    let d = malformed_detail(
        200,
        br#"{"access_token":"SECRET-tok","instance_url":"http://na1.salesforce.com"}"#,
    );
    assert!(d.contains("instance_url") && d.contains("https"), "{d}");
    assert!(!d.contains("SECRET-tok"));
    let d = malformed_detail(200, b"[1,2]");
    assert!(d.contains("not an object"), "{d}");
    let d = malformed_detail(500, br#"{"message":"oops"}"#);
    assert!(d.contains("no `error` field"), "{d}");
}

#[test]
fn json_errors_report_position_not_content() {
    let d = malformed_detail(200, br#"{"access_token": "SECRET-abc" "instance_url": 1}"#);
    assert!(d.contains("line 1 column"), "{d}");
    assert!(!d.contains("SECRET"), "{d}");
    let d = malformed_detail(200, br#"{"access_token": "SECRET-abc"#);
    assert!(d.contains("truncated"), "{d}");
    assert!(!d.contains("SECRET"), "{d}");
    let d = malformed_detail(200, b"");
    assert!(d.contains("empty"), "{d}");
}

const MARKER: &str = "SECRETTOKEN0123456789";

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(MARKER)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("access_token".to_owned()),
                    Just("instance_url".to_owned()),
                    Just("issued_at".to_owned()),
                    Just("id".to_owned()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn assert_no_leak(result: &Result<Token, AuthError>) {
    let text = match result {
        Ok(token) => format!("{token:?}"),
        // A rejection quotes the server's `error`/`error_description` by design.
        Err(AuthError::Rejected { .. }) => return,
        Err(e) => format!("{e} {e:?}"),
    };
    assert!(!text.contains(MARKER), "leaked: {text}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..512)) {
        let status = StatusCode::from_u16(status).unwrap();
        let _ = parse_token_response(status, &body);
    }

    #[test]
    fn bodies_around_a_token_never_leak_it(
        status in prop_oneof![Just(200u16), Just(400u16), Just(500u16)],
        prefix in prop::collection::vec(any::<u8>(), 0..64),
        suffix in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut body = prefix;
        body.extend_from_slice(MARKER.as_bytes());
        body.extend_from_slice(&suffix);
        let result = parse_token_response(StatusCode::from_u16(status).unwrap(), &body);
        assert_no_leak(&result);
    }

    #[test]
    fn json_bodies_never_leak_the_token(status in prop_oneof![Just(200u16), Just(400u16)], value in arbitrary_json()) {
        let body = serde_json::to_vec(&value).unwrap();
        let result = parse_token_response(StatusCode::from_u16(status).unwrap(), &body);
        assert_no_leak(&result);
    }

    #[test]
    fn token_with_a_bad_neighbour_never_leaks(
        field in "[a-z_]{1,10}",
        value in arbitrary_json(),
    ) {
        let mut map = serde_json::Map::new();
        map.insert("access_token".into(), MARKER.into());
        map.insert(field, value);
        let body = serde_json::to_vec(&serde_json::Value::Object(map)).unwrap();
        let result = parse_token_response(StatusCode::OK, &body);
        assert_no_leak(&result);
    }
}
