//! The cookies of a Salesforce CometD session.
//!
//! A handshake reply sets three cookies, and later requests of that client must send two of them
//! back, so a client whose cookie jar is broken fails visibly:
//!
//! - `BAYEUX_BROWSER=<id>; Path=/; HttpOnly`. Missing (or not the one given to this client) →
//!   `400::Client {id} has established a session, but no BAYEUX_BROWSER cookie present`.
//! - `sfdc-stream=!<value>; path=/; Expires=<date>;  SameSite=None; Secure`, a routing cookie
//!   that is not checked. `Secure` is left out unless secure cookies are enabled, because a
//!   client following RFC 6265 would never send a `Secure` cookie back over plain http.
//! - `sfproxy-id="<hex>"; Max-Age=3600; HttpOnly` with **no Path**, so RFC 6265 default-path
//!   rules scope it to `/cometd`. Different, or missing while `BAYEUX_BROWSER` is right →
//!   `403::Unknown client` with advice
//!   `handshake`, the session ends and new routing cookies are set: what a load balancer routing
//!   the request to a node that does not know the session produces.
//!
//! A handshake that presents any of them keeps it (CometD reuses the browser id, the load
//! balancer its affinity), so two sessions sharing a cookie jar do not break each other.

use std::collections::HashMap;

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};

use crate::util;

/// The request's cookies by name (the first of duplicates wins, quotes are kept).
pub(crate) fn parse(headers: &HeaderMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for value in headers.get_all(COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, value)) = pair.split_once('=') {
                out.entry(name.trim().to_owned())
                    .or_insert_with(|| value.trim().to_owned());
            }
        }
    }
    out
}

/// A cookie value without surrounding double quotes.
pub(crate) fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// Whether a presented cookie value looks like one the emulator hands out (letters, digits,
/// `+/=!`), so that it can be kept rather than replaced.
pub(crate) fn plausible(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=!-_".contains(&b))
}

fn header(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

/// `BAYEUX_BROWSER=<id>; Path=/; HttpOnly`.
pub(crate) fn browser(browser_id: &str) -> Option<HeaderValue> {
    header(&format!("BAYEUX_BROWSER={browser_id}; Path=/; HttpOnly"))
}

/// `sfdc-stream=!<value>; path=/; Expires=<in 3 h>;  SameSite=None[; Secure]`.
pub(crate) fn stream(stream_value: &str, secure: bool) -> Option<HeaderValue> {
    let expires = util::cookie_date(util::now_millis() / 1000 + 3 * 3600);
    let secure = if secure { "; Secure" } else { "" };
    // The double space before SameSite is what Salesforce sends.
    header(&format!(
        "sfdc-stream=!{stream_value}; path=/; Expires={expires};  SameSite=None{secure}"
    ))
}

/// `sfproxy-id="<hex>"; Max-Age=3600; HttpOnly`, without a Path.
pub(crate) fn proxy(proxy_id: &str) -> Option<HeaderValue> {
    header(&format!(
        "sfproxy-id=\"{proxy_id}\"; Max-Age=3600; HttpOnly"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_headers_are_parsed_across_lines() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; BAYEUX_BROWSER=x"));
        headers.append(COOKIE, HeaderValue::from_static("sfproxy-id=\"ab\"; a=2"));
        let c = parse(&headers);
        assert_eq!(c.get("a").map(String::as_str), Some("1"));
        assert_eq!(c.get("BAYEUX_BROWSER").map(String::as_str), Some("x"));
        assert_eq!(c.get("sfproxy-id").map(|v| unquote(v)), Some("ab"));
    }
}
