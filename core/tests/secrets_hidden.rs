//! No credential ever shows in `Debug`, `Display` or error text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use sfstream_core::Secret;
use sfstream_core::cookie::CookieJar;
use sfstream_core::oauth::jwt::PrivateKeyDer;
use sfstream_core::oauth::{AuthError, Credentials, LoginUrl, Token, parse_token_response};

mod test_signer;

use test_signer::PKCS8;

const CLIENT_SECRET: &str = "CLIENTSECRET-7f3a9";
const PASSWORD: &str = "PASSWORD-hunter2-SECTOKEN";
const REFRESH: &str = "REFRESH-5Aep861x";
const ACCESS: &str = "ACCESS-00Dx!AR8AQP0jITN80";
const SIGNATURE: &str = "SIGNATURE-SSSbLO";
const COOKIE_VALUE: &str = "COOKIEVALUE-9c13437298e48434";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Distinctive pieces of the private key: its base64 lines.
fn key_fragments() -> Vec<String> {
    PKCS8
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| l[..20.min(l.len())].to_owned())
        .collect()
}

fn assert_hidden(what: &str, text: &str) {
    for secret in [
        CLIENT_SECRET,
        PASSWORD,
        REFRESH,
        ACCESS,
        SIGNATURE,
        COOKIE_VALUE,
    ] {
        assert!(!text.contains(secret), "{what} leaks {secret}: {text}");
    }
    for fragment in key_fragments() {
        assert!(
            !text.contains(&fragment),
            "{what} leaks key material: {text}"
        );
    }
}

fn all_credentials() -> Vec<Credentials> {
    vec![
        Credentials::Password {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            username: "u@example.com".into(),
            password: Secret::new(PASSWORD),
            login: LoginUrl::Production,
        },
        Credentials::RefreshToken {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            refresh_token: Secret::new(REFRESH),
            login: LoginUrl::Sandbox,
        },
        Credentials::JwtBearer {
            client_id: "cid".into(),
            username: "u@example.com".into(),
            key: test_signer::test_key(),
            login: LoginUrl::Custom("https://acme.my.salesforce.com".into()),
            audience: None,
        },
        Credentials::ClientCredentials {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            login: LoginUrl::Custom("https://acme.my.salesforce.com".into()),
        },
        Credentials::AccessToken {
            access_token: Secret::new(ACCESS),
            instance_url: "https://acme.my.salesforce.com".into(),
        },
    ]
}

#[test]
fn credentials_debug_hides_secrets() {
    for creds in all_credentials() {
        let debug = format!("{creds:?} {creds:#?}");
        assert_hidden(creds.flow_name(), &debug);
        assert!(debug.contains("***"), "{debug}");
        if let Some(token) = creds.ready_token() {
            assert_hidden("ready token", &format!("{token:?}"));
        }
    }
}

#[test]
fn jwt_key_debug_is_opaque() {
    let key = test_signer::test_key();
    assert_eq!(format!("{key:?}"), "JwtKey(***)");
    assert_eq!(format!("{key:#?}"), "JwtKey(***)");
    let der = PrivateKeyDer::from_pem(PKCS8).unwrap();
    assert_eq!(format!("{der:?}"), "PrivateKeyDer::Pkcs8(***)");
    assert_eq!(format!("{der:#?}"), "PrivateKeyDer::Pkcs8(***)");
}

#[test]
fn token_debug_hides_tokens_and_signature() {
    let body = serde_json::json!({
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "signature": SIGNATURE,
        "instance_url": "https://acme.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00D/005",
        "issued_at": "1278448384422",
    });
    let token = parse_token_response(StatusCode::OK, body.to_string().as_bytes()).unwrap();
    let debug = format!("{token:?} {token:#?}");
    assert_hidden("token", &debug);
    assert!(debug.contains("acme.my.salesforce.com"), "{debug}");
    // The Authorization header is marked sensitive, so http prints it as "Sensitive".
    let header = token.authorization_header();
    assert!(header.is_sensitive());
    assert_hidden("authorization header", &format!("{header:?}"));

    let bare = Token::new(Secret::new(ACCESS), "https://x.my.salesforce.com");
    assert_hidden("bare token", &format!("{bare:?}"));
}

