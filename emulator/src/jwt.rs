//! Verification of JWT bearer assertions (RS256).

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;

use crate::error::Error;

/// The longest an assertion may be valid: `exp` at most this many seconds ahead.
pub(crate) const MAX_VALIDITY_SECS: u64 = 180;

/// base64url, with or without padding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a PEM public key: `BEGIN PUBLIC KEY` (SPKI) or `BEGIN RSA PUBLIC KEY` (PKCS#1).
pub(crate) fn parse_public_key(pem: &str) -> Result<RsaPublicKey, Error> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|e| Error::InvalidPublicKey(e.to_string()))
}

/// Why an assertion was refused; each maps to a Salesforce-style OAuth error.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Malformed, not RS256, bad signature, no key configured, or `exp` out of range.
    Assertion,
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
    let signature = Signature::try_from(signature.as_slice()).map_err(|_| Refusal::Assertion)?;
    let signed = assertion
        .trim()
        .get(..header.len() + 1 + claims.len())
        .ok_or(Refusal::Assertion)?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| Refusal::Assertion)?;

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
    if exp <= expected.now_secs || exp > expected.now_secs + MAX_VALIDITY_SECS {
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
