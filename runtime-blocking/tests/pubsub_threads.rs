//! What the blocking Pub/Sub client adds: clones share one session across threads. While one
//! thread iterates, another subscribes, publishes and reads the counters; `close` from another
//! thread ends the blocked iteration after the events already received.

mod pubsub_common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;

#[test]
fn other_threads_subscribe_and_close_while_one_iterates() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();

    let (tx, rx) = mpsc::channel();
    let reader = client.clone();
    let iterating = thread::spawn(move || {
        for event in &reader {
            tx.send(event.map(|m| (m.topic().to_owned(), m.replay_id().clone())))
                .expect("the test listens");
        }
        // The iterator ends once closed: nothing after.
        reader.try_receive().map(|r| r.is_err())
    });

    let orders = emulator.control().publish_generated(ORDERS, 3).unwrap();
    let next = || {
        rx.recv_timeout(WAIT)
            .expect("an event within the wait")
            .expect("no error")
    };
    for id in &orders {
        let (topic, got) = next();
        assert_eq!(
            (topic.as_str(), got.as_bytes()),
            (ORDERS, &id.to_bytes()[..])
        );
    }

    // Another thread subscribes while the reader waits: the new topic's events reach it.
    let subscriber = client.clone();
    thread::spawn(move || subscriber.subscribe(ACCOUNTS))
        .join()
        .unwrap()
        .expect("subscribed from another thread");
    let account = emulator.control().publish_generated(ACCOUNTS, 1).unwrap();
    let (topic, got) = next();
    assert_eq!(
        (topic.as_str(), got.as_bytes()),
        (ACCOUNTS, &account[0].to_bytes()[..])
    );
    assert_eq!(client.stats().events_received, 4);

    let closer = client.clone();
    thread::spawn(move || closer.close())
        .join()
        .unwrap()
        .expect("closed from another thread");
    let ended = iterating.join().expect("the reader ends without a panic");
    assert_eq!(ended, Some(true), "after the end, receive says closed");
    assert!(client.is_closed());
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "nothing after the close"
    );
}
