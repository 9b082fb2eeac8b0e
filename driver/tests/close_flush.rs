//! `close` returns only once every checkpoint is in the store: the store writer is flushed.

mod support;

use std::sync::Arc;

use sfstream_driver::MemoryStore;
use support::{FakeRuntime, ORDERS, builder, open_on_orders};

#[test]
fn close_waits_until_the_last_checkpoint_is_stored() {
    let rt = FakeRuntime::new();
    let store = Arc::new(MemoryStore::new());
    let (client, mut server) = open_on_orders(&rt, builder(&rt).shared_store(store.clone()));
    server.publish(ORDERS, 5);
    server.publish(ORDERS, 6);
    // Automatic commit: taking a message commits it.
    for _ in 0..2 {
        rt.run(&mut server, client.receive()).unwrap();
    }

    // A slow store: its writes wait until the test lets them run.
    rt.hold_blocking(true);
    let mut close = Box::pin(client.close());
    for _ in 0..10 {
        assert!(
            rt.poll_until_quiet(&mut close).is_none(),
            "close returned before the checkpoint was written"
        );
        server.serve(&rt); // the disconnect
    }
    assert!(store.snapshot().is_empty());
    assert!(rt.blocking_waiting() > 0, "the store write waits");

    rt.hold_blocking(false);
    let closed = rt
        .poll_until_quiet(&mut close)
        .expect("close returns once the store wrote");
    closed.unwrap();
    assert_eq!(store.snapshot().get(ORDERS), Some(&6));
    assert!(client.is_closed());
    rt.settle();
    assert_eq!(
        rt.tasks(),
        0,
        "the session task and the store writer have ended"
    );
}
