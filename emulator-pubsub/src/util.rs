//! Small helpers: the seeded random source, identifiers, replay-id bytes and org ids.
//!
//! Everything random in the emulator comes from one seeded generator, so a run with the same seed
//! and the same traffic hands out the same replay ids, event ids and rpc ids.

use base64::Engine as _;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The emulator's random source.
pub(crate) type Rng = ChaCha8Rng;

/// A generator seeded from `seed`.
pub(crate) fn rng_from_seed(seed: u64) -> Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A value in `0..n` (the slight modulo bias does not matter here).
pub(crate) fn below(rng: &mut Rng, n: u64) -> u64 {
    rng.next_u64() % n.max(1)
}

/// A value in `[0, 1)`.
pub(crate) fn unit(rng: &mut Rng) -> f64 {
    // 53 random bits are exactly representable in an f64 mantissa.
    let bits = rng.next_u64() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// A random (version 4 shaped) UUID.
pub(crate) fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// Mixed-case letters and digits, the look of Salesforce record ids.
pub(crate) fn alnum(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(ALPHABET[below(rng, ALPHABET.len() as u64) as usize]))
        .collect()
}

/// A replay id as it goes on the wire: 8 bytes, big-endian.
pub(crate) fn replay_bytes(replay: u64) -> bytes::Bytes {
    bytes::Bytes::copy_from_slice(&replay.to_be_bytes())
}

/// Reads a replay id from the wire; anything but exactly 8 bytes is malformed.
pub(crate) fn replay_from_bytes(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

/// Standard base64 (with padding), how the control API shows replay ids.
pub(crate) fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// URL-safe base64 without padding (schema ids are 22 such characters).
pub(crate) fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The 18-character form of a 15-character Salesforce id (the case-safe checksum suffix).
/// Any other length is returned unchanged.
pub(crate) fn id18(id: &str) -> String {
    const SUFFIX: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    if id.len() != 15 || !id.is_ascii() {
        return id.to_owned();
    }
    let mut out = id.to_owned();
    for chunk in id.as_bytes().chunks(5) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        out.push(char::from(SUFFIX[bits]));
    }
    out
}

/// Waits until the shutdown flag turns true (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Milliseconds as `u64`, saturating.
pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id18_adds_the_case_checksum() {
        assert_eq!(id18("00DEM0000000001"), "00DEM00000000012AA");
        // Upper-case letters at chunk positions 3 / none / 0 and 2 give the digits I, A, F.
        assert_eq!(id18("001A000000N0Rgf"), "001A000000N0RgfIAF");
        assert_eq!(id18("short"), "short");
    }

    #[test]
    fn replay_ids_are_eight_big_endian_bytes() {
        assert_eq!(&replay_bytes(258)[..], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(replay_from_bytes(&replay_bytes(u64::MAX)), Some(u64::MAX));
        assert_eq!(replay_from_bytes(b"12907414"), Some(0x3132_3930_3734_3134));
        assert_eq!(replay_from_bytes(&[1, 2, 3]), None);
        assert_eq!(base64_of(&replay_bytes(7)), "AAAAAAAAAAc=");
    }
}
