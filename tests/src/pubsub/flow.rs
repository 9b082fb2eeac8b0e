//! Flow control: the client never asks for more than `min(max_pending, 100)` events of a topic
//! beyond what the application holds (the server's exact accounting agrees), tops its credit up
//! as events are taken, and lets a stream owed nothing end at the server's idle timeout, opening
//! it again without loss once the application makes room.

use std::time::Duration;

use sfstream_core::CommitPolicy;

use super::{
    ORDERS, PubSubEmu, PubSubFlavor, PubSubSetup, assert_nothing_more, eventually, ids, receive_n,
};

/// `events` waiting, a consumer that pauses every 10 events, and the bound checked after every
/// event taken (client side) and at every request (server side).
fn credit_stays_within(flavor: &impl PubSubFlavor, max_pending: u32, events: usize) {
    let emu = PubSubEmu::start_with(|b| b.max_events_per_response(25));
    let published = emu.publish(ORDERS, events);
    let client = flavor.client(PubSubSetup::new(&emu).max_pending(max_pending));
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let bound = max_pending.min(100) as usize;

    let mut received = Vec::with_capacity(events);
    while received.len() < events {
        received.extend(ids(&receive_n(&*client, 1)));
        // Held by the session, then still owed by the server: read in this order, an event that
        // arrives in between is counted in neither, never in both.
        let held = client.pending();
        let owed = client.outstanding(ORDERS).unwrap_or(0) as usize;
        assert!(
            held + owed <= bound,
            "{}: {held} held and {owed} owed after {} events (bound {bound})",
            flavor.name(),
            received.len()
        );
        if received.len() % 10 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert_eq!(
        received,
        published,
        "{}: every event once, in order",
        flavor.name()
    );
    assert_nothing_more(&*client);

    let server = emu.topic_stats(ORDERS);
    assert!(
        server.most_owed as usize <= bound,
        "{}: the server was owed {} events at once (bound {bound}): {server:?}",
        flavor.name(),
        server.most_owed
    );
    assert_eq!(
        server.most_owed as usize,
        bound,
        "{}: the first request asks for the whole window",
        flavor.name()
    );
    let stats = client.stats();
    assert!(
        stats.fetch_requests as usize >= events / bound,
        "{}: credit is topped up as events are taken ({} requests of at most {bound})",
        flavor.name(),
        stats.fetch_requests
    );
    assert!(
        server.credits_requested as usize <= events + bound,
        "{}: asked for {} credits for {events} events",
        flavor.name(),
        server.credits_requested
    );
    client.close().unwrap();
}

/// With the default bound: never more than 100 requested and not yet taken.
pub fn pubsub_credit_never_exceeds_100(flavor: &impl PubSubFlavor) {
    credit_stays_within(flavor, 100, 400);
}

/// With `max_pending` 10: never more than 10 requested and not yet taken.
pub fn pubsub_credit_never_exceeds_max_pending(flavor: &impl PubSubFlavor) {
    credit_stays_within(flavor, 10, 60);
}

/// Under the manual policy with `pending_until_commit`, events taken and not yet committed count
/// too: with 10 taken and none committed the client asks for nothing more, and each commit makes
/// room again.
pub fn pubsub_credit_counts_uncommitted_events(flavor: &impl PubSubFlavor) {
    const BOUND: usize = 10;
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, 40);
    let mut setup = PubSubSetup::new(&emu)
        .max_pending(BOUND as u32)
        .commit(CommitPolicy::Manual);
    setup.config.pending_until_commit = true;
    let client = flavor.client(setup);
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();

    let mut taken = receive_n(&*client, BOUND);
    // The window is held by the application: nothing more is asked for or delivered.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        (client.pending(), client.outstanding(ORDERS).unwrap_or(0)),
        (0, 0),
        "{}: nothing requested while 10 are uncommitted",
        flavor.name()
    );
    assert_eq!(
        emu.topic_stats(ORDERS).delivered,
        BOUND as u64,
        "{}",
        flavor.name()
    );

    let mut committed = 0;
    while taken.len() < published.len() {
        // Commit half of what is held, then take what comes, checking the bound at each step.
        committed = (committed + BOUND / 2).min(taken.len());
        assert!(client.commit(&taken[committed - 1]).unwrap());
        while taken.len() - committed < BOUND && taken.len() < published.len() {
            taken.extend(receive_n(&*client, 1));
            let held = client.pending();
            let owed = client.outstanding(ORDERS).unwrap_or(0) as usize;
            let uncommitted = taken.len() - committed;
            assert!(
                held + owed + uncommitted <= BOUND,
                "{}: {held} held, {owed} owed and {uncommitted} uncommitted",
                flavor.name()
            );
        }
    }
    assert_eq!(
        ids(&taken),
        published,
        "{}: every event once, in order",
        flavor.name()
    );
    assert_nothing_more(&*client);
    let most_owed = emu.topic_stats(ORDERS).most_owed;
    assert!(
        most_owed as usize <= BOUND,
        "{}: {most_owed}",
        flavor.name()
    );
    client.close().unwrap();
}

/// The application holds all the events the client may hold: the server, owed nothing, ends
/// the stream after its idle timeout; once the application takes events, the client opens the
/// stream again after the last event received, and nothing is lost or repeated.
pub fn pubsub_idle_close_reopens_without_loss(flavor: &impl PubSubFlavor) {
    let idle = Duration::from_millis(300);
    let emu = PubSubEmu::start_with(|b| b.idle_timeout(idle).keepalive(Duration::from_millis(100)));
    let published = emu.publish(ORDERS, 30);
    let client = flavor.client(PubSubSetup::new(&emu).max_pending(10).idle_timeout(idle));
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();

    eventually("the client to hold its 10 events", || {
        client.pending() == 10
    });
    eventually("the server's idle close", || {
        emu.control.stats().totals.idle_closes >= 1
    });
    assert_eq!(emu.topic_stats(ORDERS).delivered, 10, "{}", flavor.name());
    eventually("the client to see the stream end", || {
        client.stats().idle_closes >= 1
    });

    let received = ids(&receive_n(&*client, 30));
    assert_eq!(
        received,
        published,
        "{}: every event once, in order",
        flavor.name()
    );
    assert_nothing_more(&*client);
    let stats = client.stats();
    assert!(
        stats.streams_opened >= 2,
        "{}: the stream was opened again: {stats:?}",
        flavor.name()
    );
    client.close().unwrap();
}
