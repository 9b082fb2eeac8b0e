//! Every runtime's builder offers every setting of the driver's builder, and every runtime crate
//! every constructor function (one per auth flow): a function per setting calls it on each
//! runtime's `ClientBuilder`, and one per constructor calls the crate's function (with the
//! driver's argument types), so a runtime that lacks one, or takes other arguments, does not
//! compile; and the lists of names agree.

/// Compiles only if the tokio crate's builder has every setting and constructor.
mod tokio {
    sfstream_driver::client_builder_api!(check sfstream_tokio::ClientBuilder, sfstream_tokio);
}

/// Compiles only if the async-std crate's builder has every setting and constructor.
mod async_std {
    sfstream_driver::client_builder_api!(
        check sfstream_async_std::ClientBuilder,
        sfstream_async_std
    );
}

/// Compiles only if the blocking crate's builder (a wrapper of its own) has every setting and
/// constructor.
mod blocking {
    sfstream_driver::client_builder_api!(check sfstream_blocking::ClientBuilder, sfstream_blocking);
}

#[test]
fn every_runtime_offers_every_setting_of_the_driver() {
    let driver = sfstream_driver::ClientBuilder::<sfstream_tokio::Tokio>::SETTINGS;
    assert!(
        driver.contains(&"max_pending") && driver.len() >= 12,
        "{driver:?}"
    );
    for (runtime, checked) in [
        ("tokio", tokio::SETTINGS),
        ("async-std", async_std::SETTINGS),
        ("blocking", blocking::SETTINGS),
    ] {
        assert_eq!(checked, driver, "{runtime}");
    }
    assert_eq!(sfstream_blocking::ClientBuilder::SETTINGS, driver);
}

#[test]
fn every_runtime_offers_a_constructor_per_flow() {
    let expected = [
        "builder",
        "bayeux_client",
        "password_client",
        "refresh_token_client",
        "jwt_bearer_client",
        "client_credentials_client",
        "access_token_client",
    ];
    for (runtime, checked) in [
        ("tokio", tokio::CONSTRUCTORS),
        ("async-std", async_std::CONSTRUCTORS),
        ("blocking", blocking::CONSTRUCTORS),
    ] {
        assert_eq!(checked, expected, "{runtime}");
    }
}

/// A setting reaches the configuration the blocking wrapper hands to the driver.
#[test]
fn the_blocking_builder_hands_each_setting_to_the_driver() {
    let builder = sfstream_blocking::bayeux_client("http://127.0.0.1:1/bayeux")
        .max_pending(7)
        .request_timeout(std::time::Duration::from_millis(1234))
        .seed(99);
    let shown = format!("{builder:?}");
    for expected in [
        "max_pending: 7",
        "request_timeout: 1.234s",
        "seed: Some(99)",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
}
