//! The OAuth token endpoint: every grant, success and error shapes.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Bayeux, token_request};
use hmac::{Hmac, Mac};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};
use sfstream_emulator::{Credentials, Emulator};
use sha2::Sha256;

const PUBLIC: &str = include_str!("data/jwt-test-public.pem");
const PRIVATE: &str = include_str!("data/jwt-test-private.pem");
const OTHER_PRIVATE: &str = include_str!("data/jwt-other-private.pem");
const JWT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn assertion(private_pem: &str, claims: &Value) -> String {
    let base64: String = private_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let key = RsaKeyPair::from_pkcs8(&STANDARD.decode(base64).expect("PEM")).expect("test key");
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{body}");
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .expect("signed");
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn claims(exp_in: i64) -> Value {
    json!({
        "iss": "emulator-client-id",
        "sub": "user@example.com",
        "aud": "https://login.salesforce.com",
        "exp": now().saturating_add_signed(exp_in),
    })
}

fn assert_error(reply: &common::Reply, error: &str, description: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({"error": error, "error_description": description})
    );
}

#[tokio::test]
async fn password_grant_returns_a_salesforce_shaped_token_that_streams() {
    let emu = common::start().await;
    let base = emu.base_url();
    let reply = token_request(base, &common::PASSWORD_FORM).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = &reply.json;
    // The identity URL is on the login host, not the instance, as Salesforce's are.
    let id = "https://login.salesforce.com/id/00DEM0000000001/005EM0000000001";
    assert_eq!(body["instance_url"], base);
    assert!(base.starts_with("http://localhost:"), "{base}");
    assert_eq!(body["id"], id);
    assert_eq!(body["token_type"], "Bearer");
    // The password flow issues no refresh token, and Salesforce never sends expires_in.
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("expires_in").is_none());
    let issued_at = body["issued_at"].as_str().expect("issued_at is a string");
    assert!(issued_at.parse::<u64>().expect("milliseconds") > 1_600_000_000_000);
    let mut mac = Hmac::<Sha256>::new_from_slice(b"emulator-client-secret").expect("hmac");
    mac.update(format!("{id}{issued_at}").as_bytes());
    assert_eq!(
        body["signature"].as_str(),
        Some(STANDARD.encode(mac.finalize().into_bytes()).as_str())
    );
    let token = body["access_token"].as_str().expect("token");
    assert!(token.starts_with("00DEM0000000001!"));

    let mut b = Bayeux::new(base);
    b.token = Some(token.to_owned());
    assert_eq!(b.handshake().await["successful"], true);
    assert_eq!(emu.control().stats().totals.token_requests, 1);
}

#[tokio::test]
async fn password_grant_refuses_bad_credentials() {
    let emu = common::start().await;
    let base = emu.base_url();
    let mut form = common::PASSWORD_FORM;
    form[4] = ("password", "password");
    assert_error(
        &token_request(base, &form).await,
        "invalid_grant",
        "authentication failure",
    );
    let mut form = common::PASSWORD_FORM;
    form[1] = ("client_id", "nope");
    assert_error(
        &token_request(base, &form).await,
        "invalid_client_id",
        "client identifier invalid",
    );
    let mut form = common::PASSWORD_FORM;
    form[2] = ("client_secret", "nope");
    assert_error(
        &token_request(base, &form).await,
        "invalid_client",
        "invalid client credentials",
    );
    assert_error(
        &token_request(base, &[("client_id", "emulator-client-id")]).await,
        "invalid_request",
        "grant type is missing",
    );
    assert_error(
        &token_request(base, &[("grant_type", "authorization_code")]).await,
        "unsupported_grant_type",
        "grant type not supported",
    );
    let totals = emu.control().stats().totals;
    assert_eq!((totals.token_requests, totals.errors_sent), (5, 5));
}

#[tokio::test]
async fn refresh_token_grant() {
    let emu = common::start().await;
    let base = emu.base_url();
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", "emulator-client-id"),
        ("client_secret", "emulator-client-secret"),
        ("refresh_token", "emulator-refresh-token"),
    ];
    let ok = token_request(base, &form).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["instance_url"], base);
    assert!(ok.json["access_token"].is_string());
    assert!(ok.json.get("refresh_token").is_none());
    form[3] = ("refresh_token", "stale");
    assert_error(
        &token_request(base, &form).await,
        "invalid_grant",
        "expired access/refresh token",
    );
}

