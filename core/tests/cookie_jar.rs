//! The RFC 6265 cookie jar: Salesforce's cookies, expiry, domain and path rules, bounds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue, Uri};
use proptest::prelude::*;
use sfstream_core::cookie::CookieJar;

/// The jar's per-domain limit, as its documentation states it.
const MAX_COOKIES_PER_DOMAIN: usize = 50;

const INSTANCE: &str = "https://acme.my.salesforce.com";

/// 2023-09-01T00:00:00Z, before the `sfdc-stream` cookie's expiry.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_693_526_400)
}

fn uri(s: &str) -> Uri {
    s.parse().unwrap()
}

fn url(path: &str) -> Uri {
    uri(&format!("{INSTANCE}{path}"))
}

fn headers(set_cookies: &[&str]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for c in set_cookies {
        h.append(SET_COOKIE, HeaderValue::from_str(c).unwrap());
    }
    h
}

fn store(jar: &mut CookieJar, request: &Uri, set_cookies: &[&str], now: SystemTime) {
    jar.store_from_response(request, &headers(set_cookies), now);
}

fn cookie_header(jar: &CookieJar, request: &Uri, now: SystemTime) -> Option<String> {
    jar.header_for(request, now)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn salesforce_jar() -> CookieJar {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &url("/cometd/42.0"),
        &[
            "BAYEUX_BROWSER=7a1b-9k2m3n4o5p6q; Path=/; Secure; HttpOnly",
            "sfdc-stream=!//QiKCtgRz/abc=; path=/; Expires=Sun, 24-Sep-2023 19:55:37 GMT;  SameSite=None; Secure",
            "sfproxy-id=\"9c13437298e48434\"; Max-Age=3600; HttpOnly",
        ],
        t0(),
    );
    jar
}

#[test]
fn salesforce_cookies_go_back_to_cometd() {
    let jar = salesforce_jar();
    assert_eq!(jar.len(), 3);
    assert_eq!(jar.names(), ["BAYEUX_BROWSER", "sfdc-stream", "sfproxy-id"]);
    // Longer path first (sfproxy-id defaulted to /cometd), then creation order; quotes kept.
    let expected = "sfproxy-id=\"9c13437298e48434\"; BAYEUX_BROWSER=7a1b-9k2m3n4o5p6q; sfdc-stream=!//QiKCtgRz/abc=";
    for path in ["/cometd/42.0", "/cometd/42.0/", "/cometd/66.0", "/cometd"] {
        assert_eq!(
            cookie_header(&jar, &url(path), t0()).as_deref(),
            Some(expected),
            "{path}"
        );
    }
    // Outside /cometd only the Path=/ cookies go.
    assert_eq!(
        cookie_header(&jar, &url("/services/oauth2/token"), t0()).as_deref(),
        Some("BAYEUX_BROWSER=7a1b-9k2m3n4o5p6q; sfdc-stream=!//QiKCtgRz/abc=")
    );
    assert_eq!(
        cookie_header(&jar, &url("/cometdX"), t0()).as_deref(),
        Some("BAYEUX_BROWSER=7a1b-9k2m3n4o5p6q; sfdc-stream=!//QiKCtgRz/abc=")
    );
}

#[test]
fn default_path_scopes_sfproxy_id_to_cometd_only() {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &url("/cometd/42.0"),
        &["sfproxy-id=\"9c13437298e48434\"; Max-Age=3600; HttpOnly"],
        t0(),
    );
    let cookie = Some("sfproxy-id=\"9c13437298e48434\"".to_owned());
    assert_eq!(cookie_header(&jar, &url("/cometd/42.0"), t0()), cookie);
    assert_eq!(cookie_header(&jar, &url("/cometd/42.0/meta"), t0()), cookie);
    assert_eq!(cookie_header(&jar, &url("/cometd"), t0()), cookie);
    assert_eq!(cookie_header(&jar, &url("/cometdX"), t0()), None);
    assert_eq!(
        cookie_header(&jar, &url("/services/oauth2/token"), t0()),
        None
    );
    assert_eq!(cookie_header(&jar, &url("/"), t0()), None);
}

