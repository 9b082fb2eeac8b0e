//! RS256-signed JWT assertions for the OAuth 2.0 JWT bearer flow (RFC 7523), without I/O.
//!
//! Salesforce's JWT bearer flow posts `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
//! with an `assertion`: a JWT with header `{"alg":"RS256","typ":"JWT"}` and claims
//! `iss` (consumer key), `sub` (username), `aud` (authorization server) and `exp`, signed with the
//! private key whose certificate is uploaded to the Connected App. The current time comes in as a
//! parameter like everywhere in the core.
//!
//! # Signing without a randomness source
//!
//! RSASSA-PKCS1-v1_5 signatures are deterministic, so the signature value needs no randomness.
//! *Blinding* does: it randomizes the private-key operation so that its timing reveals nothing
//! about the key. The core has no randomness source, and `rsa`'s plain `Signer` would either skip
//! blinding or, if some other crate in the build enables `rsa/getrandom`, silently read the OS RNG.
//! So [`assertion`] uses the randomized signing API with a generator derived from secret
//! material: SHA-256 in counter mode over a seed that hashes the private exponent with the
//! message (the same idea as RFC 6979's deterministic nonces). The blinding factors are
//! unpredictable to anyone who does not hold the key, the output is the standard deterministic
//! signature, and the result does not depend on cargo feature unification.
//!
//! The remaining trade-off: the factors repeat when the same message is signed twice, which
//! happens only when the same claims are signed in the same second, and `rsa` 0.10 does its
//! arithmetic with `crypto-bigint`, which is designed to run in constant time, so blinding is
//! defence in depth here.
//! The key is local to the process and never leaves it, and only a signature travels.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::PrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::rand_core::{TryCryptoRng, TryRng};
use rsa::sha2::{Digest as _, Sha256};
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};

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

/// Domain separation for the blinding seed.
const BLINDING_LABEL: &[u8] = b"sfstream-core/jwt/rsa-blinding/v1";

/// A parsed RSA private key for RS256. `Debug` prints `JwtKey(***)`.
///
/// Cheap to clone: the key material is shared, not copied.
#[derive(Clone)]
pub struct JwtKey {
    inner: Arc<KeyInner>,
}

struct KeyInner {
    signing: SigningKey<Sha256>,
    /// SHA-256 of a label and the private exponent: the secret half of the blinding seed.
    blinding_secret: [u8; 32],
    bits: usize,
}

impl JwtKey {
    /// Parses a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE
    /// KEY`), unencrypted, RSA, at least [`MIN_KEY_BITS`] bits.
    ///
    /// Forgiving about layout, because keys often travel through environment variables: text
    /// around the PEM block, CRLF line ends, literal `\n` escapes, and base64 lines re-wrapped or
    /// joined by spaces are all accepted. Errors never quote the key.
    pub fn from_pem(pem: &str) -> Result<Self, AuthError> {
        let (label, canonical) = canonical_pem(pem)?;
        let key = match label.as_str() {
            "PRIVATE KEY" => PrivateKey::from_pkcs8_pem(&canonical).map_err(|e| {
                invalid_key(format!(
                    "not a usable PKCS#8 RSA private key ({e}); RS256 needs an RSA key"
                ))
            })?,
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_pem(&canonical)
                .map_err(|e| invalid_key(format!("not a usable PKCS#1 RSA private key ({e})")))?,
            "ENCRYPTED PRIVATE KEY" => {
                return Err(invalid_key(
                    "the key is encrypted; decrypt it first, e.g. \
                     `openssl pkcs8 -in key.pem -out key.unencrypted.pem`"
                        .to_owned(),
                ));
            }
            "CERTIFICATE" | "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                return Err(invalid_key(format!(
                    "this is a {label}, not a private key: the certificate goes into the \
                     Connected App, the client needs the matching private key"
                )));
            }
            other => {
                return Err(invalid_key(format!(
                    "unsupported PEM type `{other}`: RS256 needs an RSA private key \
                     (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
                )));
            }
        };
        let bits = key.size() * 8;
        if bits < MIN_KEY_BITS {
            return Err(invalid_key(format!(
                "the RSA key has {bits} bits; at least {MIN_KEY_BITS} are required"
            )));
        }
        let mut hasher = Sha256::new();
        hasher.update(BLINDING_LABEL);
        hasher.update(key.d().to_be_bytes());
        let blinding_secret: [u8; 32] = hasher.finalize().into();
        Ok(Self {
            inner: Arc::new(KeyInner {
                signing: SigningKey::<Sha256>::new(key),
                blinding_secret,
                bits,
            }),
        })
    }

    /// The modulus size in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.inner.bits
    }

    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `message`, blinded as the module docs
    /// describe.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        let mut seed = Sha256::new();
        seed.update(self.inner.blinding_secret);
        seed.update(message);
        let mut rng = BlindingRng::new(seed.finalize().into());
        let signature = self
            .inner
            .signing
            .try_sign_with_rng(&mut rng, message)
            .map_err(|_| invalid_key("signing with the RSA key failed".to_owned()))?;
        Ok(signature.to_vec())
    }
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKey(***)")
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
    let signature = key.sign(signing_input.as_bytes())?;
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

/// Finds the first PEM block and rewrites it canonically: `(label, pem text)`.
fn canonical_pem(input: &str) -> Result<(String, String), AuthError> {
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
    let mut canonical = format!("-----BEGIN {label}-----\n");
    for chunk in base64.as_bytes().chunks(64) {
        // Splitting bytes may cut a non-ASCII character in two; base64 is ASCII, so the PEM
        // decoder rejects such input whether or not it went through a lossy conversion.
        canonical.push_str(&String::from_utf8_lossy(chunk));
        canonical.push('\n');
    }
    canonical.push_str(&end_marker);
    canonical.push('\n');
    Ok((label, canonical))
}

/// SHA-256 in counter mode over a secret seed: the blinding generator described in the module
/// docs. Not a general-purpose RNG, so it stays private.
struct BlindingRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl BlindingRng {
    fn new(seed: [u8; 32]) -> Self {
        Self {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.used == self.block.len() {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.block = h.finalize().into();
            self.counter = self.counter.wrapping_add(1);
            self.used = 0;
        }
        let b = self.block[self.used];
        self.used += 1;
        b
    }
}

impl TryRng for BlindingRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.next_byte();
        }
        Ok(())
    }
}

impl TryCryptoRng for BlindingRng {}