#[tokio::test]
async fn client_credentials_grant_in_form_and_basic_auth() {
    let emu = common::start().await;
    let base = emu.base_url();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "emulator-client-id"),
        ("client_secret", "emulator-client-secret"),
    ];
    let ok = token_request(base, &form).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["scope"], "api");
    assert_eq!(ok.json["token_type"], "Bearer");

    let basic = STANDARD.encode("emulator-client-id:emulator-client-secret");
    let resp = common::http()
        .post(format!("{base}/services/oauth2/token"))
        .header("Authorization", format!("Basic {basic}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);

    let bad = [
        ("grant_type", "client_credentials"),
        ("client_id", "emulator-client-id"),
        ("client_secret", "wrong"),
    ];
    assert_error(
        &token_request(base, &bad).await,
        "invalid_client",
        "invalid client credentials",
    );
}

#[tokio::test]
async fn jwt_bearer_grant_verifies_signature_and_claims() {
    let emu = common::fast()
        .jwt_public_key_pem(PUBLIC)
        .start()
        .await
        .expect("start");
    let base = emu.base_url();
    let grant = |a: String| async move {
        token_request(base, &[("grant_type", JWT), ("assertion", a.as_str())]).await
    };

    let ok = grant(assertion(PRIVATE, &claims(120))).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.json.get("refresh_token").is_none());
    let mut b = Bayeux::new(base);
    b.token = ok.json["access_token"].as_str().map(str::to_owned);
    assert_eq!(b.handshake().await["successful"], true);

    // The emulator's own URL is an accepted audience too.
    let mut own = claims(60);
    own["aud"] = json!(base);
    assert_eq!(grant(assertion(PRIVATE, &own)).await.status, 200);

    let invalid = |r: common::Reply| assert_error(&r, "invalid_grant", "invalid assertion");
    invalid(grant(assertion(OTHER_PRIVATE, &claims(120))).await);
    // exp more than 3 minutes ahead; an exp already past gets Salesforce's text for it.
    invalid(grant(assertion(PRIVATE, &claims(600))).await);
    assert_error(
        &grant(assertion(PRIVATE, &claims(-5))).await,
        "invalid_grant",
        "expired authorization code",
    );
    invalid(grant("not.a.jwt".to_owned()).await);

    let mut wrong = claims(60);
    wrong["aud"] = json!("https://evil.example.com");
    assert_error(
        &grant(assertion(PRIVATE, &wrong)).await,
        "invalid_grant",
        "audience is invalid",
    );
    let mut wrong = claims(60);
    wrong["iss"] = json!("someone-else");
    assert_error(
        &grant(assertion(PRIVATE, &wrong)).await,
        "invalid_client_id",
        "client identifier invalid",
    );
    let mut wrong = claims(60);
    wrong["sub"] = json!("other@example.com");
    assert_error(
        &grant(assertion(PRIVATE, &wrong)).await,
        "invalid_grant",
        "user hasn't approved this consumer",
    );
}

#[tokio::test]
async fn jwt_bearer_without_a_configured_key_is_refused() {
    let emu = common::start().await;
    let reply = token_request(
        emu.base_url(),
        &[
            ("grant_type", JWT),
            ("assertion", &assertion(PRIVATE, &claims(60))),
        ],
    )
    .await;
    assert_error(&reply, "invalid_grant", "invalid assertion");
}

#[tokio::test]
async fn credentials_are_configurable() {
    let mut creds = Credentials::default();
    creds.username = "ops@example.org".into();
    creds.password = "hunter2".into();
    creds.security_token = "SEC".into();
    let emu = Emulator::builder()
        .credentials(creds)
        .start()
        .await
        .expect("start");
    let base = emu.base_url();
    assert_eq!(
        token_request(base, &common::PASSWORD_FORM).await.status,
        400
    );
    let mut form = common::PASSWORD_FORM;
    form[3] = ("username", "ops@example.org");
    form[4] = ("password", "hunter2SEC");
    assert_eq!(token_request(base, &form).await.status, 200);
}
