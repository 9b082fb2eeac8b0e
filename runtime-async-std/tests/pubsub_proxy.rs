//! Pub/Sub on async-io through a proxy from `*_proxy` settings, as the Streaming API's HTTP/1.1
//! reads them: TLS with ALPN `h2` inside a `CONNECT` tunnel to the emulator (with the proxy's
//! credentials), and h2c inside a tunnel to a loopback emulator.
#![cfg(feature = "pubsub")]

mod pubsub_common;

use std::collections::HashMap;

use pubsub_common::*;
use sfstream_async_std::AsyncStd;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_http_async_io::{Client, Proxies};
use sfstream_tests::loopback::TestProxy;

/// `user:p@ss`, the credentials of [`TestProxy::url`].
const BASIC: &str = "Basic dXNlcjpwQHNz";

fn env(vars: &[(&str, &str)]) -> Proxies {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Proxies::from_vars(|name| vars.get(name).cloned())
}

/// Receives `n` events published before the client opens, then closes.
async fn receive_published(runtime: AsyncStd, emulator: &Emulator, n: usize) {
    let client = builder_on(runtime, emulator).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open through the proxy", client.open())
        .await
        .unwrap();
    let events = receive_n(&client, n).await;
    assert!(events.iter().all(|e| e.payload().is_object()));
    within("close", client.close()).await.unwrap();
}

#[test]
fn tls_goes_through_a_connect_tunnel() {
    let dir = std::env::temp_dir().join(format!("sfstream-as-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let emulator = Emulator::start(PubSubEmulator::builder().tls_cert_path(dir.join("e.pem")));
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    let proxy = TestProxy::start(false);
    let runtime = trusting(&emulator, env(&[("HTTPS_PROXY", &proxy.url())]));
    smol::block_on(receive_published(runtime, &emulator, 3));
    let authority = emulator.url().trim_start_matches("https://").to_owned();
    let heads = proxy.heads();
    assert!(!heads.is_empty(), "the proxy carried the streams");
    for head in &heads {
        assert!(
            head.starts_with(&format!("CONNECT {authority} HTTP/1.1\r\n")),
            "{heads:?}"
        );
        assert!(
            head.contains(&format!("Proxy-Authorization: {BASIC}\r\n")),
            "{heads:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn h2c_goes_through_a_connect_tunnel() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    let proxy = TestProxy::start(false);
    let client = Client::builder()
        .proxies(env(&[("http_proxy", &proxy.url())]))
        .build();
    let runtime = AsyncStd::with_hyper_client(client);
    smol::block_on(receive_published(runtime, &emulator, 3));
    let authority = emulator.url().trim_start_matches("http://").to_owned();
    let heads = proxy.heads();
    assert!(
        !heads.is_empty()
            && heads
                .iter()
                .all(|h| h.starts_with(&format!("CONNECT {authority} HTTP/1.1\r\n"))),
        "{heads:?}"
    );
}
