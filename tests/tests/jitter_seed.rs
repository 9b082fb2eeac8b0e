//! The backoff jitter seed: every client built with the defaults draws its own from the
//! operating system (so many clients failing together do not retry in step), on every runtime;
//! a seed given to the builder, the configuration or `configure` is used as is.

use std::collections::BTreeSet;

use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::{Config, Secret};

fn credentials() -> Credentials {
    Credentials::Password {
        client_id: "cid".into(),
        client_secret: Secret::new("client-secret"),
        username: "u@example.com".into(),
        password: Secret::new("password"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    }
}

/// Seeds of 20 default-built clients: all different.
fn all_different(name: &str, seeds: impl Iterator<Item = u64>) {
    let seeds: Vec<u64> = seeds.collect();
    let distinct: BTreeSet<u64> = seeds.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        seeds.len(),
        "[{name}] seeds repeat: {seeds:?}"
    );
}

#[test]
fn default_built_clients_draw_different_seeds() {
    all_different(
        "tokio",
        (0..20).map(|_| {
            sfstream_tokio::builder(credentials())
                .build()
                .expect("a client")
                .seed()
        }),
    );
    all_different(
        "blocking",
        (0..20).map(|_| {
            sfstream_blocking::ClientBuilder::new(credentials())
                .build()
                .expect("a client")
                .seed()
        }),
    );
    all_different(
        "async-std",
        (0..20).map(|_| {
            sfstream_async_std::password_client(
                "cid",
                "secret",
                "u@example.com",
                "pw",
                sfstream_async_std::LoginUrl::Production,
            )
            .build()
            .expect("a client")
            .seed()
        }),
    );
}

#[test]
fn an_explicit_seed_is_used_as_is() {
    let tokio = sfstream_tokio::builder(credentials())
        .seed(42)
        .build()
        .expect("a client");
    assert_eq!(tokio.seed(), 42);
    let blocking =
        sfstream_blocking::ClientBuilder::with_config(Config::salesforce(credentials()).seed(7))
            .build()
            .expect("a client");
    assert_eq!(blocking.seed(), 7);
    let async_std = sfstream_async_std::builder(credentials())
        .configure(|c| c.seed = Some(9))
        .build()
        .expect("a client");
    assert_eq!(async_std.seed(), 9);
    // The same seed twice: the same seed, so a run can be repeated.
    let again = sfstream_tokio::builder(credentials())
        .seed(42)
        .build()
        .expect("a client");
    assert_eq!(again.seed(), tokio.seed());
}