#[test]
fn default_path_edge_cases() {
    let cases = [
        ("/", "/"),
        ("/cometd", "/"),
        ("/a/b/c", "/a/b"),
        ("/a/b/", "/a/b"),
    ];
    for (request_path, cookie_path) in cases {
        let mut jar = CookieJar::new();
        store(&mut jar, &url(request_path), &["c=1"], t0());
        // A request to exactly the cookie path matches; a sibling of it does not (unless "/").
        assert!(cookie_header(&jar, &url(cookie_path), t0()).is_some());
        if cookie_path != "/" {
            assert!(cookie_header(&jar, &url(&format!("{cookie_path}x")), t0()).is_none());
        }
    }
    // A Path attribute that does not start with '/' falls back to the default path.
    let mut jar = CookieJar::new();
    store(&mut jar, &url("/a/b/c"), &["c=1; Path=relative"], t0());
    assert!(cookie_header(&jar, &url("/a/b"), t0()).is_some());
    assert!(cookie_header(&jar, &url("/a"), t0()).is_none());
}

#[test]
fn path_attribute_matching() {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &url("/"),
        &["t=xxx; path=/cometd/; HttpOnly", "u=1; Path=/cometd"],
        t0(),
    );
    assert_eq!(
        cookie_header(&jar, &url("/cometd/42.0"), t0()).as_deref(),
        Some("t=xxx; u=1")
    );
    assert_eq!(
        cookie_header(&jar, &url("/cometd"), t0()).as_deref(),
        Some("u=1")
    );
    assert_eq!(cookie_header(&jar, &url("/cometdX"), t0()), None);
}

#[test]
fn max_age_expires_against_the_injected_clock() {
    let jar = salesforce_jar();
    let later = t0() + Duration::from_secs(3599);
    assert!(
        cookie_header(&jar, &url("/cometd/42.0"), later)
            .unwrap()
            .contains("sfproxy-id")
    );
    let expired = t0() + Duration::from_secs(3600);
    assert!(
        !cookie_header(&jar, &url("/cometd/42.0"), expired)
            .unwrap()
            .contains("sfproxy-id")
    );
}

#[test]
fn expires_attribute_against_the_injected_clock() {
    let jar = salesforce_jar();
    // Sun, 24-Sep-2023 19:55:37 GMT
    let expiry = UNIX_EPOCH + Duration::from_secs(1_695_585_337);
    let before = cookie_header(&jar, &url("/"), expiry - Duration::from_secs(1)).unwrap();
    assert!(before.contains("sfdc-stream"));
    let after = cookie_header(&jar, &url("/"), expiry).unwrap();
    assert!(!after.contains("sfdc-stream"), "{after}");
}

#[test]
fn max_age_wins_over_expires_in_either_order() {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &url("/"),
        &[
            "a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=60",
            "b=2; Max-Age=60; Expires=Sun, 06 Nov 1994 08:49:37 GMT",
        ],
        t0(),
    );
    assert_eq!(
        cookie_header(&jar, &url("/"), t0()).as_deref(),
        Some("a=1; b=2")
    );
    assert_eq!(
        cookie_header(&jar, &url("/"), t0() + Duration::from_secs(60)),
        None
    );
}

#[test]
fn past_expires_and_nonpositive_max_age_delete() {
    let mut jar = salesforce_jar();
    store(
        &mut jar,
        &url("/cometd/42.0"),
        &[
            "sfdc-stream=gone; path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT",
            "sfproxy-id=x; Max-Age=0",
            "BAYEUX_BROWSER=y; Path=/; Max-Age=-1",
        ],
        t0(),
    );
    assert!(jar.is_empty(), "{jar:?}");
    assert_eq!(cookie_header(&jar, &url("/cometd/42.0"), t0()), None);
}

