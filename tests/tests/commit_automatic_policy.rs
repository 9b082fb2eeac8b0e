//! `commit` under the automatic policy, on every runtime: an error of kind `AutomaticCommit`
//! that says what the policy does, neither fatal nor retryable; the message was committed when
//! it was taken (the store has its id after close), and the client goes on.

mod support;

use std::sync::Arc;
use std::time::Duration;

use sfstream_core::oauth::Credentials;
use sfstream_core::{CommitPolicy, Config};
use sfstream_driver::{ClientBuilder, ErrorKind, Runtime};
use sfstream_store::{MemoryStore, ReplayStore};
use sfstream_tests::fast;
use support::*;

fn commit_under_the_automatic_policy_says_so<R: Runtime>(
    name: &str,
    exec: &Exec,
    runtime: fn() -> R,
) {
    let emu = Emu::start(|b| b);
    let mut config = fast(Config::salesforce(Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        username: USERNAME.into(),
        password: format!("{PASSWORD}{SECURITY_TOKEN}").into(),
        login: emu.login(),
    }));
    config.commit = CommitPolicy::Automatic;
    let store = Arc::new(MemoryStore::new());
    let client =
        exec.build(ClientBuilder::with_config(runtime(), config).shared_store(store.clone()));
    exec.block_on(client.subscribe(ORDERS)).expect("queued");
    exec.block_on(client.open()).expect("open");
    let ids: Vec<i64> = (1..=2)
        .map(|n| {
            emu.control
                .publish(ORDERS, serde_json::json!({ "n": n }))
                .expect("published")
        })
        .collect();
    let first = exec
        .receive_timeout(&client, Duration::from_secs(10))
        .expect("in time")
        .expect("a message");
    let error = client.commit(&first).expect_err("automatic policy");
    assert_eq!(error.kind(), ErrorKind::AutomaticCommit, "[{name}] {error}");
    assert!(
        !error.is_fatal() && !error.is_retryable(),
        "[{name}] {error}"
    );
    assert!(error.to_string().contains("automatic"), "[{name}] {error}");
    assert!(
        error.to_string().contains("Manual"),
        "[{name}] the fix: {error}"
    );

    // The client goes on, and taking a message committed it.
    let second = exec
        .receive_timeout(&client, Duration::from_secs(10))
        .expect("in time")
        .expect("a message");
    assert_eq!(second.replay_id(), Some(ids[1]), "[{name}]");
    exec.block_on(client.close()).expect("closed");
    assert_eq!(
        store.load().expect("loaded").get(ORDERS),
        Some(&ids[1]),
        "[{name}] committed when taken"
    );
}

per_runtime!(commit_under_the_automatic_policy_says_so);
