//! When an event was created, as one typed value whatever the kind wrote: PushTopic, generic and
//! Platform Events carry an RFC 3339 text, Change Data Capture epoch milliseconds. Parsing and
//! formatting only: no clock is read here.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, in milliseconds since the Unix epoch (UTC), between 1970-01-01 and
/// 9999-12-31: the precision and range of Salesforce's event dates.
///
/// `Display` writes RFC 3339 in UTC with milliseconds (`2016-09-16T19:45:27.454Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

/// 9999-12-31T23:59:59.999Z.
const MAX_MILLIS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// The timestamp `millis` milliseconds after the Unix epoch; `None` outside 1970..=9999.
    #[must_use]
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        (0..=MAX_MILLIS)
            .contains(&millis)
            .then_some(Self { millis })
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub fn unix_millis(self) -> i64 {
        self.millis
    }

    /// The same point as a [`SystemTime`].
    #[must_use]
    pub fn to_system_time(self) -> SystemTime {
        // In range by construction: 0 ..= year 9999 fits every platform's `SystemTime`.
        UNIX_EPOCH + Duration::from_millis(self.millis.unsigned_abs())
    }

    /// Reads an RFC 3339 date-time as Salesforce writes them: `2016-09-16T19:45:27.454Z`,
    /// `2017-07-25T19:16:44Z`, `2017-07-25T19:16:44.000+0000`, `…+02:00`. Fractions beyond
    /// milliseconds are cut. `None` for anything else.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let digits = |at: usize, n: usize| -> Option<i64> {
            let part = b.get(at..at + n)?;
            part.iter().try_fold(0_i64, |acc, d| {
                d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
            })
        };
        let at = |i: usize, c: u8| b.get(i) == Some(&c);
        if !(at(4, b'-') && at(7, b'-') && matches!(b.get(10), Some(b'T' | b't' | b' '))) {
            return None;
        }
        if !(at(13, b':') && at(16, b':')) {
            return None;
        }
        let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
        let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut i = 19;
        let mut millis = 0;
        if at(i, b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            match i - start {
                0 => return None,
                1 => millis *= 100,
                2 => millis *= 10,
                _ => {}
            }
        }
        let offset_minutes = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) => {
                let (h, m) = match b.len() - i {
                    6 if at(i + 3, b':') => (digits(i + 1, 2)?, digits(i + 4, 2)?),
                    5 => (digits(i + 1, 2)?, digits(i + 3, 2)?),
                    _ => return None,
                };
                if h > 23 || m > 59 {
                    return None;
                }
                if *sign == b'+' {
                    h * 60 + m
                } else {
                    -(h * 60 + m)
                }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Self::from_unix_millis(seconds * 1000 + millis)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        t.to_system_time()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.millis.div_euclid(1000);
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.millis.rem_euclid(1000)
        )
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> Option<i64> {
        Timestamp::parse_rfc3339(text).map(Timestamp::unix_millis)
    }

    #[test]
    fn reads_the_forms_salesforce_writes() {
        assert_eq!(ms("2016-09-16T19:45:27.454Z"), Some(1_474_055_127_454));
        assert_eq!(ms("2017-07-25T19:16:44Z"), Some(1_501_010_204_000));
        assert_eq!(ms("2017-07-25T19:16:44.000+0000"), Some(1_501_010_204_000));
        assert_eq!(ms("2017-07-25T21:16:44.5+02:00"), Some(1_501_010_204_500));
        assert_eq!(
            ms("2017-07-25T19:16:44.123456789Z"),
            Some(1_501_010_204_123)
        );
        assert_eq!(ms("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(ms("9999-12-31T23:59:59.999Z"), Some(MAX_MILLIS));
    }

    #[test]
    fn refuses_what_is_not_an_rfc3339_date_time() {
        for bad in [
            "",
            "2016-09-16",
            "2016-09-16T19:45:27",
            "2016-09-16T19:45:27.Z",
            "2016-13-01T00:00:00Z",
            "2019-02-29T00:00:00Z",
            "2016-09-16T24:00:00Z",
            "2016-09-16T19:45:27Zjunk",
            "2016-09-16T19:45:27+2",
            "1969-12-31T23:59:59Z",
            "1501010206653",
            "２016-09-16T19:45:27Z",
        ] {
            assert_eq!(ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn displays_rfc3339_utc_with_milliseconds_and_reads_it_back() {
        for millis in [
            0,
            1_474_055_127_454,
            951_782_400_000,
            1_501_010_206_653,
            MAX_MILLIS,
        ] {
            let t = Timestamp::from_unix_millis(millis).unwrap();
            let text = t.to_string();
            assert_eq!(Timestamp::parse_rfc3339(&text), Some(t), "{text}");
        }
        let t = Timestamp::from_unix_millis(1_474_055_127_454).unwrap();
        assert_eq!(t.to_string(), "2016-09-16T19:45:27.454Z");
        assert_eq!(
            t.to_system_time(),
            UNIX_EPOCH + Duration::from_millis(1_474_055_127_454)
        );
        assert_eq!(Timestamp::from_unix_millis(-1), None);
        assert_eq!(Timestamp::from_unix_millis(MAX_MILLIS + 1), None);
    }
}