#[test]
fn same_name_domain_path_replaces_and_keeps_its_place() {
    let mut jar = CookieJar::new();
    store(&mut jar, &url("/"), &["a=1", "b=2"], t0());
    store(&mut jar, &url("/"), &["a=3"], t0());
    assert_eq!(jar.len(), 2);
    assert_eq!(
        cookie_header(&jar, &url("/"), t0()).as_deref(),
        Some("a=3; b=2")
    );
    // Same name with another path is another cookie.
    store(&mut jar, &url("/"), &["a=4; Path=/x"], t0());
    assert_eq!(jar.len(), 3);
    assert_eq!(
        cookie_header(&jar, &url("/x"), t0()).as_deref(),
        Some("a=4; a=3; b=2")
    );
}

#[test]
fn host_only_cookies_stay_on_their_host() {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &uri("https://acme.my.salesforce.com/"),
        &["h=1"],
        t0(),
    );
    assert!(cookie_header(&jar, &uri("https://acme.my.salesforce.com/"), t0()).is_some());
    assert!(cookie_header(&jar, &uri("https://ACME.my.salesforce.com./x"), t0()).is_some());
    assert!(cookie_header(&jar, &uri("https://sub.acme.my.salesforce.com/"), t0()).is_none());
    assert!(cookie_header(&jar, &uri("https://my.salesforce.com/"), t0()).is_none());
}

#[test]
fn domain_attribute_rules() {
    let mut jar = CookieJar::new();
    let req = uri("https://na1.salesforce.com/cometd/42.0");
    store(
        &mut jar,
        &req,
        &[
            "d=1; Domain=.salesforce.com; Path=/",
            "e=2; Domain=SALESFORCE.COM; Path=/",
            "evil=1; Domain=example.com; Path=/",
            "sub=1; Domain=deeper.na1.salesforce.com; Path=/",
            "tld=1; Domain=com; Path=/",
            "empty=1; Domain=; Path=/",
        ],
        t0(),
    );
    // A leading dot and upper case are ignored; foreign, deeper and dotless domains are refused.
    assert_eq!(jar.names(), ["d", "e", "empty"]);
    assert_eq!(
        cookie_header(&jar, &uri("https://na2.salesforce.com/"), t0()).as_deref(),
        Some("d=1; e=2")
    );
    // The empty Domain attribute is ignored: a host-only cookie.
    assert_eq!(
        cookie_header(&jar, &uri("https://na1.salesforce.com/"), t0()).as_deref(),
        Some("d=1; e=2; empty=1")
    );
    assert_eq!(
        cookie_header(&jar, &uri("https://salesforce.com.evil/"), t0()),
        None
    );
    assert_eq!(
        cookie_header(&jar, &uri("https://xsalesforce.com/"), t0()),
        None
    );
}

#[test]
fn leading_dot_domain_is_a_domain_cookie() {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &uri("https://na1.salesforce.com/"),
        &["d=1; Domain=.salesforce.com"],
        t0(),
    );
    assert_eq!(
        cookie_header(&jar, &uri("https://salesforce.com/"), t0()).as_deref(),
        Some("d=1")
    );
    assert_eq!(
        cookie_header(&jar, &uri("https://eu5.salesforce.com/"), t0()).as_deref(),
        Some("d=1")
    );
}

