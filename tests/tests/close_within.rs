//! `close_within(bound)`, on every runtime: on time it is `close`; when the bound passes first
//! (here, a store whose writes take seconds), it returns by the bound with an error of kind
//! `CloseTimedOut` that says what was not finished (the committed replay id not yet stored), the
//! client is closed for the application, and the write still lands afterwards. The blocking
//! crate's `close_within` bounds the calling thread with no thread of its own.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sfstream_core::oauth::Credentials;
use sfstream_core::{CommitPolicy, Config};
use sfstream_driver::{Client, ClientBuilder, Error, ErrorKind, Runtime};
use sfstream_store::{MemoryStore, ReplayStore, StoreError};
use sfstream_tests::fast;
use support::*;

const SLOW_WRITE: Duration = Duration::from_secs(2);
const BOUND: Duration = Duration::from_millis(300);

/// A memory store whose writes take [`SLOW_WRITE`].
struct SlowStore(Arc<MemoryStore>);

impl ReplayStore for SlowStore {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        self.0.load()
    }
    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        std::thread::sleep(SLOW_WRITE);
        self.0.save(channel, replay_id)
    }
    fn remove(&self, channel: &str) -> Result<(), StoreError> {
        self.0.remove(channel)
    }
}

fn config(emu: &Emu) -> Config {
    let mut config = fast(Config::salesforce(Credentials::Password {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        username: USERNAME.into(),
        password: format!("{PASSWORD}{SECURITY_TOKEN}").into(),
        login: emu.login(),
    }));
    config.commit = CommitPolicy::Manual;
    config
}

/// An open client on `store` that received one message and committed it; its replay id.
fn committed_one<R: Runtime>(
    exec: &Exec,
    runtime: R,
    emu: &Emu,
    store: Arc<dyn ReplayStore>,
) -> (Client<R>, i64) {
    let client = exec.build(ClientBuilder::with_config(runtime, config(emu)).shared_store(store));
    exec.block_on(client.subscribe(ORDERS)).expect("queued");
    exec.block_on(client.open()).expect("open");
    let id = emu
        .control
        .publish(ORDERS, serde_json::json!({"n": 1}))
        .expect("published");
    let message = exec
        .receive_timeout(&client, Duration::from_secs(10))
        .expect("in time")
        .expect("a message");
    assert_eq!(message.replay_id(), Some(id));
    client.commit(&message).expect("committed");
    (client, id)
}

/// The report of a bounded close that ran out of time, checked against `id`.
fn check_report(name: &str, result: Result<(), Error>, took: Duration, id: i64) {
    assert!(
        took < BOUND + Duration::from_millis(700),
        "[{name}] returned at the bound, not after the write: {took:?}"
    );
    let error = result.expect_err("the bound passed");
    assert_eq!(error.kind(), ErrorKind::CloseTimedOut, "[{name}] {error}");
    let Error::CloseTimedOut(report) = &error else {
        panic!("[{name}] {error:?}");
    };
    assert_eq!(report.bound, BOUND);
    assert_eq!(
        report.unsaved,
        BTreeMap::from([(ORDERS.to_owned(), id)]),
        "[{name}] {error}"
    );
    assert_eq!(report.pending, 0, "[{name}] {error}");
    let text = error.to_string();
    assert!(text.contains(&format!("{ORDERS} {id}")), "[{name}] {text}");
}

/// Waits until `store` holds `id` for the channel: the write went on after the bound.
fn lands(name: &str, store: &MemoryStore, id: i64) {
    let deadline = Instant::now() + SLOW_WRITE * 3;
    while store.load().unwrap_or_default().get(ORDERS) != Some(&id) {
        assert!(Instant::now() < deadline, "[{name}] the write never landed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn a_bounded_close_reports_what_it_left<R: Runtime>(name: &str, exec: &Exec, runtime: fn() -> R) {
    let emu = Emu::start(|b| b);

    // On time: the same as close.
    let (client, _) = committed_one(exec, runtime(), &emu, Arc::new(MemoryStore::new()));
    exec.block_on(client.close_within(Duration::from_secs(10)))
        .expect("closed in time");
    assert!(client.is_closed(), "[{name}]");

    // The bound passes while the store writes.
    let memory = Arc::new(MemoryStore::new());
    let slow: Arc<dyn ReplayStore> = Arc::new(SlowStore(memory.clone()));
    let (client, id) = committed_one(exec, runtime(), &emu, slow);
    let started = Instant::now();
    let result = exec.block_on(client.close_within(BOUND));
    check_report(name, result, started.elapsed(), id);
    assert!(client.is_closed(), "[{name}] closed for the application");
    let after = exec
        .receive_timeout(&client, Duration::from_secs(1))
        .expect("an answer at once")
        .expect_err("closed");
    assert!(after.is_closed(), "[{name}] {after}");
    lands(name, &memory, id);
}

per_runtime!(a_bounded_close_reports_what_it_left);

/// The blocking crate's client: the bound holds on the calling thread.
#[test]
fn the_blocking_client_bounds_close_on_its_own_thread() {
    let emu = Emu::start(|b| b);
    let memory = Arc::new(MemoryStore::new());
    let client = sfstream_blocking::Client::from(
        ClientBuilder::with_config(sfstream_blocking::Blocking::new(), config(&emu))
            .shared_store(Arc::new(SlowStore(memory.clone())))
            .build()
            .expect("valid"),
    );
    client.subscribe(ORDERS).expect("queued");
    client.open().expect("open");
    let id = emu
        .control
        .publish(ORDERS, serde_json::json!({"n": 1}))
        .expect("published");
    let message = client
        .receive_timeout(Duration::from_secs(10))
        .expect("in time")
        .expect("a message");
    client.commit(&message).expect("committed");
    let started = Instant::now();
    let result = client.close_within(BOUND);
    check_report("blocking client", result, started.elapsed(), id);
    lands("blocking client", &memory, id);
}
