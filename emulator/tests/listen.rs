//! Where the emulator listens and what it advertises: `http://localhost:PORT` on both loopback
//! addresses by default (cookie jars such as aiohttp's ignore cookies from IP hosts), a public
//! URL for other set-ups, and a single bind address.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use common::{Bayeux, control, token_request};
use reqwest::Method;
use sfstream_emulator::Error;

/// Whether this system has an IPv6 loopback.
fn has_ipv6() -> bool {
    std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// A handshake through `url`'s host succeeds.
async fn handshakes_at(url: &str) -> bool {
    Bayeux::new(url).handshake().await["successful"] == true
}

#[tokio::test]
async fn localhost_is_advertised_and_both_loopback_addresses_serve() {
    let emu = common::start().await;
    let port = emu.addr().port();
    assert_eq!(emu.base_url(), format!("http://localhost:{port}"));
    assert_eq!(emu.addr(), SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    let reply = token_request(emu.base_url(), &common::PASSWORD_FORM).await;
    assert_eq!(reply.json["instance_url"], emu.base_url());
    let (_, settings) = control(emu.base_url(), Method::GET, "/_emulator/settings", None).await;
    assert_eq!(settings["base_url"], emu.base_url());

    assert!(handshakes_at(emu.base_url()).await);
    assert!(handshakes_at(&format!("http://127.0.0.1:{port}")).await);
    if has_ipv6() {
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
        assert_eq!(emu.addrs(), [emu.addr(), v6]);
        assert!(handshakes_at(&format!("http://[::1]:{port}")).await);
    } else {
        assert_eq!(emu.addrs(), [emu.addr()]);
    }
}

#[tokio::test]
async fn a_public_url_is_what_clients_are_told() {
    let emu = common::fast()
        .public_url("http://emulator.test:8080/")
        .start()
        .await
        .expect("start");
    let public = "http://emulator.test:8080";
    assert_eq!(emu.base_url(), public);
    // Still served on loopback; every advertised URL uses the public one.
    let local = format!("http://127.0.0.1:{}", emu.addr().port());
    let reply = token_request(&local, &common::PASSWORD_FORM).await;
    assert_eq!(reply.json["instance_url"], public);
    let (_, settings) = control(&local, Method::GET, "/_emulator/settings", None).await;
    assert_eq!(settings["base_url"], public);
    assert_eq!(settings["cometd_url"], format!("{public}/cometd/64.0"));

    for bad in [
        "ftp://emulator",
        "http://emulator/path",
        "http://",
        "emulator:8080",
        "http://u:p@h",
    ] {
        match common::fast().public_url(bad).start().await {
            Err(Error::InvalidArgument(text)) => {
                assert!(text.contains("public URL") && text.contains(bad), "{text}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn bind_listens_on_the_one_address_given() {
    let emu = common::fast()
        .bind(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .start()
        .await
        .expect("start");
    assert_eq!(emu.addrs().len(), 1);
    assert!(handshakes_at(emu.base_url()).await);
}
