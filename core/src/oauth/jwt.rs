//! RS256-signed JWT assertions for the OAuth 2.0 JWT bearer flow (RFC 7523), without I/O.
//!
//! Salesforce's JWT bearer flow posts `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
//! with an `assertion`: a JWT with header `{"alg":"RS256","typ":"JWT"}` and claims
//! `iss` (consumer key), `sub` (username), `aud` (authorization server) and `exp`, signed with the
//! private key whose certificate is uploaded to the Connected App. The current time comes in as a
//! parameter like everywhere in the core.
//!
//! # The key operation comes from outside
//!
//! The core builds and encodes the assertion and reads the key's PEM text ([`PrivateKeyDer`]:
//! the label, encryption, the layouts keys take in environment variables); the RSA operation
//! itself is an [`Rs256Signer`] that a [`JwtKey`] holds. The driver implements it with ring
//! (`JwtKeyFromPem` in the runtime crates), the crypto library every runtime already links for
//! TLS, so the core keeps no crypto library and no randomness source of its own; a signer backed
//! by an HSM or a cloud KMS fits the same trait. RSASSA-PKCS1-v1_5 signatures are deterministic:
//! the same key, claims and second give the same assertion.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::oauth::AuthError;

/// How far in the future `exp` is set.
///
/// Salesforce accepts an assertion whose expiry is "within 3 minutes"; we stay 10 seconds below
/// that so a server clock slightly behind ours still sees a valid window, while a server clock up
/// to 170 seconds ahead still sees an unexpired assertion.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(170);

/// Smallest accepted RSA modulus, in bits. 1024-bit RSA is no longer considered safe.
pub const MIN_KEY_BITS: usize = 2048;

/// The JOSE header of every assertion.
const HEADER_JSON: &str = r#"{"alg":"RS256","typ":"JWT"}"#;

/// The RS256 key operation: RSASSA-PKCS1-v1_5 with SHA-256 under one RSA private key.
///
/// Implemented outside the core, which holds no crypto library: the runtime crates load PEM keys
/// into a ring-backed signer (`JwtKey::from_pem` with their `JwtKeyFromPem` in scope). Implement
/// it yourself to sign with a key that never enters the process (an HSM, a cloud KMS).
pub trait Rs256Signer: Send + Sync + 'static {
    /// The modulus size in bits; [`JwtKey::from_signer`] refuses fewer than [`MIN_KEY_BITS`].
    fn modulus_bits(&self) -> usize;

    /// The signature of `message` (SHA-256 is computed by the signer), as many bytes as the
    /// modulus. An error should be an [`AuthError::InvalidKey`] saying what failed, never
    /// quoting key material.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuthError>;
}

/// An RSA private key for RS256, behind its [`Rs256Signer`]. `Debug` prints `JwtKey(***)`.
///
/// Cheap to clone: the key is shared, not copied.
#[derive(Clone)]
pub struct JwtKey {
    signer: Arc<dyn Rs256Signer>,
}

impl JwtKey {
    /// A key that signs with `signer`. Refuses a modulus below [`MIN_KEY_BITS`].
    pub fn from_signer(signer: impl Rs256Signer) -> Result<Self, AuthError> {
        let bits = signer.modulus_bits();
        if bits < MIN_KEY_BITS {
            return Err(invalid_key(format!(
                "the RSA key has {bits} bits; at least {MIN_KEY_BITS} are required"
            )));
        }
        Ok(Self {
            signer: Arc::new(signer),
        })
    }

    /// The modulus size in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.signer.modulus_bits()
    }
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKey(***)")
    }
}

/// The DER of an unencrypted RSA private key, read from PEM, in the form its label names.
/// `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivateKeyDer {
    /// `BEGIN PRIVATE KEY`: a PKCS#8 `PrivateKeyInfo` (RFC 5208), any algorithm.
    Pkcs8(Vec<u8>),
    /// `BEGIN RSA PRIVATE KEY`: a PKCS#1 `RSAPrivateKey` (RFC 8017, appendix A.1.2).
    Pkcs1(Vec<u8>),
}

