//! Verification of JWT bearer assertions (RS256).

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use rustls_pki_types::SubjectPublicKeyInfoDer;
use serde_json::Value;
use webpki::RawPublicKeyEntity;

use crate::error::Error;

/// The longest an assertion may be valid: `exp` at most this many seconds ahead.
pub(crate) const MAX_VALIDITY_SECS: u64 = 180;

/// base64url, with or without padding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The DER of the `rsaEncryption` algorithm identifier, as an RSA SPKI starts.
const RSA_ENCRYPTION: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// An RSA public key in the form its PEM named; ring checks signatures with it.
#[derive(Clone)]
pub(crate) enum RsaPublicKey {
    /// `BEGIN PUBLIC KEY`: a SubjectPublicKeyInfo.
    Spki(SubjectPublicKeyInfoDer<'static>),
    /// `BEGIN RSA PUBLIC KEY`: a PKCS#1 `RSAPublicKey`.
    Pkcs1(Vec<u8>),
}

impl RsaPublicKey {
    /// Whether `signature` is this key's RS256 signature of `message`.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Spki(spki) => RawPublicKeyEntity::try_from(spki).is_ok_and(|key| {
                key.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, message, signature)
                    .is_ok()
            }),
            Self::Pkcs1(der) => UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
                .verify(message, signature)
                .is_ok(),
        }
    }
}

/// Parses a PEM public key: `BEGIN PUBLIC KEY` (SPKI) or `BEGIN RSA PUBLIC KEY` (PKCS#1).
pub(crate) fn parse_public_key(pem: &str) -> Result<RsaPublicKey, Error> {
    let invalid = |why: &str| Error::InvalidPublicKey(why.to_owned());
    let begin = pem
        .find("-----BEGIN ")
        .ok_or_else(|| invalid("no PEM block"))?;
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let label = &rest[..rest.find("-----").ok_or_else(|| invalid("no PEM block"))?];
    let body = &rest[label.len() + "-----".len()..];
    let body = &body[..body
        .find(&format!("-----END {label}-----"))
        .ok_or_else(|| invalid("the PEM block has no END line"))?];
    let base64: String = body.split_whitespace().collect();
    let der = STANDARD
        .decode(base64)
        .map_err(|e| invalid(&format!("the PEM body is not base64: {e}")))?;
    match label {
        "PUBLIC KEY" => {
            let spki = SubjectPublicKeyInfoDer::from(der);
            RawPublicKeyEntity::try_from(&spki)
                .map_err(|e| invalid(&format!("not a SubjectPublicKeyInfo: {e}")))?;
            if !(2..=4).any(|at| {
                spki.get(at..)
                    .is_some_and(|d| d.starts_with(&RSA_ENCRYPTION))
            }) {
                return Err(invalid("not an RSA public key"));
            }
            Ok(RsaPublicKey::Spki(spki))
        }
        "RSA PUBLIC KEY" => Ok(RsaPublicKey::Pkcs1(der)),
        other => Err(invalid(&format!(
            "a {other}, not a PUBLIC KEY or an RSA PUBLIC KEY"
        ))),
    }
}

/// Why an assertion was refused; each maps to a Salesforce-style OAuth error.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Malformed, not RS256, bad signature, no key configured, `exp` missing or too far ahead.
    Assertion,
    /// `exp` has passed.
    Expired,
    /// `iss` is not the consumer key.
    Issuer,
    /// `aud` is not an accepted audience.
    Audience,
    /// `sub` is not the user.
    Subject,
}

/// What a valid assertion must contain.
pub(crate) struct Expected<'a> {
    pub(crate) key: Option<&'a RsaPublicKey>,
    pub(crate) issuer: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) audiences: &'a [String],
    pub(crate) now_secs: u64,
}

fn decode_json(part: &str) -> Result<Value, Refusal> {
    let bytes = B64URL.decode(part).map_err(|_| Refusal::Assertion)?;
    serde_json::from_slice(&bytes).map_err(|_| Refusal::Assertion)
}

