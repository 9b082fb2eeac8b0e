//! What the blocking client adds to the conformance suite: iteration, calls from other threads
//! while one thread waits, and commands that never queue behind a held long poll.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use sfstream_blocking::{Client, ClientBuilder};
use sfstream_tests::{Emu, Setup};

const ORDERS: &str = "/event/Order__e";
const NOTIFICATIONS: &str = "/u/notifications";

/// An emulator that holds each long poll for 20 s, and an open client subscribed to `ORDERS`.
fn held_poll() -> (Emu, Client) {
    let emu = Emu::start_with(|b| b.long_poll_timeout(Duration::from_secs(20)));
    let client = ClientBuilder::with_config(Setup::new(&emu).config)
        .build()
        .expect("valid configuration");
    client.subscribe(ORDERS).expect("subscribe before open");
    client.open().expect("open");
    (emu, client)
}

#[test]
fn close_from_another_thread_ends_a_blocked_iteration() {
    let (emu, client) = held_poll();
    let published = emu.control.publish_generated(ORDERS, 3).expect("publish");
    let (tx, rx) = mpsc::channel();
    let reader = client.clone();
    let iterating = thread::spawn(move || {
        for message in &reader {
            let _ = tx.send(message.map(|m| m.replay_id()));
        }
    });
    let mut got = Vec::new();
    for _ in 0..3 {
        let id = rx.recv_timeout(Duration::from_secs(10)).expect("a message");
        got.push(id.expect("no error").expect("a replay id"));
    }
    assert_eq!(got, published);
    // The reader now waits in the iterator while the long poll is held by the server.
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    client.close().expect("close");
    iterating
        .join()
        .expect("the iteration ended without a panic");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "close and the end of the iteration took {:?}",
        started.elapsed()
    );
    assert!(client.is_closed());
    assert_eq!(client.iter().count(), 0, "a closed client yields nothing");
}

#[test]
fn subscribe_and_unsubscribe_do_not_wait_for_the_long_poll() {
    let (_emu, client) = held_poll();
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    client.subscribe(NOTIFICATIONS).expect("subscribe");
    client.unsubscribe(ORDERS).expect("unsubscribe");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "subscribe + unsubscribe took {:?}",
        started.elapsed()
    );
    assert_eq!(client.subscriptions(), vec![NOTIFICATIONS.to_owned()]);
    client.close().expect("close");
}

#[test]
fn receive_timeout_gives_up_without_losing_a_message() {
    let (emu, client) = held_poll();
    let started = Instant::now();
    assert!(client.receive_timeout(Duration::from_millis(200)).is_none());
    assert!(started.elapsed() >= Duration::from_millis(200));
    let published = emu.control.publish_generated(ORDERS, 1).expect("publish");
    let message = client
        .receive_timeout(Duration::from_secs(10))
        .expect("a message in time")
        .expect("no error");
    assert_eq!(message.replay_id(), published.first().copied());
    client.close().expect("close");
    assert!(matches!(client.receive(), Err(e) if e.is_closed()));
}

#[test]
fn scope_opens_and_closes() {
    let emu = Emu::start();
    let client = ClientBuilder::with_config(Setup::new(&emu).config)
        .build()
        .expect("valid configuration");
    client.subscribe(ORDERS).expect("subscribe before open");
    let subscribed = client.scope(Client::subscriptions).expect("open and close");
    assert_eq!(subscribed, vec![ORDERS.to_owned()]);
    assert!(client.is_closed());
}
