//! Exchanges through a loopback proxy: forwarding in absolute form, `CONNECT` tunnels, a
//! refused tunnel, and `NO_PROXY` sending a request past the proxy.

mod common;

use common::{MAX, body, env};
use futures_lite::future::block_on;
use sfstream_driver::TransportError;
use sfstream_http_async_io::Client;
use sfstream_tests::loopback::{Server, TestProxy, get, ok, unused_port};

/// `user:p@ss`, the credentials of [`TestProxy::url`].
const BASIC: &str = "Basic dXNlcjpwQHNz";

#[test]
fn a_host_in_no_proxy_is_reached_directly() {
    let server = Server::start(|_| ok("direct"));
    let nowhere = format!("http://127.0.0.1:{}", unused_port());
    let bypassing = env(&[("http_proxy", &nowhere), ("no_proxy", "127.0.0.1")]);
    let client = Client::builder().proxies(bypassing).build();
    assert_eq!(
        body(block_on(client.send(get(&server.url("/")), MAX))),
        "direct"
    );
    let proxied = Client::builder()
        .proxies(env(&[("http_proxy", &nowhere)]))
        .build();
    let refused = block_on(proxied.send(get(&server.url("/")), MAX));
    assert!(
        matches!(refused, Err(TransportError::Connect(_))),
        "{refused:?}"
    );
}

#[test]
fn plain_http_goes_to_the_proxy_in_absolute_form() {
    let server = Server::start(|_| ok("forwarded"));
    let proxy = TestProxy::start(false);
    let client = Client::builder()
        .proxies(env(&[("http_proxy", &proxy.url())]))
        .build();
    assert_eq!(
        body(block_on(client.send(get(&server.url("/p?q=1")), MAX))),
        "forwarded"
    );
    let heads = proxy.heads();
    let request = format!("GET {} HTTP/1.1\r\n", server.url("/p?q=1"));
    assert!(
        heads.len() == 1 && heads[0].starts_with(&request),
        "{heads:?}"
    );
    assert!(
        heads[0].contains(&format!("proxy-authorization: {BASIC}\r\n")),
        "{heads:?}"
    );
}

#[test]
fn a_connect_tunnel_carries_the_request_in_origin_form() {
    let server = Server::start(|_| ok("tunnelled"));
    let proxy = TestProxy::start(false);
    let proxies = env(&[("http_proxy", &proxy.url())]).tunnel_http(true);
    let client = Client::builder().proxies(proxies).build();
    assert_eq!(
        body(block_on(client.send(get(&server.url("/p")), MAX))),
        "tunnelled"
    );
    let heads = proxy.heads();
    let connect = format!("CONNECT {} HTTP/1.1\r\n", server.authority());
    assert!(
        heads.len() == 1 && heads[0].starts_with(&connect),
        "{heads:?}"
    );
    assert!(
        heads[0].contains(&format!("Proxy-Authorization: {BASIC}\r\n")),
        "{heads:?}"
    );
    let origin_saw = server.heads();
    assert!(
        origin_saw[0].starts_with("GET /p HTTP/1.1\r\n"),
        "{origin_saw:?}"
    );
    assert!(
        !origin_saw[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization"),
        "the origin never sees the proxy's credentials: {origin_saw:?}"
    );
}

#[test]
fn a_refused_tunnel_is_a_connect_error_without_credentials() {
    let proxy = TestProxy::start(true);
    let client = Client::builder()
        .proxies(env(&[("https_proxy", &proxy.url())]))
        .build();
    let refused = block_on(client.send(get("https://api.example/"), MAX));
    let Err(TransportError::Connect(text)) = refused else {
        panic!("{refused:?}");
    };
    assert!(text.contains("407"), "{text}");
    assert!(!text.contains("dXNl") && !text.contains("p@ss"), "{text}");
}
