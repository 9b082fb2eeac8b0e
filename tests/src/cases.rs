//! The cases. Each takes a [`Flavor`] and panics with a message naming the runtime on failure.
//!
//! "Lost" means: an event the emulator published (and retained) that the client never
//! delivered. Every case that injects a fault checks the delivered set against the published one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sfstream_core::{CommitPolicy, EventKind, Message, ReplayFallback};
use sfstream_emulator::{BulkPublished, DropAdvice, Fault, PushedDisconnect};
use sfstream_store::{FileStore, MemoryStore};

use crate::{Emu, Flavor, Setup, TestClient, scratch_dir};

pub(crate) const ORDERS: &str = "/event/Order__e";
const WAIT: Duration = Duration::from_secs(30);

/// Receives until every `(channel, id)` of `want` was delivered; returns what came, in order.
pub(crate) fn receive_all(
    f: &dyn Flavor,
    client: &dyn TestClient,
    want: &BTreeSet<(String, i64)>,
) -> Vec<Message> {
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut seen = BTreeSet::new();
    while !want.is_subset(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "[{}] timed out; missing {:?}",
            f.name(),
            want.difference(&seen).collect::<Vec<_>>()
        );
        match client.receive_timeout(left.min(Duration::from_secs(1))) {
            Some(Ok(m)) => {
                seen.insert((m.channel().to_owned(), m.replay_id().expect("a replay id")));
                got.push(m);
            }
            // Transient errors (a connection-lost report) are allowed: the client keeps trying.
            Some(Err(e)) if e.is_connection_lost() => {}
            Some(Err(e)) => panic!("[{}] receive failed: {e}", f.name()),
            None => {}
        }
    }
    got
}

pub(crate) fn ids(channel: &str, ids: &[i64]) -> BTreeSet<(String, i64)> {
    ids.iter().map(|i| (channel.to_owned(), *i)).collect()
}

pub(crate) fn open_with(f: &dyn Flavor, setup: Setup, channels: &[&str]) -> Box<dyn TestClient> {
    let client = f.client(setup);
    for c in channels {
        client
            .subscribe(c)
            .unwrap_or_else(|e| panic!("[{}] subscribe {c}: {e}", f.name()));
    }
    client
        .open()
        .unwrap_or_else(|e| panic!("[{}] open: {e}", f.name()));
    client
}

/// PushTopic, Platform Event, Change Data Capture and generic events arrive with their envelopes.
pub fn happy_path_four_kinds(f: &dyn Flavor) {
    let emu = Emu::start();
    let channels = [
        "/topic/AccountUpdates",
        ORDERS,
        "/data/ChangeEvents",
        "/u/notifications",
    ];
    let client = open_with(f, Setup::new(&emu), &channels);
    let mut want = BTreeSet::new();
    for c in channels {
        want.extend(ids(c, &emu.publish(c, 3)));
    }
    let got = receive_all(f, client.as_ref(), &want);
    assert_eq!(
        got.len(),
        12,
        "[{}] no duplicates on a healthy stream",
        f.name()
    );
    for m in &got {
        match m.kind() {
            EventKind::PushTopic => {
                assert!(m.pushtopic_event_type().is_some(), "PushTopic event type")
            }
            EventKind::PlatformEvent => assert!(m.event_uuid().is_some(), "Platform Event uuid"),
            EventKind::ChangeDataCapture => {
                assert!(m.change_event_header().is_some(), "CDC header")
            }
            EventKind::Generic => {
                assert!(m.payload::<String>().is_ok(), "generic payload is a string")
            }
            other => panic!("unexpected kind {other:?}"),
        }
        assert!(
            m.created_date().is_some(),
            "[{}] created date on {}",
            f.name(),
            m.channel()
        );
    }
    client.close().expect("close");
}

