//! HTTP/2 through a proxy from the environment's settings, as HTTP/1.1 reads them: TLS with
//! ALPN `h2` inside a `CONNECT` tunnel for `https`, h2c inside a tunnel for `http` (HTTP/2 has
//! no absolute form); a refused tunnel fails as `Connect`, naming the proxy, never its
//! credentials; `NO_PROXY` goes direct.

mod h2_common;

use h2_common::{Answer, H2Server, collect, data_text, env, post};
use sfstream_driver::TransportError;
use sfstream_driver::pubsub::StreamEvent;
use sfstream_tests::loopback::TestProxy;

/// `user:p@ss`, the credentials of [`TestProxy::url`].
const BASIC: &str = "Basic dXNlcjpwQHNz";

#[test]
fn https_goes_through_a_connect_tunnel_with_tls_and_h2_inside() {
    let server = H2Server::tls(Answer::Echo, &[b"h2"]);
    let proxy = TestProxy::start(false);
    let pool = server.pool(env(&[("HTTPS_PROXY", &proxy.url())]));
    let events = collect(&pool, post(&server.url("/svc/Call")), &["tunnelled"]);
    assert_eq!(data_text(&events), "tunnelled", "{events:?}");
    assert!(
        matches!(events.last(), Some(StreamEvent::Trailers(_))),
        "{events:?}"
    );
    // A second stream rides the same tunnel.
    assert_eq!(
        data_text(&collect(&pool, post(&server.url("/")), &["again"])),
        "again"
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
    assert_eq!(server.alpn(), [Some(b"h2".to_vec())]);
}

#[test]
fn h2c_goes_through_a_connect_tunnel() {
    let server = H2Server::h2c(Answer::Echo);
    let proxy = TestProxy::start(false);
    let pool = server.pool(env(&[("http_proxy", &proxy.url())]));
    let events = collect(&pool, post(&server.url("/svc/Call")), &["h2c"]);
    assert_eq!(data_text(&events), "h2c", "{events:?}");
    let heads = proxy.heads();
    let connect = format!("CONNECT {} HTTP/1.1\r\n", server.authority());
    assert!(
        heads.len() == 1 && heads[0].starts_with(&connect),
        "{heads:?}"
    );
}

#[test]
fn a_refused_tunnel_fails_as_connect_naming_the_proxy_not_its_credentials() {
    let server = H2Server::tls(Answer::Echo, &[b"h2"]);
    let proxy = TestProxy::start(true);
    let pool = server.pool(env(&[("https_proxy", &proxy.url())]));
    let events = collect(&pool, post(&server.url("/svc/Call")), &[]);
    let [StreamEvent::Failed(TransportError::Connect(text))] = &events[..] else {
        panic!("{events:?}");
    };
    assert!(text.contains("407"), "{text}");
    assert!(
        !text.contains("p@ss") && !text.contains("dXNlcjpwQHNz"),
        "{text}"
    );
    assert_eq!(server.accepted(), 0);
}

#[test]
fn no_proxy_goes_direct() {
    let server = H2Server::tls(Answer::Echo, &[b"h2"]);
    let proxy = TestProxy::start(false);
    let pool = server.pool(env(&[
        ("https_proxy", &proxy.url()),
        ("no_proxy", "localhost"),
    ]));
    let events = collect(&pool, post(&server.url("/svc/Call")), &["direct"]);
    assert_eq!(data_text(&events), "direct", "{events:?}");
    assert!(proxy.heads().is_empty(), "{:?}", proxy.heads());
}
