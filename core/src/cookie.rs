//! A small RFC 6265 cookie jar, without I/O.
//!
//! Salesforce's streaming endpoint routes by cookies: `BAYEUX_BROWSER` (the CometD browser id,
//! without which the server answers `no BAYEUX_BROWSER cookie present`), `sfdc-stream` and
//! `sfproxy-id` (load-balancer affinity). A client that drops them, or scopes them wrongly, gets
//! `403::Unknown client`. The classic trap is `sfproxy-id`, set on the handshake response to
//! `/cometd/42.0` *without* a `Path`: RFC 6265's default-path rule (§5.1.4) scopes it to
//! `/cometd`, so it goes out with every later `/cometd/42.0` request. The jar lives in the core so
//! every runtime behaves the same.
//!
//! Rules implemented (RFC 6265 §5.1–§5.4):
//! - `Set-Cookie` parsing per §5.2, attribute names case-insensitive; quoted values keep their
//!   quotes; `Expires` parsed with the §5.1.1 algorithm (IMF-fixdate, `Sun, 24-Sep-2023 …`,
//!   RFC 850, asctime); `Max-Age` wins over `Expires`, `Max-Age<=0` and past dates delete.
//!   Lifetimes are capped at 400 days (RFC 6265bis).
//! - `Domain`: leading dot ignored; must domain-match the request host or the cookie is ignored;
//!   absent → host-only. On an IP-address host only the exact address is accepted. There is no
//!   public-suffix list: a `Domain` without a dot (`com`) is accepted only when it equals the host.
//! - `Path`: default-path when absent or not starting with `/`; path-match per §5.1.4.
//! - `Secure`: sent only to secure contexts, and accepted only from them (RFC 6265bis). A secure
//!   context is `https`, or — as in browsers — a loopback host (`127.0.0.0/8`, `::1`,
//!   `localhost`), so the local emulator works over plain `http`.
//! - `HttpOnly` is stored and irrelevant to a non-browser; `SameSite` is ignored.
//! - Same (name, domain, path) replaces and keeps the original creation order; the `Cookie`
//!   header lists longer paths first, then older cookies first (§5.4).
//! - Memory is bounded: a name plus value over 4096 bytes is ignored, and the jar keeps at most
//!   50 per domain and 3,000 in all, evicting expired cookies
//!   first, then the oldest.
//! - `Set-Cookie` lines that are not UTF-8 or contain control characters are ignored, so every
//!   stored cookie can be sent back unchanged.
//!
//! Use one jar per Bayeux session and clear it when the session ends: the server treats two
//! clients sharing a `BAYEUX_BROWSER` cookie as one browser with two tabs.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Uri, header};

use crate::oauth::is_loopback_host;

/// Longest accepted name plus value, in bytes (RFC 6265 §6.1's minimum capacity).
const MAX_COOKIE_SIZE: usize = 4096;
/// Most cookies kept for one domain.
const MAX_COOKIES_PER_DOMAIN: usize = 50;
/// Most cookies kept in one jar.
const MAX_COOKIES: usize = 3000;
/// Longest lifetime a cookie can claim (RFC 6265bis: 400 days).
const MAX_LIFETIME: Duration = Duration::from_secs(400 * 24 * 60 * 60);

#[derive(Clone)]
struct Cookie {
    name: String,
    value: String,
    /// The canonical host (host-only) or domain, lowercase, IPv6 without brackets.
    domain: String,
    host_only: bool,
    path: String,
    /// `None`: a session cookie, kept until [`CookieJar::clear`].
    expires: Option<SystemTime>,
    secure: bool,
    http_only: bool,
    /// Creation order; kept on replacement (§5.3 step 11.3).
    created: u64,
}

impl Cookie {
    fn is_expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    fn same_slot(&self, other: &Cookie) -> bool {
        self.name == other.name && self.domain == other.domain && self.path == other.path
    }
}

