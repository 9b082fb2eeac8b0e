//! Session events and stats, as applications read them, against the emulator's faults: a dropped
//! Bayeux session, a rejected replay id with the `New` fallback, a broken long poll; and the
//! counters and replay ids `stats()` shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sfstream_core::{CommitPolicy, ReplayFallback, ReplayFrom};
use sfstream_driver::{RefetchReason, SessionEvent};
use sfstream_emulator::{DropAdvice, Fault};
use sfstream_store::MemoryStore;

use crate::cases::{ORDERS, ids, receive_all};
use crate::{Emu, Flavor, SessionEventsUnderTest, Setup, TestClient};

const WAIT: Duration = Duration::from_secs(30);
const CASES: &str = "/data/ChangeEvents";

/// A client of `setup` with a session-event subscriber from before it opened, subscribed to
/// `channels` and open.
fn open_watched(
    f: &dyn Flavor,
    setup: Setup,
    channels: &[&str],
) -> (Box<dyn TestClient>, Box<dyn SessionEventsUnderTest>) {
    let client = f.client(setup);
    let events = client.session_events();
    for c in channels {
        client
            .subscribe(c)
            .unwrap_or_else(|e| panic!("[{}] subscribe {c}: {e}", f.name()));
    }
    client
        .open()
        .unwrap_or_else(|e| panic!("[{}] open: {e}", f.name()));
    (client, events)
}

/// Reads events until one matches `want`; every event read, that one last.
fn until(
    f: &dyn Flavor,
    events: &mut dyn SessionEventsUnderTest,
    what: &str,
    want: impl Fn(&SessionEvent) -> bool,
) -> Vec<SessionEvent> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "[{}] no {what} within {WAIT:?}; saw {seen:?}",
            f.name()
        );
        if let Some(e) = events.next_timeout(left) {
            let found = want(&e);
            seen.push(e);
            if found {
                return seen;
            }
        }
    }
}

/// The emulator forgets every Bayeux session: the client reports the lost session (naming the
/// server's error), then a new session that is a reconnect, and counts it.
pub fn session_events_report_a_lost_session_and_the_reconnect(f: &dyn Flavor) {
    let emu = Emu::start();
    let (client, mut events) = open_watched(f, Setup::new(&emu), &[ORDERS]);
    let first = until(f, events.as_mut(), "first session", |e| {
        matches!(e, SessionEvent::Handshaken { .. })
    });
    assert!(
        matches!(
            first.last(),
            Some(SessionEvent::Handshaken {
                reconnect: false,
                ..
            })
        ),
        "[{}] the first session is no reconnect: {first:?}",
        f.name()
    );
    assert_eq!(client.stats().reconnects, 0, "[{}]", f.name());

    emu.control.drop_sessions(DropAdvice::Handshake);
    let seen = until(f, events.as_mut(), "reconnect", |e| {
        matches!(
            e,
            SessionEvent::Handshaken {
                reconnect: true,
                ..
            }
        )
    });
    let lost = seen.iter().find_map(|e| match e {
        SessionEvent::SessionLost { reason } => Some(reason.to_string()),
        _ => None,
    });
    assert!(
        lost.as_deref()
            .is_some_and(|r| r.contains("Unknown client")),
        "[{}] the lost session, with the server's reason, before the new one: {seen:?}",
        f.name()
    );
    until(
        f,
        events.as_mut(),
        "resubscription",
        |e| matches!(e, SessionEvent::Subscribed { channel, .. } if channel == ORDERS),
    );
    receive_all(f, client.as_ref(), &ids(ORDERS, &emu.publish(ORDERS, 2)));
    let stats = client.stats();
    assert!(
        stats.reconnects >= 1 && stats.sessions == stats.reconnects + 1,
        "[{}] {stats:?}",
        f.name()
    );
    client.close().expect("close");
    until(f, events.as_mut(), "closed", |e| {
        matches!(e, SessionEvent::Closed { error: None })
    });
}

