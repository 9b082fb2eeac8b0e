//! Cookie parsing: arbitrary `Set-Cookie` lines (split on newlines) stored from a response to one
//! of a few request URIs at an arbitrary time, then the `Cookie` header for several URIs. Nothing
//! may panic; every `Cookie` header the jar produces is UTF-8 (lines that are not are ignored,
//! so every stored cookie can be sent back unchanged) and marked sensitive.
#![no_main]

use std::time::{Duration, SystemTime};

use http::Uri;
use http::header::{HeaderMap, HeaderValue, SET_COOKIE};
use libfuzzer_sys::fuzz_target;
use sfstream_core::cookie::CookieJar;
use sfstream_core::fuzzing::parse_cookie_date;

const URIS: [&str; 6] = [
    "https://na1.salesforce.com/cometd/42.0",
    "https://na1.salesforce.com/cometd/42.0/",
    "http://127.0.0.1:8080/cometd/64.0",
    "https://sub.example.my.salesforce.com/",
    "http://[::1]:9/x/y?q=1",
    "https://Example.COM./a/b/c",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((&secs, lines)) = rest.split_first() else {
        return;
    };
    let uri: Uri = URIS[usize::from(selector) % URIS.len()]
        .parse()
        .expect("a URI");
    let now =
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + u64::from(secs) * 86_400);
    let mut headers = HeaderMap::new();
    for line in lines.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(SET_COOKIE, value);
        }
    }
    if let Ok(text) = std::str::from_utf8(lines) {
        let _ = parse_cookie_date(text);
    }
    let mut jar = CookieJar::new();
    jar.store_from_response(&uri, &headers, now);
    jar.store_from_response(&uri, &headers, now + Duration::from_secs(3600));
    for u in URIS {
        let u: Uri = u.parse().expect("a URI");
        for t in [now, now + Duration::from_secs(400 * 86_400 + 1)] {
            if let Some(v) = jar.header_for(&u, t) {
                // Not `to_str`: cookies may carry UTF-8 beyond ASCII, which browsers send back too.
                assert!(
                    std::str::from_utf8(v.as_bytes()).is_ok(),
                    "a Cookie header that is not UTF-8"
                );
                assert!(v.is_sensitive(), "the Cookie header is marked sensitive");
            }
        }
    }
    let names = jar.names();
    assert_eq!(names.len(), jar.len());
    let _ = format!("{jar:?}");
    jar.remove_expired(now + Duration::from_secs(401 * 86_400));
    assert!(jar.is_empty() || jar.len() <= names.len());
    jar.clear();
    assert!(jar.is_empty());
});
