//! Proxy selection from given environments, and whole sessions with the emulator through a
//! small loopback proxy (forwarding and `CONNECT`).

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use futures_lite::future::block_on;
use sfstream_driver::TransportError;
use sfstream_tests::{Emu, Setup};

use super::support::{Server, get, ok, read_head, unused_port};
use super::{HyperClient, MAX, Origin, ProxyEnv, body, exchange};
use crate::AsyncStd;
use crate::http_hyper::proxy::Route;

/// `user:p@ss`, as the test proxy URLs spell it (`p%40ss`).
const BASIC: &str = "Basic dXNlcjpwQHNz";

pub(super) fn env(vars: &[(&str, &str)]) -> ProxyEnv {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ProxyEnv::from_vars(|name| vars.get(name).cloned())
}

fn origin(url: &str) -> Origin {
    Origin::of(&url.parse().expect("a URL")).expect("an origin")
}

/// The route as text: `direct`, `forward host:port` or `tunnel host:port`.
fn route(env: &ProxyEnv, url: &str) -> String {
    match env.route(&origin(url)) {
        Ok(Route::Direct) => "direct".into(),
        Ok(Route::Forward(p)) => format!("forward {p:?}"),
        Ok(Route::Tunnel(p)) => format!("tunnel {p:?}"),
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
    assert_eq!(route(&all, "http://a.example/"), "forward fallback:1080");
    assert_eq!(route(&all, "https://a.example/"), "tunnel fallback:1080");
    assert_eq!(route(&env(&[]), "https://a.example/"), "direct");
}

#[test]
fn upper_case_http_proxy_is_ignored_as_curl_does() {
    let cgi = env(&[("HTTP_PROXY", "http://from-a-request-header:80")]);
    assert_eq!(route(&cgi, "http://a.example/"), "direct");
    let empty = env(&[("http_proxy", " "), ("all_proxy", "http://p:2")]);
    assert_eq!(route(&empty, "http://a.example/"), "forward p:2");
}

#[test]
fn no_proxy_names_hosts_and_domains() {
    let proxied = |no_proxy: &str, url: &str| {
        let e = env(&[("https_proxy", "http://p:1"), ("no_proxy", no_proxy)]);
        route(&e, url) != "direct"
    };
    let list = "localhost, .internal.example,Corp.Example , *.wild.example, [::1]";
    assert!(!proxied(list, "https://localhost/"));
    assert!(!proxied(list, "https://api.internal.example/"));
    assert!(!proxied(list, "https://internal.example/"));
    assert!(!proxied(list, "https://x.corp.example/"));
    assert!(!proxied(list, "https://a.wild.example/"));
    assert!(!proxied(list, "https://[::1]:8443/"));
    assert!(proxied(list, "https://notcorp.example/"));
    assert!(proxied(list, "https://example/"));
    assert!(!proxied("*", "https://anything.example/"));
    assert!(proxied("", "https://anything.example/"));
    let upper = env(&[("https_proxy", "http://p:1"), ("NO_PROXY", "example")]);
    assert_eq!(route(&upper, "https://a.example/"), "direct");
}

#[test]
fn a_proxy_url_gives_host_port_and_credentials() {
    let e = env(&[("http_proxy", "http://user:p%40ss@[::1]:3128/")]);
    let Ok(Route::Forward(proxy)) = e.route(&origin("http://a.example/")) else {
        panic!("a forwarding route");
    };
    assert_eq!((proxy.host.as_str(), proxy.port), ("::1", 3128));
    let authorization = proxy.authorization().expect("credentials");
    assert_eq!(authorization.to_str().expect("ASCII"), BASIC);
    assert!(authorization.is_sensitive());
    assert!(
        !format!("{proxy:?}").contains("dXNl"),
        "Debug shows no credentials"
    );
}

#[test]
fn an_unusable_proxy_url_fails_the_request_without_showing_it() {
    for url in [
        "socks5://user:hunter2@p:1080",
        "http://user:hunter2@p:port",
        "http://",
    ] {
        let e = env(&[("https_proxy", url)]);
        let Err(TransportError::Connect(text)) = e.route(&origin("https://a.example/")) else {
            panic!("{url}: an error");
        };
        assert!(text.contains("https_proxy"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[test]
fn a_host_in_no_proxy_is_reached_directly() {
    let server = Server::start(|_| ok("direct"));
    let nowhere = format!("http://127.0.0.1:{}", unused_port());
    let client = HyperClient::with(
        env(&[("http_proxy", &nowhere), ("no_proxy", "127.0.0.1")]),
        None,
    );
    assert_eq!(
        body(block_on(exchange(client, get(&server.url("/")), MAX))),
        "direct"
    );
    let proxied = HyperClient::with(env(&[("http_proxy", &nowhere)]), None);
    let refused = block_on(exchange(proxied, get(&server.url("/")), MAX));
    assert!(
        matches!(refused, Err(TransportError::Connect(_))),
        "{refused:?}"
    );
}

/// A session with the emulator through the proxy: three events published, three received.
async fn round_trip(emu: &Emu, client: HyperClient) {
    let runtime = AsyncStd::with_hyper_client(client);
    let client = crate::ClientBuilder::with_config(runtime, Setup::new(emu).config)
        .build()
        .expect("valid configuration");
    sfstream_tests::three_events_through(emu, &client).await;
}

#[test]
fn plain_http_goes_to_the_proxy_in_absolute_form() {
    let emu = Emu::start();
    let proxy = TestProxy::start(false);
    let client = HyperClient::with(env(&[("http_proxy", &proxy.url())]), None);
    block_on(round_trip(&emu, client));
    let heads = proxy.heads();
    assert!(!heads.is_empty(), "the session went through the proxy");
    for head in heads {
        let target = head.split(' ').nth(1).unwrap_or_default();
        assert!(target.starts_with(&format!("{}/", emu.base_url)), "{head}");
        assert!(
            head.contains(&format!("proxy-authorization: {BASIC}\r\n")),
            "{head}"
        );
    }
}

#[test]
fn a_connect_tunnel_reaches_the_emulator() {
    let emu = Emu::start();
    let proxy = TestProxy::start(false);
    let mut proxies = env(&[("http_proxy", &proxy.url())]);
    proxies.tunnel_http = true;
    block_on(round_trip(&emu, HyperClient::with(proxies, None)));
    let heads = proxy.heads();
    assert!(!heads.is_empty(), "the session went through the proxy");
    let target = emu.base_url.trim_start_matches("http://");
    for head in heads {
        assert!(
            head.starts_with(&format!("CONNECT {target} HTTP/1.1\r\n")),
            "{head}"
        );
        assert!(
            head.contains(&format!("Proxy-Authorization: {BASIC}\r\n")),
            "{head}"
        );
    }
}

#[test]
fn a_refused_tunnel_is_a_connect_error_without_credentials() {
    let proxy = TestProxy::start(true);
    let client = HyperClient::with(env(&[("https_proxy", &proxy.url())]), None);
    let refused = block_on(exchange(client, get("https://api.example/"), MAX));
    let Err(TransportError::Connect(text)) = refused else {
        panic!("{refused:?}");
    };
    assert!(text.contains("407"), "{text}");
    assert!(!text.contains("dXNl") && !text.contains("p@ss"), "{text}");
}

/// A proxy on loopback: for `CONNECT` it opens the tunnel (or refuses with 407), for anything
/// else it passes the connection on to the request's host. It keeps the first head of each
/// connection (later requests pass through unseen; hyper writes header names in lower case).
pub(super) struct TestProxy {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    pub(super) fn start(refuse: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || {
                    let _ = relay(client, &seen, refuse);
                });
            }
        });
        Self { port, heads }
    }

    /// The proxy's URL, with the credentials `user` / `p@ss`.
    pub(super) fn url(&self) -> String {
        format!("http://user:p%40ss@127.0.0.1:{}", self.port)
    }

    pub(super) fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("not poisoned").clone()
    }
}

fn relay(client: TcpStream, seen: &Mutex<Vec<String>>, refuse: bool) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let head = read_head(&mut reader).ok_or(io::ErrorKind::UnexpectedEof)?;
    seen.lock().expect("not poisoned").push(head.clone());
    let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut upstream = if head.starts_with("CONNECT ") {
        if refuse {
            let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
            return (&client).write_all(answer);
        }
        let upstream = TcpStream::connect(&target)?;
        (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        upstream
    } else {
        let authority = target.trim_start_matches("http://").split('/').next();
        let mut upstream = TcpStream::connect(authority.unwrap_or_default())?;
        upstream.write_all(head.as_bytes())?;
        upstream
    };
    // Both ways until either side closes; the reader hands on what it buffered first.
    let mut upstream_reader = upstream.try_clone()?;
    let mut client_writer = client;
    let back = thread::spawn(move || {
        let _ = io::copy(&mut upstream_reader, &mut client_writer);
        let _ = client_writer.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut reader, &mut upstream);
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = back.join();
    Ok(())
}
