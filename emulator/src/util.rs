//! Small helpers: the seeded random source, identifiers and timestamps.
//!
//! Everything random in the emulator comes from one seeded generator so that a run with the same
//! seed and the same traffic hands out the same client ids, tokens and replay ids.

use std::time::{SystemTime, UNIX_EPOCH};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The emulator's random source.
pub(crate) type Rng = ChaCha8Rng;

/// A generator seeded from `seed`.
pub(crate) fn rng_from_seed(seed: u64) -> Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A value in `0..n` (`n` must be positive; the slight modulo bias does not matter here).
pub(crate) fn below(rng: &mut Rng, n: u64) -> u64 {
    rng.next_u64() % n.max(1)
}

/// A value in `[0, 1)`.
pub(crate) fn unit(rng: &mut Rng) -> f64 {
    // 53 random bits are exactly representable in an f64 mantissa.
    let bits = rng.next_u64() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

fn random_from(rng: &mut Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[below(rng, alphabet.len() as u64) as usize]))
        .collect()
}

/// Lower-case base-36 text, the look of CometD client ids.
pub(crate) fn base36(rng: &mut Rng, len: usize) -> String {
    random_from(rng, b"abcdefghijklmnopqrstuvwxyz0123456789", len)
}

/// Mixed-case letters and digits.
pub(crate) fn alnum(rng: &mut Rng, len: usize) -> String {
    random_from(
        rng,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        len,
    )
}

/// Lower-case hexadecimal text.
pub(crate) fn hex(rng: &mut Rng, len: usize) -> String {
    random_from(rng, b"0123456789abcdef", len)
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

/// Wall-clock milliseconds since the Unix epoch (0 if the clock is before 1970).
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Howard Hinnant's algorithm, restricted to dates after the epoch.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `2016-09-16T19:45:27.454Z` (with milliseconds) or `2017-07-25T19:16:44Z` (without), the two
/// forms Salesforce uses in event bodies.
pub(crate) fn timestamp(ms: u64, with_millis: bool) -> String {
    let secs = ms / 1000;
    let (y, mo, d) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if with_millis {
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            ms % 1000
        )
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

/// `Sun, 24-Sep-2023 19:55:37 GMT`: the dashed date form of the `sfdc-stream` cookie.
pub(crate) fn cookie_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let (y, mo, d) = civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{}, {d:02}-{}-{y:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(mo - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_known_dates() {
        assert_eq!(
            timestamp(1_474_055_127_454, true),
            "2016-09-16T19:45:27.454Z"
        );
        assert_eq!(timestamp(1_501_010_204_000, false), "2017-07-25T19:16:44Z");
        assert_eq!(timestamp(951_782_400_000, false), "2000-02-29T00:00:00Z");
        assert_eq!(cookie_date(1_695_585_337), "Sun, 24-Sep-2023 19:55:37 GMT");
    }

    #[test]
    fn seeded_generators_repeat() {
        let mut a = rng_from_seed(7);
        let mut b = rng_from_seed(7);
        assert_eq!(base36(&mut a, 20), base36(&mut b, 20));
        let u = uuid(&mut a);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        let x = unit(&mut a);
        assert!((0.0..1.0).contains(&x));
    }
}