/// A client restarted with the same file store resumes after the last committed event: the
/// events published while it was down arrive, nothing twice.
pub fn resume_after_restart_with_file_store(f: &dyn Flavor) {
    let emu = Emu::start();
    let dir = scratch_dir("resume");
    let path = dir.join("replay.json");
    let first = open_with(
        f,
        Setup::new(&emu).store(Arc::new(FileStore::open(&path).unwrap())),
        &[ORDERS],
    );
    let before = emu.publish(ORDERS, 5);
    receive_all(f, first.as_ref(), &ids(ORDERS, &before));
    first.close().expect("close flushes the store");
    drop(first);
    let stored = std::fs::read_to_string(&path).expect("the store file exists");
    assert!(
        stored.contains(&before[4].to_string()),
        "[{}] the last id is stored: {stored}",
        f.name()
    );

    let during = emu.publish(ORDERS, 7);
    let second = open_with(
        f,
        Setup::new(&emu).store(Arc::new(FileStore::open(&path).unwrap())),
        &[ORDERS],
    );
    let got = receive_all(f, second.as_ref(), &ids(ORDERS, &during));
    let got_ids: Vec<i64> = got.iter().filter_map(Message::replay_id).collect();
    assert_eq!(
        got_ids,
        during,
        "[{}] exactly the missed events, in order",
        f.name()
    );
    assert!(
        second.receive_timeout(Duration::from_millis(600)).is_none(),
        "[{}] nothing more",
        f.name()
    );
    second.close().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// Publishes, injects a fault, publishes again: every event arrives.
fn survive(f: &dyn Flavor, name: &str, inject: impl FnOnce(&Emu)) -> (Emu, Box<dyn TestClient>) {
    let emu = Emu::start();
    let client = open_with(f, Setup::new(&emu), &[ORDERS]);
    receive_all(f, client.as_ref(), &ids(ORDERS, &emu.publish(ORDERS, 5)));
    inject(&emu);
    let mut want = ids(ORDERS, &emu.publish(ORDERS, 5));
    // Let the fault hit a few requests, then publish more.
    std::thread::sleep(Duration::from_millis(100));
    want.extend(ids(ORDERS, &emu.publish(ORDERS, 5)));
    let got = receive_all(f, client.as_ref(), &want);
    assert!(
        !got.is_empty(),
        "[{}] {name}: events after the fault",
        f.name()
    );
    (emu, client)
}

/// HTTP 503 answers.
pub fn survives_http_5xx(f: &dyn Flavor) {
    survive(f, "5xx", |emu| emu.control.fail_next(3, Fault::Status(503)));
}

/// Connections reset without an answer.
pub fn survives_connection_reset(f: &dyn Flavor) {
    survive(f, "reset", |emu| emu.control.fail_next(3, Fault::Reset));
}

/// A 200 with a truncated JSON body.
pub fn survives_malformed_json(f: &dyn Flavor) {
    survive(f, "malformed", |emu| {
        emu.control.fail_next(2, Fault::MalformedJson)
    });
}

/// A response held past the client's HTTP deadline.
pub fn survives_delay_past_deadline(f: &dyn Flavor) {
    survive(f, "delay", |emu| {
        emu.control
            .fail_next(1, Fault::Delay(Duration::from_millis(2800)))
    });
}

/// `401::Authentication invalid` with a `503::Server is too busy` reason: back off, no re-auth.
pub fn survives_server_too_busy(f: &dyn Flavor) {
    let (emu, client) = survive(f, "busy", |emu| {
        emu.control.fail_next(2, Fault::ServerTooBusy)
    });
    assert_eq!(
        client.stats().reauthentications,
        0,
        "[{}] no token refresh for a busy server",
        f.name()
    );
    drop(emu);
}

/// Sessions dropped with `403::Unknown client` and `reconnect: handshake`.
pub fn survives_session_drop_with_handshake_advice(f: &dyn Flavor) {
    let (_emu, client) = survive(f, "drop/handshake", |emu| {
        emu.control.drop_sessions(DropAdvice::Handshake);
    });
    assert!(
        client.stats().handshakes >= 2,
        "[{}] handshaked again",
        f.name()
    );
}

/// Sessions dropped with `403::Unknown client` and `reconnect: none`.
pub fn survives_session_drop_with_none_advice(f: &dyn Flavor) {
    let (_emu, client) = survive(f, "drop/none", |emu| {
        emu.control.drop_sessions(DropAdvice::None);
    });
    assert!(
        client.stats().handshakes >= 2,
        "[{}] handshaked again despite reconnect none",
        f.name()
    );
}

/// A server-pushed `/meta/disconnect`.
pub fn survives_server_disconnect(f: &dyn Flavor) {
    let (_emu, client) = survive(f, "server disconnect", |emu| {
        emu.control.push_disconnect();
    });
    assert!(client.stats().handshakes >= 2);
}

/// A server-pushed `/meta/disconnect` whose connect reply is `401::Authentication invalid`: the
/// token was revoked too, so the client authenticates again before its new handshake.
pub fn survives_server_disconnect_authentication_invalid(f: &dyn Flavor) {
    let (_emu, client) = survive(f, "server disconnect/401", |emu| {
        emu.control
            .push_disconnect_with(PushedDisconnect::AuthenticationInvalid);
    });
    let stats = client.stats();
    assert!(
        stats.handshakes >= 2 && stats.reauthentications >= 1,
        "[{}] authenticated and handshaked again: {stats:?}",
        f.name()
    );
}

/// The load balancer loses the session's affinity (`403::Unknown client`, new routing cookies):
/// a new session through the new node, nothing lost.
pub fn survives_reroute(f: &dyn Flavor) {
    let (emu, client) = survive(f, "reroute", |emu| {
        emu.control.reroute_sessions();
    });
    assert!(
        emu.control.stats().totals.sessions_rerouted >= 1,
        "[{}] the emulator rerouted a request",
        f.name()
    );
    assert!(
        client.stats().handshakes >= 2,
        "[{}] handshaked again after the reroute",
        f.name()
    );
}

/// Revoked tokens: a new token, a new handshake, nothing lost.
pub fn reauth_after_token_revoke(f: &dyn Flavor) {
    let (emu, client) = survive(f, "revoke", |emu| {
        emu.control.revoke_tokens();
    });
    assert!(
        client.stats().reauthentications >= 1,
        "[{}] re-authenticated",
        f.name()
    );
    assert!(emu.control.stats().totals.token_requests >= 2);
}

/// A stored replay id the server rejects: the fallback replays what is retained.
pub fn invalid_replay_id_falls_back(f: &dyn Flavor) {
    let emu = Emu::start();
    let published = emu.publish(ORDERS, 4);
    let bogus = published.last().unwrap() + 1_000_000;
    let store = Arc::new(MemoryStore::with_ids([(ORDERS, bogus)]));
    let client = open_with(
        f,
        Setup::new(&emu)
            .store(store.clone())
            .fallback(ReplayFallback::All),
        &[ORDERS],
    );
    receive_all(f, client.as_ref(), &ids(ORDERS, &published));
    client.close().unwrap();
    assert_eq!(
        store.snapshot().get(ORDERS),
        published.last(),
        "[{}] the stale id was replaced",
        f.name()
    );
}

/// Handshakes denied for the concurrent-client limit: the client backs off, then gets through.
pub fn backoff_under_handshake_denial(f: &dyn Flavor) {
    let emu = Emu::start();
    emu.control
        .fail_next(3, Fault::DenyHandshakeConcurrentLimit);
    let started = Instant::now();
    let client = open_with(f, Setup::new(&emu), &[ORDERS]);
    let took = started.elapsed();
    assert_eq!(
        emu.control.stats().totals.handshakes,
        4,
        "[{}] three denials, one success, no storm",
        f.name()
    );
    // 20 + 40 + 80 ms at least 80% each (jitter 0.2).
    assert!(
        took >= Duration::from_millis(112),
        "[{}] backed off: {took:?}",
        f.name()
    );
    let want = ids(ORDERS, &emu.publish(ORDERS, 2));
    receive_all(f, client.as_ref(), &want);
}

/// A consumer slower than the stream: the client holds back its long poll instead of dropping
/// what arrived, so at most `max_pending` plus the responses in flight wait, and nothing is
/// fetched twice.
pub fn slow_consumer_is_bounded_and_lossless(f: &dyn Flavor) {
    const BATCH: usize = 40;
    let emu = Emu::start_with(|b| b.max_batch(BATCH));
    let client = open_with(f, Setup::new(&emu).max_pending(10), &[ORDERS]);
    let published = emu.publish(ORDERS, 300);
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut max_pending = 0;
    while got.len() < published.len() {
        assert!(
            Instant::now() < deadline,
            "[{}] only {} of {} arrived",
            f.name(),
            got.len(),
            published.len()
        );
        max_pending = max_pending.max(client.pending());
        if let Some(Ok(m)) = client.receive_timeout(Duration::from_secs(1)) {
            got.push(m.replay_id().expect("a replay id"));
            if got.len() % 25 == 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
        }
    }
    assert_eq!(got, published, "[{}] every event once, in order", f.name());
    // The last batch, still being taken when the next response arrived (so its successor went
    // out early), that response and its successor's.
    assert!(
        max_pending <= 10 + 3 * BATCH,
        "[{}] pending grew to {max_pending}",
        f.name()
    );
    let stats = client.stats();
    assert!(
        stats.polls_held_back >= 1,
        "[{}] the long poll waited for the consumer: {stats:?}",
        f.name()
    );
    assert_eq!(
        (stats.refetches, stats.dropped_for_refetch),
        (0, 0),
        "[{}] nothing dropped, nothing fetched twice: {stats:?}",
        f.name()
    );
}

/// A consumer that stalls while the bound on memory is small: what does not fit is set aside and
/// fetched again by replay once the consumer catches up; nothing is lost and memory stays within
/// the bound.
pub fn memory_bound_refetches_without_loss(f: &dyn Flavor) {
    let emu = Emu::start_with(|b| b.max_batch(50));
    let mut setup = Setup::new(&emu).max_pending(10);
    // Room for a few dozen of the emulator's events (~500 bytes each in memory).
    setup.config.max_pending_bytes = 16 * 1024;
    // The hold ends soon, so the stalled consumer's queue fills past the bound.
    setup.config.max_poll_delay = Duration::from_millis(200);
    let client = open_with(f, setup, &[ORDERS]);
    let published = emu.publish(ORDERS, 400);
    std::thread::sleep(Duration::from_millis(1500));
    let stalled = client.pending();
    let got = receive_all(f, client.as_ref(), &ids(ORDERS, &published));
    let order: Vec<i64> = got.iter().filter_map(Message::replay_id).collect();
    assert_eq!(
        order,
        published,
        "[{}] every event once, in order",
        f.name()
    );
    let stats = client.stats();
    assert!(
        stats.refetches >= 1 && stats.dropped_for_refetch >= 1,
        "[{}] the bound was reached and the rest fetched again: {stats:?}",
        f.name()
    );
    assert!(
        stats.polls_past_delay_limit >= 1,
        "[{}] the stalled consumer's hold ended: {stats:?}",
        f.name()
    );
    assert!(
        stalled < published.len(),
        "[{}] {stalled} waited while the consumer stalled: bounded",
        f.name()
    );
    client.close().unwrap();
}

/// Manual commit: only committed ids reach the store.
pub fn manual_commit_stores_only_committed(f: &dyn Flavor) {
    let emu = Emu::start();
    let store = Arc::new(MemoryStore::new());
    let client = open_with(
        f,
        Setup::new(&emu)
            .store(store.clone())
            .commit(CommitPolicy::Manual),
        &[ORDERS],
    );
    let published = emu.publish(ORDERS, 3);
    let got = receive_all(f, client.as_ref(), &ids(ORDERS, &published));
    client.commit(&got[1]).unwrap();
    client.close().unwrap();
    assert_eq!(
        store.snapshot().get(ORDERS),
        Some(&published[1]),
        "[{}] the committed id, not the last",
        f.name()
    );
}

/// `close` during a held long poll returns promptly.
pub fn close_during_long_poll_is_prompt(f: &dyn Flavor) {
    let emu = Emu::start_with(|b| b.long_poll_timeout(Duration::from_secs(20)));
    let client = open_with(f, Setup::new(&emu), &[ORDERS]);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    client.close().expect("close");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "[{}] close took {took:?}",
        f.name()
    );
    assert!(
        matches!(client.receive_timeout(Duration::from_millis(100)), Some(Err(e)) if e.is_closed())
    );
}

