//! Whole sessions with the emulator through a loopback proxy, with the default (hyper) client:
//! every request in absolute form with the proxy's credentials, or every connection a `CONNECT`
//! tunnel.
#![cfg(feature = "hyper")]

use std::collections::HashMap;

use futures_lite::future::block_on;
use sfstream_async_std::{AsyncStd, ClientBuilder};
use sfstream_http_async_io::{Client, Proxies};
use sfstream_tests::loopback::TestProxy;
use sfstream_tests::{Emu, Setup, three_events_through};

/// `user:p@ss`, the credentials of [`TestProxy::url`].
const BASIC: &str = "Basic dXNlcjpwQHNz";

/// `http_proxy` set to the proxy.
fn through(proxy: &TestProxy) -> Proxies {
    let vars = HashMap::from([("http_proxy", proxy.url())]);
    Proxies::from_vars(|name| vars.get(name).cloned())
}

/// Three events published, three received, through `proxies`.
fn round_trip(emu: &Emu, proxies: Proxies) {
    let runtime = AsyncStd::with_hyper_client(Client::builder().proxies(proxies).build());
    let client = ClientBuilder::with_config(runtime, Setup::new(emu).config)
        .build()
        .expect("valid configuration");
    block_on(three_events_through(emu, &client));
}

#[test]
fn plain_http_goes_to_the_proxy_in_absolute_form() {
    let emu = Emu::start();
    let proxy = TestProxy::start(false);
    round_trip(&emu, through(&proxy));
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
    round_trip(&emu, through(&proxy).tunnel_http(true));
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
