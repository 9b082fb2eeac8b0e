//! The client runs under async-std and under smol alike: nothing in it needs the executor that
//! polls it. (The whole conformance suite runs under async-std in tests/tests/async_std.rs.)

use futures_lite::StreamExt;
use sfstream_async_std::{AsyncStd, ClientBuilder};
use sfstream_tests::{Emu, Setup, three_events_through};

/// Opens, receives three events from the stream, closes, and checks the stream then ends.
async fn round_trip(emu: &Emu, runtime: AsyncStd) {
    let client = ClientBuilder::with_config(runtime, Setup::new(emu).config)
        .build()
        .expect("valid configuration");
    three_events_through(emu, &client).await;
    assert!(client.stream().next().await.is_none(), "the stream ends");
}

#[test]
fn runs_under_smol() {
    let emu = Emu::start();
    smol::block_on(round_trip(&emu, AsyncStd::new()));
}

#[test]
fn runs_in_a_smol_task() {
    let emu = std::sync::Arc::new(Emu::start());
    let task = smol::spawn({
        let emu = emu.clone();
        async move { round_trip(&emu, AsyncStd::new()).await }
    });
    smol::block_on(task);
}

#[test]
fn runs_under_async_std() {
    let emu = Emu::start();
    async_std::task::block_on(round_trip(&emu, AsyncStd::new()));
}

/// isahc stays reachable by name, whichever client `new()` picks.
#[cfg(feature = "isahc")]
#[test]
fn isahc_runs_under_smol() {
    let emu = Emu::start();
    smol::block_on(round_trip(&emu, AsyncStd::isahc()));
}

/// hyper by name too (with `surf` on, `new()` picks surf).
#[cfg(feature = "hyper")]
#[test]
fn hyper_runs_under_async_std() {
    let emu = Emu::start();
    async_std::task::block_on(round_trip(&emu, AsyncStd::hyper()));
}

#[cfg(feature = "surf")]
#[test]
fn surf_runs_under_smol() {
    let emu = Emu::start();
    smol::block_on(round_trip(&emu, AsyncStd::surf()));
}
