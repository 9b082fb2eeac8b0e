//! JWT bearer assertions: what is signed, where the signature goes, the claims, and reading the
//! key's PEM. The RSA signature itself is the signer's (ring's, in `driver/tests/jwt_key.rs`).

mod test_signer;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sfstream_core::oauth::AuthError;
use sfstream_core::oauth::jwt::{
    ASSERTION_LIFETIME, JwtKey, MIN_KEY_BITS, PrivateKeyDer, assertion,
};
use test_signer::{PKCS8, SIGNATURE_BYTE, recording_key, signer, test_key};

const PKCS1: &str = include_str!("data/jwt_test_key_pkcs1.pem");
const PUBLIC: &str = include_str!("data/jwt_test_key_public.pem");

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

fn key_error(pem: &str) -> String {
    match PrivateKeyDer::from_pem(pem) {
        Err(AuthError::InvalidKey { detail }) => detail,
        other => panic!("expected InvalidKey, got {other:?}"),
    }
}

#[test]
fn header_and_claims() {
    let key = test_key();
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
fn the_signer_signs_header_and_claims_and_its_signature_comes_last() {
    let (key, signed) = recording_key();
    let jwt = make(&key);
    let (signing_input, signature) = jwt.rsplit_once('.').unwrap();
    assert_eq!(*signed.lock().unwrap(), [signing_input.as_bytes().to_vec()]);
    assert_eq!(
        URL_SAFE_NO_PAD.decode(signature).unwrap(),
        [SIGNATURE_BYTE; 256]
    );
    // Same key, claims and second: the same assertion.
    assert_eq!(make(&key), jwt);
}

#[test]
fn exp_is_within_three_minutes() {
    let claims = decode_json(make(&test_key()).split('.').nth(1).unwrap());
    let exp = claims["exp"].as_u64().unwrap();
    assert!(exp > T0 && exp <= T0 + 180, "{exp}");
    assert_eq!(exp - T0, ASSERTION_LIFETIME.as_secs());
}

#[test]
fn special_characters_in_claims_are_json_escaped() {
    let jwt = assertion(&test_key(), "id\"x", "a\\b@c.d", "https://aud", at(T0)).unwrap();
    let claims = decode_json(jwt.split('.').nth(1).unwrap());
    assert_eq!(claims["iss"], "id\"x");
    assert_eq!(claims["sub"], "a\\b@c.d");
}

#[test]
fn empty_claims_and_pre_epoch_clocks_are_config_errors() {
    let (key, signed) = recording_key();
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
    assert!(signed.lock().unwrap().is_empty(), "nothing was signed");
}

#[test]
fn a_signer_below_the_minimum_size_is_refused() {
    let Err(AuthError::InvalidKey { detail }) = JwtKey::from_signer(signer(1024, 128).0) else {
        panic!("a 1024-bit signer was accepted");
    };
    assert!(detail.contains("1024") && detail.contains(&MIN_KEY_BITS.to_string()));
}

#[test]
fn a_signature_of_the_wrong_length_is_an_error() {
    let key = JwtKey::from_signer(signer(2048, 255).0).unwrap();
    let result = assertion(&key, "i", "u", "a", at(T0));
    let Err(AuthError::InvalidKey { detail }) = result else {
        panic!("{result:?}");
    };
    assert!(detail.contains("255") && detail.contains("256"), "{detail}");
}

#[test]
fn pkcs8_and_pkcs1_pem_give_the_same_key() {
    let PrivateKeyDer::Pkcs8(pkcs8) = PrivateKeyDer::from_pem(PKCS8).unwrap() else {
        panic!("BEGIN PRIVATE KEY is PKCS#8");
    };
    let PrivateKeyDer::Pkcs1(pkcs1) = PrivateKeyDer::from_pem(PKCS1).unwrap() else {
        panic!("BEGIN RSA PRIVATE KEY is PKCS#1");
    };
    // PKCS#8 wraps the PKCS#1 structure: the same key ends both.
    assert!(pkcs1.len() > 1000 && pkcs8.len() > pkcs1.len());
    assert!(pkcs8.ends_with(&pkcs1));
}

#[test]
fn pem_layout_variants_are_accepted() {
    let expected = PrivateKeyDer::from_pem(PKCS8).unwrap();
    let crlf = PKCS8.replace('\n', "\r\n");
    let escaped = PKCS8.trim_end().replace('\n', "\\n");
    let flattened = PKCS8.trim_end().replace('\n', " ");
    let surrounded = format!("Bag Attributes\n  friendlyName: x\n{PKCS8}\ntrailing text\n");
    let indented: String = PKCS8.lines().map(|l| format!("    {l}\n")).collect();
    for variant in [crlf, escaped, flattened, surrounded, indented] {
        let der = PrivateKeyDer::from_pem(&variant)
            .unwrap_or_else(|e| panic!("{e} for {:?}", &variant[..40]));
        assert_eq!(der, expected);
    }
}

#[test]
fn unusable_pem_is_refused_with_a_reason() {
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
    assert!(detail.contains("base64"), "{detail}");
    for line in &lines[1..lines.len() - 1] {
        assert!(!detail.contains(&line[..16]), "{detail}");
    }
    let display = PrivateKeyDer::from_pem(&pem).unwrap_err().to_string();
    assert!(display.starts_with("JWT signing key:"), "{display}");
}
