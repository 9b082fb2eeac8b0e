//! Replay positions: a stored id the server rejects is replaced by the configured fallback once,
//! reported, and forgotten in the store (without a fallback the topic fails and says why); a
//! keepalive's `latest_replay_id` becomes the committed (stored) position only while no earlier
//! event is pending.

use std::sync::Arc;
use std::time::Duration;

use sfstream_core::pubsub::{PubSubReplayFrom, ReplayId};
use sfstream_core::{CommitPolicy, ReplayFallback};
use sfstream_driver::pubsub::{Error, PubSubSessionEvent};
use sfstream_emulator_pubsub::{Fault, FaultTarget};
use sfstream_store::{MemoryStore, ReplayStore};

use super::{
    ORDERS, PubSubEmu, PubSubFlavor, PubSubSetup, WAIT, assert_nothing_more, eventually, ids,
    receive_n, wait_for_report,
};

/// The store's position for `topic`.
fn stored(store: &MemoryStore, topic: &str) -> Option<Vec<u8>> {
    store.load_topics().unwrap().get(topic).cloned()
}

/// The server calls the stored id corrupted: the client starts from `EARLIEST` (the fallback
/// `All`) once, says so, and stores the newest event it then processed.
pub fn pubsub_rejected_replay_id_falls_back_once(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, 5);
    let store = Arc::new(MemoryStore::new());
    store.save_topic(ORDERS, &published[2]).unwrap();
    emu.control
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::CorruptedReplayId);

    let client = flavor.client(
        PubSubSetup::new(&emu)
            .store(store.clone())
            .fallback(Some(ReplayFallback::All)),
    );
    let mut events = client.session_events();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let (topic, rejected, using) = wait_for_report(&mut *events, "the fallback", |e| match e {
        PubSubSessionEvent::ReplayFallback {
            topic,
            rejected,
            using,
            ..
        } => Some((topic, rejected, using)),
        _ => None,
    });
    assert_eq!(topic, ORDERS);
    assert_eq!(rejected, Some(ReplayId::new(published[2].clone())));
    assert_eq!(using, PubSubReplayFrom::Earliest);
    // From the earliest: all five, the stored one's predecessors included.
    assert_eq!(ids(&receive_n(&*client, 5)), published, "{}", flavor.name());
    assert_nothing_more(&*client);
    assert_eq!(
        client.stats().replay_fallbacks,
        1,
        "{}: once",
        flavor.name()
    );
    assert_eq!(emu.faults_fired("corrupted_replay_id"), 1);
    client.close().unwrap();
    assert_eq!(
        stored(&store, ORDERS),
        Some(published[4].clone()),
        "{}: the stale id is gone, the newest processed one stored",
        flavor.name()
    );
}

/// Without a fallback, the rejected id fails the topic with an error naming the cause.
pub fn pubsub_rejected_replay_id_without_fallback_fails(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start();
    let published = emu.publish(ORDERS, 2);
    let store = Arc::new(MemoryStore::new());
    store.save_topic(ORDERS, &published[0]).unwrap();
    emu.control
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::CorruptedReplayId);
    let client = flavor.client(PubSubSetup::new(&emu).store(store));
    client.subscribe(ORDERS).unwrap();
    // The server may accept the stream's head before it ends it with the refusal: then `open`
    // succeeds and `receive` reports the failed topic.
    let error = match client.open() {
        Err(e) => e,
        Ok(()) => match client.receive_timeout(WAIT) {
            Some(Err(e)) => e,
            other => panic!("{}: the topic's failure, not {other:?}", flavor.name()),
        },
    };
    assert!(matches!(error, Error::Session(_)), "{error:?}");
    assert!(
        error.to_string().contains("replayid.corrupted"),
        "{}: the error names the cause: {error}",
        flavor.name()
    );
    assert_eq!(client.stats().replay_fallbacks, 0);
    client.close().unwrap();
}

/// From `LATEST` on a topic with three events: a keepalive's position (the third event) is
/// committed and stored while nothing is pending; after an event received and not committed
/// (manual policy), keepalives move nothing until it is committed.
pub fn pubsub_keepalive_position_stored_only_when_nothing_is_pending(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start_with(|b| b.keepalive(Duration::from_millis(100)));
    let before = emu.publish(ORDERS, 3);
    let store = Arc::new(MemoryStore::new());
    let client = flavor.client(
        PubSubSetup::new(&emu)
            .replay(PubSubReplayFrom::Latest)
            .commit(CommitPolicy::Manual)
            .store(store.clone()),
    );
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let tip = ReplayId::new(before[2].clone());
    eventually("a keepalive's position", || {
        client.committed(ORDERS).as_ref() == Some(&tip)
    });
    assert_eq!(
        client.stats().events_received,
        0,
        "LATEST: nothing replayed"
    );

    let id = emu.publish(ORDERS, 1).remove(0);
    let event = receive_n(&*client, 1).remove(0);
    assert_eq!(event.replay_id().as_bytes(), &id[..]);
    // Keepalives now carry the new event's position, which is not processed yet.
    let seen = client.stats().keepalives;
    eventually("two more keepalives", || {
        client.stats().keepalives >= seen + 2
    });
    assert_eq!(
        client.committed(ORDERS),
        Some(tip.clone()),
        "{}: a keepalive does not commit past an event pending",
        flavor.name()
    );
    assert!(client.commit(&event).unwrap(), "the position moves");
    assert_eq!(client.committed(ORDERS), Some(ReplayId::new(id.clone())));
    assert_nothing_more(&*client);
    client.close().unwrap();
    assert_eq!(stored(&store, ORDERS), Some(id), "{}", flavor.name());
}
