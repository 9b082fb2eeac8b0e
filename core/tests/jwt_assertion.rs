//! JWT bearer assertions: key parsing, claims, signature verification.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use sfstream_core::jwt::{ASSERTION_LIFETIME, JwtKey, MIN_KEY_BITS, assertion};
use sfstream_core::oauth::AuthError;

const PKCS8: &str = include_str!("data/jwt_test_key_pkcs8.pem");
const PKCS1: &str = include_str!("data/jwt_test_key_pkcs1.pem");
const PUBLIC: &str = include_str!("data/jwt_test_key_public.pem");
const SMALL: &str = include_str!("data/jwt_test_key_1024.pem");
const EC: &str = include_str!("data/jwt_test_key_ec.pem");

const T0: u64 = 1_700_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn make(key: &JwtKey) -> String {
    assertion(
        key,
        "3MVG9-consumer-key",
        "user@example.com",
        "https://login.salesforce.com",
        at(T0) + Duration::from_millis(999),
    )
    .unwrap()
}

fn decode_json(part: &str) -> serde_json::Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url without padding");
    serde_json::from_slice(&bytes).unwrap()
}

fn verify(jwt: &str) -> Result<(), rsa::signature::Error> {
    let (signing_input, sig) = jwt.rsplit_once('.').unwrap();
    let key = VerifyingKey::<Sha256>::from_public_key_pem(PUBLIC).unwrap();
    let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(sig).unwrap().as_slice()).unwrap();
    key.verify(signing_input.as_bytes(), &sig)
}

fn key_error(pem: &str) -> String {
    match JwtKey::from_pem(pem) {
        Err(AuthError::InvalidKey { detail }) => detail,
        other => panic!("expected InvalidKey, got {other:?}"),
    }
}

#[test]
fn header_and_claims() {
    let key = JwtKey::from_pem(PKCS8).unwrap();
    assert_eq!(key.bits(), 2048);
    let jwt = make(&key);
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert!(!jwt.contains('=') && !jwt.contains('+') && !jwt.contains('/'));
    assert_eq!(
        decode_json(parts[0]),
        serde_json::json!({"alg": "RS256", "typ": "JWT"})
    );
    assert_eq!(
        decode_json(parts[1]),
        serde_json::json!({
            "iss": "3MVG9-consumer-key",
            "sub": "user@example.com",
            "aud": "https://login.salesforce.com",
            "exp": T0 + 170,
        })
    );
}

#[test]
fn exp_is_within_three_minutes() {
    let key = JwtKey::from_pem(PKCS8).unwrap();
    let claims = decode_json(make(&key).split('.').nth(1).unwrap());
    let exp = claims["exp"].as_u64().unwrap();
    assert!(exp > T0 && exp <= T0 + 180, "{exp}");
    assert_eq!(exp - T0, ASSERTION_LIFETIME.as_secs());
}

#[test]
fn signature_verifies_with_the_public_key() {
    let key = JwtKey::from_pem(PKCS8).unwrap();
    let jwt = make(&key);
    verify(&jwt).expect("valid RS256 signature");
    // Any change to the claims breaks it.
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(br#"{"iss":"x","sub":"y","aud":"z","exp":1}"#);
    assert!(verify(&parts.join(".")).is_err());
}

#[test]
fn pkcs1_and_pkcs8_give_the_same_deterministic_signature() {
    let a = make(&JwtKey::from_pem(PKCS8).unwrap());
    let b = make(&JwtKey::from_pem(PKCS1).unwrap());
    assert_eq!(a, b);
    assert_eq!(a, make(&JwtKey::from_pem(PKCS8).unwrap()));
    verify(&b).unwrap();
}

#[test]
fn special_characters_in_claims_are_json_escaped() {
    let key = JwtKey::from_pem(PKCS8).unwrap();
    let jwt = assertion(&key, "id\"x", "a\\b@c.d", "https://aud", at(T0)).unwrap();
    let claims = decode_json(jwt.split('.').nth(1).unwrap());
    assert_eq!(claims["iss"], "id\"x");
    assert_eq!(claims["sub"], "a\\b@c.d");
    verify(&jwt).unwrap();
}

#[test]
fn pem_layout_variants_are_accepted() {
    let expected = make(&JwtKey::from_pem(PKCS8).unwrap());
    let crlf = PKCS8.replace('\n', "\r\n");
    let escaped = PKCS8.trim_end().replace('\n', "\\n");
    let flattened = PKCS8.trim_end().replace('\n', " ");
    let surrounded = format!("Bag Attributes\n  friendlyName: x\n{PKCS8}\ntrailing text\n");
    let indented: String = PKCS8.lines().map(|l| format!("    {l}\n")).collect();
    for variant in [crlf, escaped, flattened, surrounded, indented] {
        let key =
            JwtKey::from_pem(&variant).unwrap_or_else(|e| panic!("{e} for {:?}", &variant[..40]));
        assert_eq!(make(&key), expected);
    }
}

#[test]
fn unusable_keys_are_refused_with_a_reason() {
    assert!(key_error(SMALL).contains(&MIN_KEY_BITS.to_string()));
    assert!(key_error(EC).contains("RSA"));
    assert!(key_error(PUBLIC).contains("not a private key"));
    assert!(key_error("").contains("no PEM block"));
    assert!(key_error("hello").contains("no PEM block"));
    assert!(
        key_error(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----\n"
        )
        .contains("encrypted")
    );
    assert!(
        key_error(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
        )
        .contains("encrypted")
    );
    assert!(
        key_error(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n"
        )
        .contains("unsupported")
    );
    // A broken BEGIN line must not make key material look like a PEM label.
    let broken = PKCS8.replacen("PRIVATE KEY-----", "PRIVATE KEY", 1);
    let detail = key_error(&broken);
    assert!(detail.contains("no PEM block"), "{detail}");
    assert!(
        !detail.contains(&PKCS8.lines().nth(1).unwrap()[..16]),
        "{detail}"
    );
    let truncated = &PKCS8[..PKCS8.len() / 2];
    assert!(key_error(truncated).contains("truncated"));
}

#[test]
fn corrupted_key_errors_do_not_quote_the_key() {
    let lines: Vec<&str> = PKCS8.lines().collect();
    let mut corrupted: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    corrupted[3] = "A".repeat(64);
    corrupted[5] = "!!!!".into();
    let pem = corrupted.join("\n");
    let detail = key_error(&pem);
    for line in &lines[1..lines.len() - 1] {
        assert!(!detail.contains(&line[..16]), "{detail}");
    }
    let display = JwtKey::from_pem(&pem).unwrap_err().to_string();
    assert!(display.starts_with("JWT signing key:"), "{display}");
}

#[test]
fn empty_claims_and_pre_epoch_clocks_are_config_errors() {
    let key = JwtKey::from_pem(PKCS8).unwrap();
    for (iss, sub, aud) in [("", "u", "a"), ("i", " ", "a"), ("i", "u", "")] {
        assert!(matches!(
            assertion(&key, iss, sub, aud, at(T0)),
            Err(AuthError::InvalidConfig { .. })
        ));
    }
    let before_epoch = UNIX_EPOCH - Duration::from_secs(1);
    assert!(matches!(
        assertion(&key, "i", "u", "a", before_epoch),
        Err(AuthError::InvalidConfig { .. })
    ));
}