impl PrivateKeyDer {
    /// Reads the first PEM block of `pem`: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA
    /// PRIVATE KEY`), unencrypted. Whether the DER inside is a usable RSA key is for the signer
    /// to check.
    ///
    /// Forgiving about layout, because keys often travel through environment variables: text
    /// around the PEM block, CRLF line ends, literal `\n` escapes, and base64 lines re-wrapped or
    /// joined by spaces are all accepted. Errors never quote the key.
    pub fn from_pem(pem: &str) -> Result<Self, AuthError> {
        let (label, body) = pem_block(pem)?;
        let der = |format: &str| {
            STANDARD.decode(&body).map_err(|_| {
                invalid_key(format!(
                    "the {format} PEM block is not valid base64 (damaged or truncated key?)"
                ))
            })
        };
        match label.as_str() {
            "PRIVATE KEY" => Ok(Self::Pkcs8(der("PKCS#8")?)),
            "RSA PRIVATE KEY" => Ok(Self::Pkcs1(der("PKCS#1")?)),
            "ENCRYPTED PRIVATE KEY" => Err(invalid_key(
                "the key is encrypted; decrypt it first, e.g. \
                 `openssl pkcs8 -in key.pem -out key.unencrypted.pem`"
                    .to_owned(),
            )),
            "CERTIFICATE" | "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(invalid_key(format!(
                "this is a {label}, not a private key: the certificate goes into the \
                 Connected App, the client needs the matching private key"
            ))),
            other => Err(invalid_key(format!(
                "unsupported PEM type `{other}`: RS256 needs an RSA private key \
                 (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
            ))),
        }
    }

    /// The DER bytes.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        match self {
            Self::Pkcs8(der) | Self::Pkcs1(der) => der,
        }
    }
}

impl fmt::Debug for PrivateKeyDer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pkcs8(_) => "PrivateKeyDer::Pkcs8(***)",
            Self::Pkcs1(_) => "PrivateKeyDer::Pkcs1(***)",
        })
    }
}

/// Builds a signed JWT bearer assertion.
///
/// Claims: `iss` = `client_id`, `sub` = `username`, `aud` = `audience`,
/// `exp` = `wall_clock` + [`ASSERTION_LIFETIME`] in whole seconds since the epoch.
/// The result is `base64url(header).base64url(claims).base64url(signature)`, without padding.
pub fn assertion(
    key: &JwtKey,
    client_id: &str,
    username: &str,
    audience: &str,
    wall_clock: SystemTime,
) -> Result<String, AuthError> {
    for (value, what) in [
        (client_id, "client_id (the Connected App's consumer key)"),
        (username, "username"),
        (audience, "audience"),
    ] {
        if value.trim().is_empty() {
            return Err(AuthError::InvalidConfig {
                detail: format!("{what} is empty"),
            });
        }
    }
    let now = wall_clock
        .duration_since(UNIX_EPOCH)
        .map_err(|_| AuthError::InvalidConfig {
            detail: "the wall-clock time is before 1970".to_owned(),
        })?;
    let claims = Claims {
        iss: client_id,
        sub: username,
        aud: audience,
        exp: now.as_secs().saturating_add(ASSERTION_LIFETIME.as_secs()),
    };
    let claims_json = serde_json::to_vec(&claims).map_err(|_| AuthError::InvalidConfig {
        detail: "the JWT claims could not be encoded".to_owned(),
    })?;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER_JSON),
        URL_SAFE_NO_PAD.encode(claims_json)
    );
    let signature = key.signer.sign(signing_input.as_bytes())?;
    let expected_len = key.bits().div_ceil(8);
    if signature.len() != expected_len {
        return Err(invalid_key(format!(
            "the signer returned {} signature bytes for a {}-bit key; RS256 needs {expected_len}",
            signature.len(),
            key.bits()
        )));
    }
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// The claims, serialized in this field order.
#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

fn invalid_key(detail: String) -> AuthError {
    AuthError::InvalidKey { detail }
}

/// Finds the first PEM block: `(label, base64 body without whitespace)`.
fn pem_block(input: &str) -> Result<(String, String), AuthError> {
    let input = if input.contains("\\n") {
        input.replace("\\r\\n", "\n").replace("\\n", "\n")
    } else {
        input.to_owned()
    };
    let no_block = || {
        invalid_key(
            "no PEM block found (expected -----BEGIN PRIVATE KEY----- or \
             -----BEGIN RSA PRIVATE KEY-----)"
                .to_owned(),
        )
    };
    let begin = input.find("-----BEGIN ").ok_or_else(no_block)?;
    let after_begin = &input[begin + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----").ok_or_else(no_block)?;
    let label = after_begin[..label_end].trim().to_owned();
    // A real label is a few upper-case words. Anything else means the BEGIN line is broken, and
    // the "label" may be key material, which must not reach an error message.
    if label.is_empty()
        || label.len() > 40
        || !label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
    {
        return Err(no_block());
    }
    let rest = &after_begin[label_end + "-----".len()..];
    let end_marker = format!("-----END {label}-----");
    let body_end = rest.find(&end_marker).ok_or_else(|| {
        invalid_key(format!(
            "the PEM block has no `{end_marker}` line (truncated key?)"
        ))
    })?;
    let body = &rest[..body_end];
    if body.contains("Proc-Type:") || body.contains("DEK-Info:") {
        return Err(invalid_key(
            "the key is encrypted (legacy OpenSSL format); decrypt it first, e.g. \
             `openssl rsa -in key.pem -out key.unencrypted.pem`"
                .to_owned(),
        ));
    }
    let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    Ok((label, base64))
}
