//! Which proxy a request takes, from given environments: hyper-util's matcher, so the variables,
//! their order and the `NO_PROXY` rules of the tokio runtime (reqwest).

mod common;

use common::env;
use sfstream_driver::TransportError;
use sfstream_http_async_io::{Proxies, Route};

/// `user:p@ss`, as the proxy URLs below spell it (`p%40ss`).
const BASIC: &str = "Basic dXNlcjpwQHNz";

/// The route as text: `direct`, `forward host:port`, `tunnel host:port` or `error …`.
fn route(proxies: &Proxies, url: &str) -> String {
    match proxies.route(&url.parse().expect("a URL")) {
        Ok(Route::Direct) => "direct".into(),
        Ok(Route::Forward(p)) => format!("forward {p:?}"),
        Ok(Route::Tunnel(p)) => format!("tunnel {p:?}"),
        Ok(other) => format!("unknown {other:?}"),
        Err(e) => format!("error {e}"),
    }
}

#[test]
fn each_scheme_takes_its_variable_then_all_proxy() {
    let both = env(&[
        ("http_proxy", "http://web:3128"),
        ("HTTPS_PROXY", "secure:8443"),
        ("all_proxy", "http://fallback:1"),
    ]);
    assert_eq!(route(&both, "http://a.example/"), "forward web:3128");
    assert_eq!(route(&both, "https://a.example/"), "tunnel secure:8443");
    let all = env(&[("ALL_PROXY", "http://Fallback")]);
    assert_eq!(route(&all, "http://a.example/"), "forward fallback:80");
    assert_eq!(route(&all, "https://a.example/"), "tunnel fallback:80");
    assert_eq!(route(&env(&[]), "https://a.example/"), "direct");
    assert_eq!(route(&Proxies::none(), "https://a.example/"), "direct");
}

#[test]
fn the_upper_case_name_wins_and_an_empty_value_counts_as_unset() {
    let both = env(&[
        ("HTTP_PROXY", "http://upper:1"),
        ("http_proxy", "http://lower:2"),
    ]);
    assert_eq!(route(&both, "http://a.example/"), "forward upper:1");
    let empty = env(&[("http_proxy", " "), ("all_proxy", "http://p:2")]);
    assert_eq!(route(&empty, "http://a.example/"), "forward p:2");
}

#[test]
fn a_cgi_program_uses_no_proxy_from_the_environment() {
    // In a CGI program HTTP_PROXY may be a request's `Proxy:` header.
    let cgi = env(&[
        ("REQUEST_METHOD", "GET"),
        ("HTTP_PROXY", "http://from-a-request-header:80"),
        ("https_proxy", "http://p:1"),
    ]);
    assert_eq!(route(&cgi, "http://a.example/"), "direct");
    assert_eq!(route(&cgi, "https://a.example/"), "direct");
}

#[test]
fn no_proxy_names_hosts_domains_addresses_and_networks() {
    let proxied = |no_proxy: &str, url: &str| {
        let e = env(&[("https_proxy", "http://p:1"), ("no_proxy", no_proxy)]);
        route(&e, url) != "direct"
    };
    let list = "localhost, .internal.example,Corp.Example , ::1, 10.0.0.0/8";
    assert!(!proxied(list, "https://localhost/"));
    assert!(!proxied(list, "https://api.internal.example/"));
    assert!(!proxied(list, "https://internal.example/"));
    assert!(!proxied(list, "https://x.corp.example/"));
    assert!(!proxied(list, "https://[::1]:8443/"));
    assert!(!proxied(list, "https://10.1.2.3/"));
    assert!(proxied(list, "https://11.1.2.3/"));
    assert!(proxied(list, "https://notcorp.example/"));
    assert!(proxied(list, "https://example/"));
    // `*` alone is the only wildcard, as in curl and reqwest.
    assert!(!proxied("*", "https://anything.example/"));
    assert!(proxied("*.wild.example", "https://a.wild.example/"));
    assert!(proxied("", "https://anything.example/"));
    let upper = env(&[("https_proxy", "http://p:1"), ("NO_PROXY", "example")]);
    assert_eq!(route(&upper, "https://a.example/"), "direct");
}

#[test]
fn a_proxy_url_gives_host_port_and_credentials() {
    let e = env(&[("http_proxy", "http://user:p%40ss@[::1]:3128/")]);
    let Ok(Route::Forward(proxy)) = e.route(&"http://a.example/".parse().expect("a URL")) else {
        panic!("a forwarding route");
    };
    assert_eq!((proxy.host(), proxy.port()), ("::1", 3128));
    let authorization = proxy.authorization().expect("credentials");
    assert_eq!(authorization.to_str().expect("ASCII"), BASIC);
    assert!(authorization.is_sensitive());
    assert!(
        !format!("{proxy:?} {e:?}").contains("dXNl"),
        "Debug shows no credentials"
    );
}

#[test]
fn an_unusable_proxy_url_fails_the_request_without_showing_it() {
    for (url, why) in [
        ("socks5://user:hunter2@p:1080", "socks5 proxy"),
        ("https://user:hunter2@p:1080", "https proxy"),
        ("http://user:hunter2@p:port", "not a usable proxy URL"),
        ("http://", "not a usable proxy URL"),
    ] {
        let e = env(&[("https_proxy", url)]);
        let target = "https://a.example/".parse().expect("a URL");
        let Err(TransportError::Connect(text)) = e.route(&target) else {
            panic!("{url}: an error");
        };
        assert!(text.contains("https_proxy") && text.contains(why), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        // The variable for the other scheme is not in question.
        assert_eq!(route(&e, "http://a.example/"), "direct");
    }
    let bypassed = env(&[("all_proxy", "socks5://p:1"), ("no_proxy", "a.example")]);
    assert_eq!(route(&bypassed, "https://a.example/"), "direct");
    let refused = route(&bypassed, "https://b.example/");
    assert!(
        refused.starts_with("error") && refused.contains("all_proxy"),
        "{refused}"
    );
}
