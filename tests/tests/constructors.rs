//! Every flow's constructor function, on every runtime crate, takes a login URL: each one,
//! given the emulator's `http://127.0.0.1:…` URL, opens a client that receives an event. Their
//! parameters are named as the `Credentials` fields; secrets stay out of `Debug`.
mod support;

use std::time::Duration;

use support::{
    CLIENT_ID, CLIENT_SECRET, Emu, Exec, JWT_PRIVATE, ORDERS, PASSWORD, PREISSUED_TOKEN,
    REFRESH_TOKEN, SECURITY_TOKEN, USERNAME,
};

/// `(flow, builder)` for each flow, built with `$krate`'s constructor functions against `$emu`.
macro_rules! builders {
    ($krate:ident, $emu:expr) => {{
        let login = $emu.base_url.clone();
        vec![
            (
                "password",
                $krate::password_client(
                    CLIENT_ID,
                    CLIENT_SECRET,
                    USERNAME,
                    format!("{PASSWORD}{SECURITY_TOKEN}"),
                    login.as_str(),
                ),
            ),
            (
                "refresh_token",
                $krate::refresh_token_client(
                    CLIENT_ID,
                    CLIENT_SECRET,
                    REFRESH_TOKEN,
                    login.clone(),
                ),
            ),
            (
                "jwt_bearer",
                $krate::jwt_bearer_client(
                    CLIENT_ID,
                    USERNAME,
                    $krate::jwt_key_from_pem(JWT_PRIVATE).expect("the test key"),
                    login.clone(),
                ),
            ),
            (
                "client_credentials",
                $krate::client_credentials_client(CLIENT_ID, CLIENT_SECRET, login.clone()),
            ),
            (
                "access_token",
                $krate::access_token_client(PREISSUED_TOKEN, login.clone()),
            ),
        ]
    }};
}

fn no_secret_in(flow: &str, shown: &str) {
    for secret in [CLIENT_SECRET, PASSWORD, REFRESH_TOKEN, PREISSUED_TOKEN] {
        assert!(!shown.contains(secret), "{flow}: a secret in {shown}");
    }
}

#[test]
fn tokio_constructors_reach_the_login_url() {
    let emu = Emu::start(|b| b);
    let exec = Exec::tokio();
    let _guard = exec.enter();
    for (flow, builder) in builders!(sfstream_tokio, emu) {
        no_secret_in(flow, &format!("{builder:?}"));
        let client = builder.build().expect(flow);
        exec.block_on(async {
            client.subscribe(ORDERS).await?;
            client.open().await
        })
        .unwrap_or_else(|e| panic!("{flow}: {e}"));
        emu.control.publish_generated(ORDERS, 1).unwrap();
        exec.receive_n(&client, 1);
        exec.block_on(client.close()).expect(flow);
    }
}

#[test]
fn async_std_constructors_reach_the_login_url() {
    let emu = Emu::start(|b| b);
    let exec = Exec::Plain;
    for (flow, builder) in builders!(sfstream_async_std, emu) {
        no_secret_in(flow, &format!("{builder:?}"));
        let client = builder.build().expect(flow);
        exec.block_on(async {
            client.subscribe(ORDERS).await?;
            client.open().await
        })
        .unwrap_or_else(|e| panic!("{flow}: {e}"));
        emu.control.publish_generated(ORDERS, 1).unwrap();
        exec.receive_n(&client, 1);
        exec.block_on(client.close()).expect(flow);
    }
}

#[test]
fn blocking_constructors_reach_the_login_url() {
    let emu = Emu::start(|b| b);
    for (flow, builder) in builders!(sfstream_blocking, emu) {
        no_secret_in(flow, &format!("{builder:?}"));
        let client = builder.build().expect(flow);
        client.subscribe(ORDERS).expect(flow);
        client.open().unwrap_or_else(|e| panic!("{flow}: {e}"));
        emu.control.publish_generated(ORDERS, 1).unwrap();
        let got = client.receive_timeout(Duration::from_secs(20));
        assert!(matches!(got, Some(Ok(_))), "{flow}: {got:?}");
        client.close().expect(flow);
    }
}

/// The login URL each constructor was given is the one its credentials carry, and the named
/// hosts stay named.
#[test]
fn the_login_url_is_the_one_given() {
    let builder = sfstream_blocking::password_client(
        "id",
        "secret",
        "u",
        "p",
        sfstream_blocking::LoginUrl::Sandbox,
    );
    assert!(
        format!("{builder:?}").contains("login: Sandbox"),
        "{builder:?}"
    );
    let builder = sfstream_blocking::client_credentials_client(
        "id",
        "secret",
        "https://acme.my.salesforce.com",
    );
    assert!(
        format!("{builder:?}").contains(r#"login: Custom("https://acme.my.salesforce.com")"#),
        "{builder:?}"
    );
}