#[test]
fn errors_never_contain_secrets() {
    let mut errors: Vec<AuthError> = Vec::new();
    // Responses that carry secrets but are rejected.
    for (status, body) in [
        (
            200,
            format!(r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}"}}"#),
        ),
        (
            200,
            format!(r#"{{"access_token":"{ACCESS}","instance_url":"http://evil.example"}}"#),
        ),
        (200, format!(r#"{{"access_token":"{ACCESS}" "x"}}"#)),
        (
            200,
            format!(r#"{{"access_token":"{ACCESS} ","instance_url":"https://a"}}"#),
        ),
        (200, format!(r#"["{ACCESS}"]"#)),
        (200, format!(r#"{{"access_token":"{ACCESS}"#)),
        (500, format!(r#"{{"access_token":"{ACCESS}"}}"#)),
        (502, format!("<html>{ACCESS}</html>")),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"authentication failure"}"#.to_owned(),
        ),
    ] {
        errors.push(
            parse_token_response(StatusCode::from_u16(status).unwrap(), body.as_bytes())
                .unwrap_err(),
        );
    }
    // Bad keys.
    let corrupted = PKCS8.replacen('M', "!", 3);
    for pem in [corrupted.as_str(), &PKCS8[..PKCS8.len() - 40]] {
        errors.push(PrivateKeyDer::from_pem(pem).unwrap_err());
    }
    // Bad configurations with secrets elsewhere in them.
    let bad_configs = [
        Credentials::Password {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            username: String::new(),
            password: Secret::new(PASSWORD),
            login: LoginUrl::Custom(format!("https://u:{PASSWORD}@evil.example")),
        },
        Credentials::Password {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            username: "u".into(),
            password: Secret::new(PASSWORD),
            login: LoginUrl::Custom(format!("https://u:{PASSWORD}@evil.example")),
        },
        Credentials::ClientCredentials {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            login: LoginUrl::Production,
        },
        Credentials::AccessToken {
            access_token: Secret::new(format!("{ACCESS}\n")),
            instance_url: "https://a.my.salesforce.com".into(),
        },
        Credentials::RefreshToken {
            client_id: "cid".into(),
            client_secret: Secret::new(CLIENT_SECRET),
            refresh_token: Secret::new(REFRESH),
            login: LoginUrl::Custom("http://evil.example".into()),
        },
    ];
    for creds in bad_configs {
        assert_hidden("misconfigured credentials", &format!("{creds:?}"));
        errors.push(creds.token_request(now()).unwrap_err());
    }
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, AuthError::Rejected { .. }))
    );
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, AuthError::Malformed { .. }))
    );
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, AuthError::InvalidKey { .. }))
    );
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, AuthError::InvalidConfig { .. }))
    );
    for e in &errors {
        assert_hidden("error", &format!("{e} | {e:?} | {e:#?}"));
    }
}

#[test]
fn cookie_jar_debug_hides_values() {
    let mut jar = CookieJar::new();
    let uri: http::Uri = "https://acme.my.salesforce.com/cometd/42.0"
        .parse()
        .unwrap();
    let mut headers = http::HeaderMap::new();
    headers.append(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&format!(
            "sfproxy-id=\"{COOKIE_VALUE}\"; Max-Age=3600; HttpOnly"
        ))
        .unwrap(),
    );
    headers.append(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&format!("BAYEUX_BROWSER={COOKIE_VALUE}; Path=/; Secure"))
            .unwrap(),
    );
    jar.store_from_response(&uri, &headers, now());
    assert_eq!(jar.len(), 2);
    let debug = format!("{jar:?} {jar:#?}");
    assert_hidden("cookie jar", &debug);
    assert_hidden("cookie names", &format!("{:?}", jar.names()));
    let header = jar.header_for(&uri, now()).unwrap();
    assert!(header.is_sensitive());
    assert_hidden("cookie header", &format!("{header:?}"));
}
