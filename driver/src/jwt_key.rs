//! The RS256 key operation the core leaves to its caller, done by ring: the crypto library every
//! runtime already links for TLS. ring signs RSASSA-PKCS1-v1_5 deterministically, in constant
//! time, without blinding and so without randomness; ring's API still asks for a generator
//! (PSS padding would use it), so the system one is passed and never read.

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use sfstream_core::oauth::AuthError;
use sfstream_core::oauth::jwt::{JwtKey, MIN_KEY_BITS, PrivateKeyDer, Rs256Signer};

/// The largest modulus ring signs with.
const MAX_KEY_BITS: usize = 4096;

/// Loads a [`JwtKey`] from a PEM private key. In scope, it reads as `JwtKey::from_pem(&pem)`.
pub trait JwtKeyFromPem: Sized {
    /// Parses a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE
    /// KEY`), unencrypted, RSA, 2048 to 4096 bits (the key is checked here, so a wrong file
    /// fails now, with a message saying why).
    ///
    /// Forgiving about layout, because keys often travel through environment variables: text
    /// around the PEM block, CRLF line ends, literal `\n` escapes, and base64 lines re-wrapped or
    /// joined by spaces are all accepted. Errors never quote the key.
    fn from_pem(pem: &str) -> Result<Self, AuthError>;
}

/// Loads a [`JwtKey`] from a PEM private key, signed with ring: [`JwtKeyFromPem::from_pem`] as
/// a function, nothing to import. See there for the forms accepted.
pub fn jwt_key_from_pem(pem: &str) -> Result<JwtKey, AuthError> {
    JwtKey::from_pem(pem)
}

impl JwtKeyFromPem for JwtKey {
    fn from_pem(pem: &str) -> Result<Self, AuthError> {
        let der = PrivateKeyDer::from_pem(pem)?;
        let (parsed, format) = match &der {
            PrivateKeyDer::Pkcs8(der) => (RsaKeyPair::from_pkcs8(der), "PKCS#8"),
            PrivateKeyDer::Pkcs1(der) => (RsaKeyPair::from_der(der), "PKCS#1"),
            other => {
                return Err(AuthError::InvalidKey {
                    detail: format!(
                        "{other:?} is not a form RS256 signing reads; convert the key to \
                         PKCS#8, e.g. `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.p8.pem`"
                    ),
                });
            }
        };
        let pair = parsed.map_err(|rejected| refused(format, &rejected.to_string()))?;
        JwtKey::from_signer(RingRsaKey { pair })
    }
}

/// An RSA private key in ring's form.
struct RingRsaKey {
    pair: RsaKeyPair,
}

impl Rs256Signer for RingRsaKey {
    fn modulus_bits(&self) -> usize {
        self.pair.public().modulus_len() * 8
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| AuthError::InvalidKey {
                detail: "signing with the RSA key failed".to_owned(),
            })?;
        Ok(signature)
    }
}

/// Why ring refused a key, in words that say what to do. ring's reasons are fixed names that
/// never contain key material.
fn refused(format: &str, reason: &str) -> AuthError {
    let detail = match reason {
        "WrongAlgorithm" => format!(
            "the {format} key is not an RSA key; RS256 needs an RSA private key (e.g. \
             `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`)"
        ),
        "TooSmall" => format!(
            "the RSA key has fewer than {MIN_KEY_BITS} bits; at least {MIN_KEY_BITS} are required"
        ),
        "TooLarge" => format!(
            "the RSA key has more than {MAX_KEY_BITS} bits; use a key of {MIN_KEY_BITS} to \
             {MAX_KEY_BITS} bits"
        ),
        "InvalidEncoding" => format!(
            "not a usable {format} RSA private key (its DER structure does not parse: damaged \
             key?)"
        ),
        other => format!(
            "not a usable {format} RSA private key ({other}); RS256 needs a two-prime RSA key of \
             {MIN_KEY_BITS} to {MAX_KEY_BITS} bits with a public exponent of at least 65537"
        ),
    };
    AuthError::InvalidKey { detail }
}