#[test]
fn ip_hosts_store_host_only_cookies() {
    let mut jar = CookieJar::new();
    let req = uri("http://127.0.0.1:8080/cometd/42.0");
    store(
        &mut jar,
        &req,
        &[
            "BAYEUX_BROWSER=abc; Path=/",
            "same=1; Domain=127.0.0.1; Path=/",
            "other=1; Domain=0.0.1; Path=/",
            "v6=1; Domain=::1; Path=/",
        ],
        t0(),
    );
    assert_eq!(jar.names(), ["BAYEUX_BROWSER", "same"]);
    assert_eq!(
        cookie_header(&jar, &uri("http://127.0.0.1:9999/cometd/42.0"), t0()).as_deref(),
        Some("BAYEUX_BROWSER=abc; same=1")
    );
    assert_eq!(cookie_header(&jar, &uri("http://127.0.0.2/"), t0()), None);

    let mut v6 = CookieJar::new();
    store(
        &mut v6,
        &uri("http://[::1]:8080/cometd/42.0"),
        &["k=1; Path=/"],
        t0(),
    );
    assert_eq!(
        cookie_header(&v6, &uri("http://[::1]:8080/x"), t0()).as_deref(),
        Some("k=1")
    );
}

#[test]
fn secure_cookies_need_https_or_loopback() {
    let jar = salesforce_jar();
    // Over plain http to a non-loopback host, Secure cookies stay home.
    assert_eq!(
        cookie_header(
            &jar,
            &uri("http://acme.my.salesforce.com/cometd/42.0"),
            t0()
        )
        .as_deref(),
        Some("sfproxy-id=\"9c13437298e48434\"")
    );
    // Loopback counts as a secure context, as in browsers: the emulator gets them.
    let mut local = CookieJar::new();
    let req = uri("http://localhost:8080/cometd/42.0");
    store(&mut local, &req, &["s=1; Secure; Path=/"], t0());
    assert_eq!(cookie_header(&local, &req, t0()).as_deref(), Some("s=1"));
    // A non-loopback http response cannot set a Secure cookie at all.
    let mut plain = CookieJar::new();
    store(
        &mut plain,
        &uri("http://example.com/"),
        &["s=1; Secure", "n=1"],
        t0(),
    );
    assert_eq!(plain.names(), ["n"]);
}

#[test]
fn attribute_names_are_case_insensitive_and_whitespace_trimmed() {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &url("/cometd/42.0"),
        &["  a = 1 ;PATH=/ ; mAx-AgE=10;SECURE;httponly;samesite=Lax"],
        t0(),
    );
    assert_eq!(
        cookie_header(&jar, &url("/other"), t0()).as_deref(),
        Some("a=1")
    );
    assert_eq!(
        cookie_header(&jar, &url("/other"), t0() + Duration::from_secs(10)),
        None
    );
}

#[test]
fn invalid_lines_are_ignored() {
    let mut jar = CookieJar::new();
    let big = format!("big={}", "x".repeat(4096));
    store(
        &mut jar,
        &url("/"),
        &[
            "novalue",
            "=nameless",
            "",
            ";",
            big.as_str(),
            "ok=1; Max-Age=abc; Expires=garbage",
        ],
        t0(),
    );
    assert_eq!(jar.names(), ["ok"]);
    // Unparseable Max-Age and Expires are ignored: a session cookie.
    assert!(cookie_header(&jar, &url("/"), t0() + Duration::from_secs(86_400 * 365)).is_some());
    // Empty values are fine.
    store(&mut jar, &url("/"), &["empty="], t0());
    assert_eq!(
        cookie_header(&jar, &url("/"), t0()).as_deref(),
        Some("ok=1; empty=")
    );
}

#[test]
fn non_utf8_set_cookie_is_ignored() {
    let mut jar = CookieJar::new();
    let mut h = HeaderMap::new();
    h.append(SET_COOKIE, HeaderValue::from_bytes(b"a=\xff\xfe").unwrap());
    h.append(SET_COOKIE, HeaderValue::from_static("b=2"));
    jar.store_from_response(&url("/"), &h, t0());
    assert_eq!(jar.names(), ["b"]);
}