/// A stored replay id the server rejects, with the `New` fallback: the event names the channel
/// and the rejected id, and says it is a gap.
pub fn session_events_report_a_replay_fallback_to_new_as_a_gap(f: &dyn Flavor) {
    let emu = Emu::start();
    let published = emu.publish(ORDERS, 3);
    let bogus = published.last().expect("published") + 1_000_000;
    let store = Arc::new(MemoryStore::with_ids([(ORDERS, bogus)]));
    let (client, mut events) = open_watched(
        f,
        Setup::new(&emu).store(store).fallback(ReplayFallback::New),
        &[ORDERS],
    );
    let seen = until(f, events.as_mut(), "replay fallback", |e| {
        matches!(e, SessionEvent::ReplayFallback { .. })
    });
    let fallback = seen.last().expect("the fallback");
    assert!(fallback.is_gap(), "[{}] {fallback:?}", f.name());
    match fallback {
        SessionEvent::ReplayFallback {
            channel,
            rejected,
            using,
            ..
        } => {
            assert_eq!(channel, ORDERS, "[{}]", f.name());
            assert_eq!(*rejected, Some(bogus), "[{}]", f.name());
            assert_eq!(*using, ReplayFrom::New, "[{}]", f.name());
        }
        other => panic!("[{}] {other:?}", f.name()),
    }
    assert_eq!(fallback.channel(), Some(ORDERS));
    until(
        f,
        events.as_mut(),
        "subscription from new",
        |e| matches!(e, SessionEvent::Subscribed { channel, replay_from: ReplayFrom::New } if channel == ORDERS),
    );
    client.close().expect("close");
}

/// A long poll cut after the server handed it events: a re-fetch event for the channel, from
/// its last accepted id, for a broken long poll; the count in the stats.
pub fn session_events_report_a_refetch_after_a_broken_long_poll(f: &dyn Flavor) {
    let emu = Emu::start();
    let (client, mut events) = open_watched(f, Setup::new(&emu), &[ORDERS]);
    let before = emu.publish(ORDERS, 3);
    receive_all(f, client.as_ref(), &ids(ORDERS, &before));
    emu.control.fail_next(1, Fault::CutAfterDelivery);
    let lost = emu.publish(ORDERS, 3);
    let seen = until(f, events.as_mut(), "re-fetch", |e| {
        matches!(e, SessionEvent::Refetch { .. })
    });
    match seen.last() {
        Some(SessionEvent::Refetch {
            channel,
            from,
            reason: RefetchReason::BrokenLongPoll { .. },
        }) => {
            assert_eq!(channel, ORDERS, "[{}]", f.name());
            assert_eq!(
                *from,
                ReplayFrom::Id(*before.last().expect("published")),
                "[{}] from the last accepted id",
                f.name()
            );
        }
        other => panic!("[{}] a re-fetch for a broken poll: {other:?}", f.name()),
    }
    receive_all(f, client.as_ref(), &ids(ORDERS, &lost));
    let stats = client.stats();
    assert!(
        stats.refetches >= 1 && stats.reconnects >= 1,
        "[{}] a re-fetch on a new session: {stats:?}",
        f.name()
    );
    client.close().expect("close");
}

/// `stats()` shows each channel's last accepted and committed replay ids (manual commit) and
/// when the last event arrived.
pub fn stats_show_each_channels_ids_and_the_last_event(f: &dyn Flavor) {
    let emu = Emu::start();
    let started = Instant::now();
    let (client, _events) = open_watched(
        f,
        Setup::new(&emu).commit(CommitPolicy::Manual),
        &[ORDERS, CASES],
    );
    assert_eq!(client.stats().last_event_at, None, "[{}]", f.name());
    let orders = emu.publish(ORDERS, 4);
    let cases = emu.publish(CASES, 2);
    let mut want = ids(ORDERS, &orders);
    want.extend(ids(CASES, &cases));
    let got = receive_all(f, client.as_ref(), &want);
    let second_order = got
        .iter()
        .find(|m| m.channel() == ORDERS && m.replay_id() == Some(orders[1]))
        .expect("the second order");
    client.commit(second_order).expect("commit");
    let stats = client.stats();
    let at = |c: &str| {
        let ch = &stats.channels[c];
        (ch.accepted, ch.committed)
    };
    assert_eq!(
        at(ORDERS),
        (orders.last().copied(), Some(orders[1])),
        "[{}] {stats:?}",
        f.name()
    );
    assert_eq!(
        at(CASES),
        (cases.last().copied(), None),
        "[{}] {stats:?}",
        f.name()
    );
    let last = stats.last_event_at.expect("an event arrived");
    assert!(
        last >= started && last.elapsed() < WAIT,
        "[{}] {:?} ago",
        f.name(),
        last.elapsed()
    );
    assert_eq!(
        (stats.sessions, stats.reconnects, stats.refetches),
        (1, 0, 0),
        "[{}] {stats:?}",
        f.name()
    );
    client.close().expect("close");
}