/// A replay of everything retained through a small queue: the client takes it a response at a
/// time, holding back its long poll while the consumer is behind; every event arrives once, in
/// order, and nothing is fetched twice.
pub fn replay_all_through_a_small_queue(f: &dyn Flavor) {
    let emu = Emu::start_with(|b| b.max_batch(200));
    let published = emu.publish(ORDERS, 1500);
    let mut setup = Setup::new(&emu).max_pending(100);
    setup.config.replay = sfstream_core::ReplayFrom::All;
    let client = open_with(f, setup, &[ORDERS]);
    let got = receive_all(f, client.as_ref(), &ids(ORDERS, &published));
    let order: Vec<i64> = got.iter().filter_map(Message::replay_id).collect();
    assert_eq!(
        order,
        published,
        "[{}] every retained event once, in order",
        f.name()
    );
    let stats = client.stats();
    assert_eq!(
        stats.refetches,
        0,
        "[{}] nothing fetched twice: {stats:?}",
        f.name()
    );
    client.close().unwrap();
}

/// Responses of ~1 MB (1,000 events of ~1 KB): the client decodes a body this large in two
/// halves on two threads; every event arrives once, in order.
pub fn large_responses_arrive_whole(f: &dyn Flavor) {
    let emu = Emu::start();
    let client = open_with(f, Setup::new(&emu).max_pending(10_000), &[ORDERS]);
    let bulk = emu
        .control
        .publish_bulk(ORDERS, 3_000, 900)
        .expect("a bulk publish");
    assert_eq!(
        bulk.subscribers,
        1,
        "[{}] the client is subscribed",
        f.name()
    );
    assert!(
        bulk.bytes_per_client / bulk.batches_per_client > 512 * 1024,
        "[{}] responses large enough to be decoded in halves",
        f.name()
    );
    receive_bulk_in_order(f, &*client, &bulk);
    client.close().unwrap();
}

