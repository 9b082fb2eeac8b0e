//! A `receive` future dropped while it waits loses no message: the message stays in the session
//! for the next call.

mod support;

use support::{FakeRuntime, ORDERS, builder, open_on_orders};

#[test]
fn a_dropped_receive_leaves_the_message_for_the_next_one() {
    let rt = FakeRuntime::new();
    let (client, mut server) = open_on_orders(&rt, builder(&rt));

    let mut waiting = Box::pin(client.receive());
    assert!(
        rt.poll_until_quiet(&mut waiting).is_none(),
        "nothing to receive yet"
    );
    server.publish(ORDERS, 7);
    server.publish(ORDERS, 8);
    server.serve(&rt);
    // The response is decoded and handed over; the waiting receive is woken but never polled.
    rt.settle();
    drop(waiting);

    assert_eq!(client.pending(), 2);
    let first = client.try_receive().expect("a message waits").unwrap();
    assert_eq!(first.replay_id(), Some(7));
    let second = rt.run(&mut server, client.receive()).unwrap();
    assert_eq!(second.replay_id(), Some(8));
}
