//! `open` returns once events flow and the channels subscribed before it are confirmed, and each
//! such channel resumes where the store says.

mod support;

use sfstream_driver::{MemoryStore, ReplayFrom};
use support::{FakeRuntime, ORDERS, Server, builder};
const CASES: &str = "/data/CaseChangeEvent";

#[test]
fn open_returns_when_the_first_long_poll_and_the_subscriptions_are_answered() {
    let rt = FakeRuntime::new();
    let client = builder(&rt).build().unwrap();
    let mut server = Server::default();
    rt.run(&mut server, client.subscribe(ORDERS)).unwrap();
    assert_eq!(
        client.subscriptions(),
        [ORDERS],
        "before open: the channels asked for"
    );

    let mut open = Box::pin(client.open());
    assert!(
        rt.poll_until_quiet(&mut open).is_none(),
        "waits for the handshake"
    );
    server.serve(&rt); // the handshake
    assert!(
        rt.poll_until_quiet(&mut open).is_none(),
        "waits for connect and subscribe"
    );
    server.serve_pending(&rt); // the subscription; the long poll stays held
    assert!(
        rt.poll_until_quiet(&mut open).is_none(),
        "a confirmed subscription alone does not open: the first long poll must succeed"
    );
    assert_eq!(server.answer_long_poll(), 1);
    assert_eq!(
        rt.poll_until_quiet(&mut open).map(|r| r.is_ok()),
        Some(true)
    );
    assert_eq!(client.subscriptions(), [ORDERS]);
    assert!(!client.is_closed());
}

#[test]
fn channels_subscribed_before_open_resume_after_their_stored_ids() {
    let rt = FakeRuntime::new();
    let store = MemoryStore::with_ids([(ORDERS, 41)]);
    let client = builder(&rt).store(store).build().unwrap();
    let mut server = Server::default();
    rt.run(&mut server, client.subscribe(ORDERS)).unwrap();
    rt.run(
        &mut server,
        client.subscribe_from(CASES, Some(ReplayFrom::All)),
    )
    .unwrap();
    rt.run(&mut server, client.open()).unwrap();

    let subscribes = server.bodies_on("/meta/subscribe").join("\n");
    assert!(
        subscribes.contains(&format!(r#""replay":{{"{ORDERS}":41}}"#)),
        "the stored id: {subscribes}"
    );
    assert!(
        subscribes.contains(&format!(r#""replay":{{"{CASES}":-2}}"#)),
        "the explicit start wins over the default: {subscribes}"
    );
}

#[test]
fn a_channel_subscribed_twice_before_open_is_refused() {
    let rt = FakeRuntime::new();
    let client = builder(&rt).build().unwrap();
    let mut server = Server::default();
    rt.run(&mut server, client.subscribe(ORDERS)).unwrap();
    let err = rt.run(&mut server, client.subscribe(ORDERS)).unwrap_err();
    assert_eq!(
        err.kind(),
        sfstream_driver::ErrorKind::AlreadySubscribed,
        "{err}"
    );
    assert_eq!(err.channel(), Some(ORDERS), "{err}");
    rt.run(&mut server, client.unsubscribe(ORDERS)).unwrap();
    assert!(client.subscriptions().is_empty());
}