/// An RFC 6265 cookie store for one client session.
///
/// `Debug` lists names, domains and paths, never values (they are session secrets).
#[derive(Clone, Default)]
pub struct CookieJar {
    cookies: Vec<Cookie>,
    next_created: u64,
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .cookies
            .iter()
            .map(|c| {
                let mut entry = format!("{}@{}{}", c.name, c.domain, c.path);
                for (set, flag) in [(c.secure, " Secure"), (c.http_only, " HttpOnly")] {
                    if set {
                        entry.push_str(flag);
                    }
                }
                entry
            })
            .collect();
        f.debug_struct("CookieJar")
            .field("cookies", &entries)
            .finish()
    }
}

impl CookieJar {
    /// An empty jar.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores every `Set-Cookie` of a response to `request_uri`, received at `now`.
    ///
    /// Invalid or unacceptable cookies are ignored, as a browser would; nothing here can fail.
    pub fn store_from_response(&mut self, request_uri: &Uri, headers: &HeaderMap, now: SystemTime) {
        let Some(host) = canonical_host(request_uri) else {
            return;
        };
        let secure_context = is_secure_context(request_uri, &host);
        let request_path = request_uri.path();
        for line in headers.get_all(header::SET_COOKIE) {
            let Ok(line) = std::str::from_utf8(line.as_bytes()) else {
                continue;
            };
            if let Some(cookie) = self.parse(line, &host, request_path, secure_context, now) {
                self.insert(cookie, now);
            }
        }
    }

    /// The `Cookie` header for a request to `uri` at `now`, or `None` when no cookie applies.
    ///
    /// The value is marked sensitive so HTTP libraries keep it out of logs.
    #[must_use]
    pub fn header_for(&self, uri: &Uri, now: SystemTime) -> Option<HeaderValue> {
        let host = canonical_host(uri)?;
        let secure_context = is_secure_context(uri, &host);
        let path = match uri.path() {
            "" => "/",
            p => p,
        };
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| {
                !c.is_expired(now)
                    && (!c.secure || secure_context)
                    && if c.host_only {
                        c.domain == host
                    } else {
                        domain_match(&host, &c.domain)
                    }
                    && path_match(path, &c.path)
            })
            .collect();
        if matching.is_empty() {
            return None;
        }
        matching.sort_by(|a, b| {
            b.path
                .len()
                .cmp(&a.path.len())
                .then(a.created.cmp(&b.created))
        });
        let joined = matching
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ");
        let mut value = HeaderValue::from_str(&joined).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// Drops every cookie (at the end of a Bayeux session, like CometD's `terminate()`).
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Drops the cookies that have expired by `now`. Storing also does this, so calling it is
    /// only needed to make [`CookieJar::len`] exact.
    pub fn remove_expired(&mut self, now: SystemTime) {
        self.cookies.retain(|c| !c.is_expired(now));
    }

    /// How many cookies are stored (expired ones included until the next store).
    #[must_use]
    pub fn len(&self) -> usize {
        self.cookies.len()
    }