/// Receives the events of a bulk publish; checks they are all there, in order, once each.
fn receive_bulk_in_order(f: &dyn Flavor, client: &dyn TestClient, bulk: &BulkPublished) {
    let deadline = Instant::now() + WAIT;
    let mut ids = Vec::with_capacity(bulk.count);
    while ids.len() < bulk.count {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "[{}] only {} of {} arrived",
            f.name(),
            ids.len(),
            bulk.count
        );
        match client.receive_timeout(left) {
            Some(Ok(m)) => ids.push(m.replay_id().expect("a replay id")),
            Some(Err(e)) => panic!("[{}] {e}", f.name()),
            None => {}
        }
    }
    assert_eq!(ids.first(), Some(&bulk.first_replay_id), "[{}]", f.name());
    assert_eq!(ids.last(), Some(&bulk.last_replay_id), "[{}]", f.name());
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "[{}] in order, no duplicate",
        f.name()
    );
}

/// The next long poll goes out when a response arrives, before it is decoded, and events still
/// arrive in order.
pub fn long_polls_overlap_decoding(f: &dyn Flavor) {
    let emu = Emu::start();
    let client = open_with(f, Setup::new(&emu).max_pending(10_000), &[ORDERS]);
    let before = client.stats().connects_early;
    let bulk = emu
        .control
        .publish_bulk(ORDERS, 2_000, 200)
        .expect("a bulk publish");
    assert!(bulk.batches_per_client >= 2, "[{}] {bulk:?}", f.name());
    receive_bulk_in_order(f, &*client, &bulk);
    // Every response that carried a batch sent its successor early.
    let early = client.stats().connects_early - before;
    assert!(
        early >= bulk.batches_per_client as u64,
        "[{}] {early} early long polls for {} batches",
        f.name(),
        bulk.batches_per_client
    );
    client.close().unwrap();
}