#[test]
fn clear_and_remove_expired() {
    let mut jar = salesforce_jar();
    jar.remove_expired(t0() + Duration::from_secs(3600));
    assert_eq!(jar.names(), ["BAYEUX_BROWSER", "sfdc-stream"]);
    jar.clear();
    assert!(jar.is_empty());
    assert_eq!(jar.len(), 0);
    assert_eq!(cookie_header(&jar, &url("/cometd/42.0"), t0()), None);
}

#[test]
fn per_domain_cap_evicts_the_oldest() {
    let mut jar = CookieJar::new();
    for i in 0..MAX_COOKIES_PER_DOMAIN + 5 {
        store(&mut jar, &url("/"), &[&format!("c{i}=v")], t0());
    }
    assert_eq!(jar.len(), MAX_COOKIES_PER_DOMAIN);
    let names = jar.names();
    assert_eq!(names.first().map(String::as_str), Some("c5"));
    assert_eq!(
        names.last().cloned(),
        Some(format!("c{}", MAX_COOKIES_PER_DOMAIN + 4))
    );
    // Another host has its own allowance.
    store(&mut jar, &uri("https://other.example.com/"), &["x=1"], t0());
    assert_eq!(jar.len(), MAX_COOKIES_PER_DOMAIN + 1);
}

#[test]
fn lifetimes_are_capped_at_400_days() {
    let mut jar = CookieJar::new();
    store(
        &mut jar,
        &url("/"),
        &[
            "long=1; Max-Age=99999999999999999999999",
            "far=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT",
        ],
        t0(),
    );
    let day = Duration::from_secs(86_400);
    assert!(cookie_header(&jar, &url("/"), t0() + day * 399).is_some());
    assert_eq!(cookie_header(&jar, &url("/"), t0() + day * 400), None);
}

#[test]
fn header_is_sensitive() {
    let jar = salesforce_jar();
    assert!(
        jar.header_for(&url("/cometd/42.0"), t0())
            .unwrap()
            .is_sensitive()
    );
}

#[test]
fn debug_lists_names_not_values() {
    let jar = salesforce_jar();
    let debug = format!("{jar:?}");
    assert!(
        debug.contains("BAYEUX_BROWSER") && debug.contains("sfproxy-id"),
        "{debug}"
    );
    for value in ["7a1b-9k2m3n4o5p6q", "QiKCtgRz", "9c13437298e48434"] {
        assert!(!debug.contains(value), "{debug}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_set_cookie_bytes_never_panic(
        lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..6),
        path in "(/[a-zA-Z0-9.]{0,6}){0,4}",
        host in prop_oneof![Just("acme.my.salesforce.com"), Just("127.0.0.1"), Just("[::1]"), Just("localhost")],
        secs in any::<u32>(),
    ) {
        let mut h = HeaderMap::new();
        for line in &lines {
            if let Ok(v) = HeaderValue::from_bytes(line) {
                h.append(SET_COOKIE, v);
            }
        }
        let request = uri(&format!("https://{host}{path}"));
        let now = UNIX_EPOCH + Duration::from_secs(u64::from(secs));
        let mut jar = CookieJar::new();
        jar.store_from_response(&request, &h, now);
        let _ = jar.header_for(&request, now);
        let _ = format!("{jar:?}");
    }

    #[test]
    fn structured_set_cookie_strings_never_panic(
        name in "[ -~]{0,12}",
        value in "[ -~]{0,24}",
        attrs in prop::collection::vec(
            prop_oneof![
                "(?i)(expires|max-age|domain|path|secure|httponly|samesite)=[ -:<-~]{0,30}",
                "[ -:<-~]{0,20}",
            ],
            0..5,
        ),
    ) {
        let line = std::iter::once(format!("{name}={value}")).chain(attrs).collect::<Vec<_>>().join(";");
        let mut jar = CookieJar::new();
        jar.store_from_response(&url("/cometd/42.0"), &headers(&[line.as_str()]), t0());
        if let Some(v) = jar.header_for(&url("/cometd/42.0"), t0()) {
            prop_assert!(v.is_sensitive());
        }
    }
}
