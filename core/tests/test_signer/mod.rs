//! A JWT key for the core's tests. The core leaves the RSA operation to an `Rs256Signer` (the
//! driver's is ring, tested there); this one holds the test key's DER, as a real signer would,
//! records what it is asked to sign and answers with a fixed pattern, so a test sees exactly
//! what was signed and where the signature went.
#![allow(
    unreachable_pub,
    reason = "shared by several test crates; pub is how they reach it"
)]
#![allow(
    dead_code,
    reason = "each test file uses a different part of the signer"
)]

use std::sync::{Arc, Mutex};

use sfstream_core::oauth::AuthError;
use sfstream_core::oauth::jwt::{JwtKey, PrivateKeyDer, Rs256Signer};

/// The 2048-bit test key, PKCS#8.
pub const PKCS8: &str = include_str!("../data/jwt_test_key_pkcs8.pem");

/// Every byte of the test signer's signatures.
pub const SIGNATURE_BYTE: u8 = 0x5a;

/// The messages a [`TestSigner`] signed, in order.
pub type Signed = Arc<Mutex<Vec<Vec<u8>>>>;

/// See the module docs.
pub struct TestSigner {
    /// Held like a real signer holds its key; never read.
    _key: PrivateKeyDer,
    bits: usize,
    signature_len: usize,
    signed: Signed,
}

impl Rs256Signer for TestSigner {
    fn modulus_bits(&self) -> usize {
        self.bits
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        self.signed.lock().unwrap().push(message.to_vec());
        Ok(vec![SIGNATURE_BYTE; self.signature_len])
    }
}

/// A signer of `bits` bits whose signatures have `signature_len` bytes, and what it signs.
pub fn signer(bits: usize, signature_len: usize) -> (TestSigner, Signed) {
    let signed = Signed::default();
    let signer = TestSigner {
        _key: PrivateKeyDer::from_pem(PKCS8).expect("the test key's PEM"),
        bits,
        signature_len,
        signed: signed.clone(),
    };
    (signer, signed)
}

/// A 2048-bit key over a [`TestSigner`], and what it signs.
pub fn recording_key() -> (JwtKey, Signed) {
    let (signer, signed) = signer(2048, 256);
    (JwtKey::from_signer(signer).expect("2048 bits"), signed)
}

/// A 2048-bit key over a [`TestSigner`].
pub fn test_key() -> JwtKey {
    recording_key().0
}
