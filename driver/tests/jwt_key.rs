//! RS256 signing with ring: PEM keys in both forms load, the signature verifies with the public
//! key, and keys ring cannot use are refused with a reason that never quotes them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use sfstream_driver::core::oauth::AuthError;
use sfstream_driver::core::oauth::jwt::{MIN_KEY_BITS, assertion};
use sfstream_driver::{JwtKey, JwtKeyFromPem as _};

const PKCS8: &str = include_str!("../../core/tests/data/jwt_test_key_pkcs8.pem");
const PKCS1: &str = include_str!("../../core/tests/data/jwt_test_key_pkcs1.pem");
const PUBLIC: &str = include_str!("../../core/tests/data/jwt_test_key_public.pem");
const SMALL: &str = include_str!("../../core/tests/data/jwt_test_key_1024.pem");
const EC: &str = include_str!("../../core/tests/data/jwt_test_key_ec.pem");

/// The DER prefix of a 2048-bit RSA key's SubjectPublicKeyInfo: the sequence, the
/// rsaEncryption algorithm, and the bit string that holds the PKCS#1 `RSAPublicKey`.
const SPKI_RSA_2048_PREFIX: [u8; 24] = [
    0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
    0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00,
];

fn at_t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(999)
}

fn make(key: &JwtKey) -> String {
    assertion(
        key,
        "3MVG9-consumer-key",
        "user@example.com",
        "https://login.salesforce.com",
        at_t0(),
    )
    .unwrap()
}

/// Checks `jwt`'s signature with the test key's public key, read from its PEM file.
fn verify(jwt: &str) -> Result<(), ring::error::Unspecified> {
    let body: String = PUBLIC.lines().filter(|l| !l.starts_with("-----")).collect();
    let spki = STANDARD.decode(body).expect("the public key's base64");
    let rsa_public_key = spki
        .strip_prefix(&SPKI_RSA_2048_PREFIX[..])
        .expect("a 2048-bit RSA public key");
    let (signing_input, signature) = jwt.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, rsa_public_key)
        .verify(signing_input.as_bytes(), &signature)
}

fn key_error(pem: &str) -> String {
    match JwtKey::from_pem(pem) {
        Err(AuthError::InvalidKey { detail }) => detail,
        other => panic!("expected InvalidKey, got {other:?}"),
    }
}

#[test]
fn the_signature_verifies_with_the_public_key() {
    let key = JwtKey::from_pem(PKCS8).unwrap();
    assert_eq!(key.bits(), 2048);
    let jwt = make(&key);
    verify(&jwt).expect("a valid RS256 signature");
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
fn pem_layout_variants_sign_alike() {
    let expected = make(&JwtKey::from_pem(PKCS8).unwrap());
    let escaped = PKCS8.trim_end().replace('\n', "\\n");
    let flattened = PKCS1.trim_end().replace('\n', " ");
    for variant in [escaped, flattened] {
        assert_eq!(make(&JwtKey::from_pem(&variant).unwrap()), expected);
    }
}

#[test]
fn keys_ring_cannot_use_are_refused_with_a_reason() {
    let small = key_error(SMALL);
    assert!(
        small.contains(&format!("fewer than {MIN_KEY_BITS} bits")),
        "{small}"
    );
    let ec = key_error(EC);
    assert!(ec.contains("not an RSA key"), "{ec}");
    // What the core refuses before ring sees it still comes through.
    assert!(key_error(PUBLIC).contains("not a private key"));
}

#[test]
fn a_damaged_key_is_refused_without_quoting_it() {
    let lines: Vec<&str> = PKCS8.lines().collect();
    // Valid base64 in place of the first line breaks the DER structure; in place of a line of
    // the modulus, it leaves a structure whose numbers do not fit together.
    for (line, reason) in [
        (1, "does not parse"),
        (3, "not a usable PKCS#8 RSA private key"),
    ] {
        let mut damaged: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        damaged[line] = "A".repeat(64);
        let pem = damaged.join("\n");
        let detail = key_error(&pem);
        assert!(detail.contains(reason), "{detail}");
        for line in &lines[1..lines.len() - 1] {
            assert!(!detail.contains(&line[..16]), "{detail}");
        }
        let display = JwtKey::from_pem(&pem).unwrap_err().to_string();
        assert!(display.starts_with("JWT signing key:"), "{display}");
    }
}
