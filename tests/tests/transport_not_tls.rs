//! An `https://` request to a port that answers in plain HTTP (the emulator's): the tokio,
//! blocking and async-std (hyper) runtimes report `TransportError::NotTls` (kind
//! `TransportErrorKind::NotTls`), found in rustls's error rather than in a text. libcurl
//! (async-std with isahc) reports only "SSL connect error", so that backend says `Connect`, and
//! this test holds it to that (surf, on an older rustls, cannot tell either).

mod support;

use std::time::{Duration, Instant};

use sfstream_core::TransportErrorKind;
use sfstream_driver::Runtime;
use support::*;

fn a_plain_http_answer_to_tls_is_not_tls<R: Runtime>(name: &str, exec: &Exec, runtime: fn() -> R) {
    let emu = Emu::start(|b| b);
    let https = emu.base_url.replacen("http://", "https://", 1);
    let request = http::Request::post(format!("{https}/services/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"grant_type=password".to_vec())
        .expect("a request");
    let runtime = {
        let _guard = exec.enter();
        runtime()
    };
    let outcome =
        exec.block_on(runtime.send(request, Instant::now() + Duration::from_secs(10), 1 << 20));
    let error = outcome.expect_err("no TLS on that port");
    assert!(!error.may_have_reached_server(), "[{name}] {error:?}");
    if name == "async-std/isahc" {
        assert_eq!(
            error.kind(),
            TransportErrorKind::Connect,
            "[{name}] {error:?}"
        );
        return;
    }
    if name == "async-std/surf" {
        // async-h1 over rustls 0.18: not the rustls whose error the adapters look for.
        assert_ne!(
            error.kind(),
            TransportErrorKind::NotTls,
            "[{name}] {error:?}"
        );
        return;
    }
    assert_eq!(
        error.kind(),
        TransportErrorKind::NotTls,
        "[{name}] {error:?}"
    );
    assert!(error.to_string().contains("plain HTTP"), "[{name}] {error}");
}

per_runtime!(a_plain_http_answer_to_tls_is_not_tls);