    /// Whether the jar holds no cookie.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// The stored cookies' names, in creation order (for diagnostics; values are never exposed).
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        let mut cookies: Vec<&Cookie> = self.cookies.iter().collect();
        cookies.sort_by_key(|c| c.created);
        cookies.into_iter().map(|c| c.name.clone()).collect()
    }

    /// RFC 6265 §5.2 and the acceptance checks of §5.3. `None`: ignore the line.
    fn parse(
        &mut self,
        line: &str,
        host: &str,
        request_path: &str,
        secure_context: bool,
        now: SystemTime,
    ) -> Option<Cookie> {
        let mut parts = line.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let (name, value) = (trim_wsp(name), trim_wsp(value));
        if name.is_empty()
            || name.len() + value.len() > MAX_COOKIE_SIZE
            || name.chars().chain(value.chars()).any(char::is_control)
        {
            return None;
        }
        let mut expires: Option<SystemTime> = None;
        let mut max_age: Option<SystemTime> = None;
        let mut domain: Option<String> = None;
        let mut path: Option<String> = None;
        let (mut secure, mut http_only) = (false, false);
        for attribute in parts {
            let (key, val) = match attribute.split_once('=') {
                Some((k, v)) => (trim_wsp(k), trim_wsp(v)),
                None => (trim_wsp(attribute), ""),
            };
            match key.to_ascii_lowercase().as_str() {
                "expires" => {
                    if let Some(t) = parse_cookie_date(val) {
                        expires = Some(t);
                    }
                }
                "max-age" => {
                    if let Some(t) = parse_max_age(val, now) {
                        max_age = Some(t);
                    }
                }
                "domain" => {
                    // An empty Domain is ignored (§5.2.3), as is a lone ".".
                    let d = val.strip_prefix('.').unwrap_or(val).trim_end_matches('.');
                    if !d.is_empty() {
                        domain = Some(d.to_ascii_lowercase());
                    }
                }
                "path" => {
                    path = val.starts_with('/').then(|| val.to_owned());
                }
                "secure" => secure = true,
                "httponly" => http_only = true,
                _ => {}
            }
        }
        if secure && !secure_context {
            return None;
        }
        let host_is_ip = is_ip(host);
        let (domain, host_only) = match domain {
            Some(d) if d == host => (d, true),
            Some(d) if !host_is_ip && d.contains('.') && domain_match(host, &d) => (d, false),
            Some(_) => return None,
            None => (host.to_owned(), true),
        };
        let expires = max_age
            .or(expires)
            .map(|t| t.min(now.checked_add(MAX_LIFETIME).unwrap_or(t)));
        let created = self.next_created;
        self.next_created += 1;
        Some(Cookie {
            name: name.to_owned(),
            value: value.to_owned(),
            domain,
            host_only,
            path: path.unwrap_or_else(|| default_path(request_path)),
            expires,
            secure,
            http_only,
            created,
        })
    }

    /// §5.3 steps 11–12: replace, delete when expired, then enforce the bounds.
    fn insert(&mut self, mut cookie: Cookie, now: SystemTime) {
        if let Some(pos) = self.cookies.iter().position(|c| c.same_slot(&cookie)) {
            let old = self.cookies.remove(pos);
            cookie.created = old.created;
        }
        if cookie.is_expired(now) {
            return;
        }
        self.cookies.push(cookie);
        let domain = self
            .cookies
            .last()
            .map(|c| c.domain.clone())
            .unwrap_or_default();
        self.remove_expired(now);
        while self.cookies.iter().filter(|c| c.domain == domain).count() > MAX_COOKIES_PER_DOMAIN {
            self.evict_oldest(|c| c.domain == domain);
        }
        while self.cookies.len() > MAX_COOKIES {
            self.evict_oldest(|_| true);
        }
    }

    fn evict_oldest(&mut self, within: impl Fn(&Cookie) -> bool) {
        let oldest = self
            .cookies
            .iter()
            .enumerate()
            .filter(|(_, c)| within(c))
            .min_by_key(|(_, c)| c.created)
            .map(|(i, _)| i);
        if let Some(i) = oldest {
            self.cookies.remove(i);
        }
    }
}

fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Lowercase host, IPv6 without brackets, without a trailing dot.
fn canonical_host(uri: &Uri) -> Option<String> {
    let host = uri.host()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

fn is_secure_context(uri: &Uri, host: &str) -> bool {
    matches!(uri.scheme_str(), Some(s) if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("wss"))
        || is_loopback_host(host)
}

/// §5.1.3: `host` equals `domain`, or ends with `.domain` and is not an IP address.
fn domain_match(host: &str, domain: &str) -> bool {
    host == domain
        || (!is_ip(host)
            && host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

/// §5.1.4 default-path: the request path up to, not including, its right-most `/`; `/` when
/// that would be empty or the path does not start with `/`.
fn default_path(request_path: &str) -> String {
    if !request_path.starts_with('/') {
        return "/".to_owned();
    }
    match request_path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => request_path[..i].to_owned(),
    }
}

/// §5.1.4 path-match.
fn path_match(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

/// §5.2.2 Max-Age: an optional `-` and digits. Zero or negative means "already expired".
fn parse_max_age(value: &str, now: SystemTime) -> Option<SystemTime> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if value.starts_with('-') || digits.bytes().all(|b| b == b'0') {
        return Some(UNIX_EPOCH);
    }
    // Anything too long for u64 is far beyond the lifetime cap anyway.
    let secs = digits.parse::<u64>().unwrap_or(u64::MAX);
    let secs = secs.min(MAX_LIFETIME.as_secs());
    Some(now.checked_add(Duration::from_secs(secs)).unwrap_or(now))
}

/// RFC 6265 §5.1.1 cookie-date parsing. `None` when the date is not a valid one.
pub(crate) fn parse_cookie_date(text: &str) -> Option<SystemTime> {
    let is_delimiter = |c: char| matches!(c, '\t' | ' '..='/' | ';'..='@' | '['..='`' | '{'..='~');
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in text.split(is_delimiter).filter(|t| !t.is_empty()) {
        if time.is_none()
            && let Some(t) = parse_time(token)
        {
            time = Some(t);
        } else if day.is_none()
            && let Some(d) = leading_digits(token, 1, 2)
        {
            day = Some(d);
        } else if month.is_none()
            && let Some(m) = parse_month(token)
        {
            month = Some(m);
        } else if year.is_none()
            && let Some(y) = leading_digits(token, 2, 4)
        {
            year = Some(y);
        }
    }
    let (hour, minute, second) = time?;
    let (day, month, mut year) = (day?, month?, year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if year <= 69 {
        year += 2000;
    }
    if year < 1601 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))
            .unwrap_or(UNIX_EPOCH)
    })
}

/// `min..=max` digits at the start of `token`, followed by nothing or by a non-digit.
fn leading_digits(token: &str, min: usize, max: usize) -> Option<u32> {
    let n = token.bytes().take_while(u8::is_ascii_digit).count();
    if n < min || n > max {
        return None;
    }
    token[..n].parse().ok()
}

/// `hms-time = time-field ":" time-field ":" time-field`, each 1–2 digits, then anything
/// starting with a non-digit.
fn parse_time(token: &str) -> Option<(u32, u32, u32)> {
    let mut fields = [0u32; 3];
    let mut rest = token;
    for (i, field) in fields.iter_mut().enumerate() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=2).contains(&n) {
            return None;
        }
        *field = rest[..n].parse().ok()?;
        rest = &rest[n..];
        if i < 2 {
            rest = rest.strip_prefix(':')?;
        }
    }
    if rest.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((fields[0], fields[1], fields[2]))
}

fn parse_month(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = token.get(..3)?.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == prefix)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cookie_dates() {
        let secs =
            |s: &str| parse_cookie_date(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs());
        assert_eq!(secs("Sun, 24-Sep-2023 19:55:37 GMT"), Some(1_695_585_337));
        assert_eq!(secs("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(secs("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(secs("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(secs("06 nov 1994 08:49:37"), Some(784_111_777));
        assert_eq!(secs("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(secs("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(secs("Wed, 01 Jan 2020 00:00:00 GMT"), Some(1_577_836_800));
        assert_eq!(secs("Mon, 29 Feb 2021 00:00:00 GMT"), None);
        assert_eq!(secs("Sun, 31 Apr 2023 00:00:00 GMT"), None);
        assert_eq!(secs("Sun, 06 Nov 1994 24:00:00 GMT"), None);
        assert_eq!(secs("Sun, 06 Nov 1994 GMT"), None);
        assert_eq!(secs("Sun, 06 Nov 1500 08:49:37 GMT"), None);
        assert_eq!(secs(""), None);
        assert_eq!(secs("garbage"), None);
        // Before the epoch parses, and counts as expired.
        assert!(parse_cookie_date("Sat, 01 Jan 1601 00:00:00 GMT").is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_dates_never_panic(s in "\\PC{0,40}") {
            let _ = parse_cookie_date(&s);
        }
    }
}