/// Verifies `assertion`.
pub(crate) fn verify(assertion: &str, expected: &Expected<'_>) -> Result<(), Refusal> {
    let mut parts = assertion.trim().split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Assertion);
    };
    let header_json = decode_json(header)?;
    if header_json.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(Refusal::Assertion);
    }
    let key = expected.key.ok_or(Refusal::Assertion)?;
    let signature = B64URL.decode(signature).map_err(|_| Refusal::Assertion)?;
    let signed = assertion
        .trim()
        .get(..header.len() + 1 + claims.len())
        .ok_or(Refusal::Assertion)?;
    if !key.verifies(signed.as_bytes(), &signature) {
        return Err(Refusal::Assertion);
    }

    let claims = decode_json(claims)?;
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(Refusal::Issuer);
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => expected.audiences.iter().any(|x| x == a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| expected.audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(Refusal::Audience);
    }
    if claims.get("sub").and_then(Value::as_str) != Some(expected.subject) {
        return Err(Refusal::Subject);
    }
    let exp = claims
        .get("exp")
        .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
        .ok_or(Refusal::Assertion)?;
    if exp <= expected.now_secs {
        return Err(Refusal::Expired);
    }
    if exp > expected.now_secs + MAX_VALIDITY_SECS {
        return Err(Refusal::Assertion);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_without_panicking() {
        let aud = vec!["https://login.salesforce.com".to_owned()];
        let e = Expected {
            key: None,
            issuer: "i",
            subject: "s",
            audiences: &aud,
            now_secs: 1000,
        };
        for bad in [
            "",
            "a.b",
            "a.b.c",
            "a.b.c.d",
            "....",
            "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
        ] {
            assert_eq!(verify(bad, &e), Err(Refusal::Assertion), "{bad}");
        }
        assert!(parse_public_key("not a key").is_err());
    }
}

#[cfg(test)]
mod key_forms {
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    use super::*;

    const PUBLIC: &str = include_str!("../tests/data/jwt-test-public.pem");
    const PRIVATE: &str = include_str!("../tests/data/jwt-test-private.pem");
    /// Bytes of a 2048-bit RSA SPKI before its PKCS#1 `RSAPublicKey`.
    const SPKI_PREFIX_LEN: usize = 24;

    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body).expect("base64")
    }

    fn pem(label: &str, der: &[u8]) -> String {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            STANDARD.encode(der)
        )
    }

    #[test]
    fn spki_and_pkcs1_public_keys_check_the_same_signature() {
        let pair = RsaKeyPair::from_pkcs8(&der(PRIVATE)).expect("the test key");
        let mut signature = vec![0; pair.public().modulus_len()];
        let rng = SystemRandom::new();
        pair.sign(&RSA_PKCS1_SHA256, &rng, b"a.b", &mut signature)
            .expect("signed");
        let spki = der(PUBLIC);
        let pkcs1 = pem("RSA PUBLIC KEY", &spki[SPKI_PREFIX_LEN..]);
        for key in [PUBLIC, &pkcs1] {
            let key = parse_public_key(key).expect("an RSA public key");
            assert!(key.verifies(b"a.b", &signature));
            assert!(!key.verifies(b"a.c", &signature));
        }
    }

    #[test]
    fn a_public_key_of_another_algorithm_is_refused() {
        let mut spki = der(PUBLIC);
        // rsaEncryption (1.2.840.113549.1.1.1) becomes 1.2.840.113549.1.1.11.
        let oid_end = 4 + RSA_ENCRYPTION.len() - 3;
        assert_eq!(spki[oid_end], 0x01);
        spki[oid_end] = 0x0b;
        let Err(Error::InvalidPublicKey(why)) = parse_public_key(&pem("PUBLIC KEY", &spki)) else {
            panic!("accepted");
        };
        assert!(why.contains("not an RSA public key"), "{why}");
        assert!(parse_public_key(&pem("CERTIFICATE", &spki)).is_err());
    }
}
