//! `receive` hands over the events of every long poll, in order.

mod support;

use sfstream_driver::Message;
use support::{FakeRuntime, ORDERS, Server, builder, open_on_orders};

#[test]
fn events_of_consecutive_long_polls_come_out_in_order() {
    let rt = FakeRuntime::new();
    let (client, mut server) = open_on_orders(&rt, builder(&rt));

    server.publish(ORDERS, 1);
    server.publish(ORDERS, 2);
    let mut got: Vec<Message> = Vec::new();
    for _ in 0..2 {
        got.push(rt.run(&mut server, client.receive()).unwrap());
    }
    server.publish(ORDERS, 3);
    got.push(rt.run(&mut server, client.receive()).unwrap());

    let ids: Vec<Option<i64>> = got.iter().map(Message::replay_id).collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3)]);
    assert!(got.iter().all(|m| m.channel() == ORDERS));
    assert_eq!(client.pending(), 0);
}

#[test]
fn receive_before_open_says_the_client_is_not_open() {
    let rt = FakeRuntime::new();
    let client = builder(&rt).build().unwrap();
    let mut server = Server::default();
    let err = rt.run(&mut server, client.receive()).unwrap_err();
    assert!(matches!(err, sfstream_driver::Error::NotOpen), "{err}");
}
