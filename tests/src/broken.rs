//! Broken long polls: the server takes events out of the session's queue for a `/meta/connect`
//! response, then the response never arrives whole — cut after half its body, reset before
//! anything is written, or held past the client's deadline. Salesforce does not send those
//! events to that session again; the client must fetch them again by replay, and nothing it had
//! already accepted may come twice.

use std::collections::BTreeSet;
use std::time::Duration;

use sfstream_core::Message;
use sfstream_emulator::Fault;

use crate::cases::{ORDERS, ids, open_with, receive_all};
use crate::{Emu, Flavor, Setup};

/// Streams 5 events, breaks the next response that carries events with `fault`, publishes 20
/// into it and 5 after: all 30 arrive, each once, in order.
fn no_loss_through(f: &dyn Flavor, name: &str, fault: Fault) {
    let emu = Emu::start();
    let client = open_with(f, Setup::new(&emu), &[ORDERS]);
    let mut published = emu.publish(ORDERS, 5);
    let mut got = receive_all(f, client.as_ref(), &ids(ORDERS, &published));
    emu.control.fail_next(1, fault);
    published.extend(emu.publish(ORDERS, 20));
    std::thread::sleep(Duration::from_millis(50));
    published.extend(emu.publish(ORDERS, 5));
    got.extend(receive_all(
        f,
        client.as_ref(),
        &ids(ORDERS, &published[5..]),
    ));
    // Anything late would come now.
    while let Some(Ok(m)) = client.receive_timeout(Duration::from_millis(300)) {
        got.push(m);
    }
    let order: Vec<i64> = got.iter().filter_map(Message::replay_id).collect();
    assert_eq!(
        order,
        published,
        "[{}] {name}: every event once, in order",
        f.name()
    );
    let server = emu.control.stats().totals;
    assert_eq!(
        server.broken_responses,
        1,
        "[{}] {name}: the fault broke a response",
        f.name()
    );
    assert!(
        server.events_lost_in_broken_responses >= 1,
        "[{}] {name}: the broken response had taken events",
        f.name()
    );
    let stats = client.stats();
    assert_eq!(
        stats.broken_long_polls,
        1,
        "[{}] {name}: the client saw one broken long poll: {stats:?}",
        f.name()
    );
    assert!(stats.refetches >= 1, "[{}] {name}: {stats:?}", f.name());
    client.close().expect("close");
}

/// The response is cut after half its body (HTTP 200, then a reset).
pub fn no_loss_when_a_response_is_cut(f: &dyn Flavor) {
    no_loss_through(f, "cut", Fault::CutAfterDelivery);
}

/// The connection is reset before anything of the response is written.
pub fn no_loss_when_a_response_is_reset(f: &dyn Flavor) {
    no_loss_through(f, "reset", Fault::ResetAfterDelivery);
}

/// The response is held past the client's deadline (0.4 s hold + the suite's 2 s margin).
pub fn no_loss_when_a_response_is_held_past_the_deadline(f: &dyn Flavor) {
    no_loss_through(f, "held", Fault::HoldAfterDelivery(Duration::from_secs(3)));
}

/// Several broken responses in a row, of every kind, while events keep coming: all arrive,
/// none twice.
pub fn no_loss_through_repeated_broken_responses(f: &dyn Flavor) {
    let emu = Emu::start();
    let client = open_with(f, Setup::new(&emu), &[ORDERS]);
    let mut published = emu.publish(ORDERS, 3);
    let mut got = receive_all(f, client.as_ref(), &ids(ORDERS, &published));
    for fault in [
        Fault::CutAfterDelivery,
        Fault::ResetAfterDelivery,
        Fault::CutAfterDelivery,
        Fault::HoldAfterDelivery(Duration::from_secs(3)),
    ] {
        emu.control.fail_next(1, fault);
        let batch = emu.publish(ORDERS, 10);
        got.extend(receive_all(f, client.as_ref(), &ids(ORDERS, &batch)));
        published.extend(batch);
    }
    while let Some(Ok(m)) = client.receive_timeout(Duration::from_millis(300)) {
        got.push(m);
    }
    let order: Vec<i64> = got.iter().filter_map(Message::replay_id).collect();
    let distinct: BTreeSet<i64> = order.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        order.len(),
        "[{}] nothing twice: {order:?}",
        f.name()
    );
    assert_eq!(order, published, "[{}] every event, in order", f.name());
    assert_eq!(emu.control.stats().totals.broken_responses, 4);
    assert_eq!(client.stats().broken_long_polls, 4, "[{}]", f.name());
    client.close().expect("close");
}
