//! The chaos case: a seeded stream of events through the client while the emulator injects every
//! fault kind at random moments.
//!
//! - **Every fault the emulator's seeded chaos mode knows** ([`ChaosMix::all`], through
//!   [`sfstream_emulator::Control::chaos_with`]), drawn per CometD request: HTTP 500/503,
//!   connection resets, malformed JSON, `503::Server is too busy`, the concurrent-client
//!   handshake denial, delays of up to [`MAX_DELAY`] — beyond the client's HTTP deadlines (a long
//!   poll's deadline is the 400 ms hold plus the suite's 2 s margin; other requests get
//!   [`REQUEST_TIMEOUT`]) — and the session-level ones: a revoked token, the requesting session
//!   dropped with either advice, a pushed `/meta/disconnect` of either kind, a load-balancer
//!   reroute, and long-poll responses broken after the server took their events (cut, reset,
//!   held for [`CHAOS_HOLD`], past the long poll's deadline).
//! - **Faults for every session at once** come from a fault thread that, at seeded random
//!   moments, revokes every token, drops every session with `403::Unknown client` and
//!   `reconnect: handshake` or `reconnect: none`, pushes a server-side `/meta/disconnect` (both
//!   kinds), reroutes every session, queues a burst of 5xx answers,
//!   queues a delay past the long-poll deadline, queues concurrent-limit handshake denials, and
//!   breaks the next long-poll response that carries events after the server took them out of the
//!   session's queue (cut after half its body, reset before anything is written, or held past the
//!   client's deadline): those events are lost unless the client fetches them again.
//!   Each round of the thread injects every kind once, in a seeded order, then pauses for
//!   [`ROUND_PAUSE`]; so even a short run meets every kind, whatever chaos happens to draw.
//! - **An invalid replay id**: the client starts with a store holding a replay id the server
//!   rejects, and [`ReplayFallback::All`]: the events published before it started must arrive
//!   through the fallback.
//!
//! A publisher thread publishes the events in small seeded bursts over three channels, while the
//! consumer (the test thread) receives, commits every [`COMMIT_EVERY`]th message (manual
//! commit policy, so that an uncommitted window exists), and now and then pauses: the client
//! holds back its long poll, and with a short hold limit and a small bound on memory
//! ([`MAX_POLL_DELAY`], [`MAX_PENDING_BYTES`]) the queue overflows and the re-fetch path runs too.
//!
//! What is asserted:
//! - **nothing lost, nothing invented**: the set of delivered `(channel, replay id)` equals the
//!   published set;
//! - **no panic** on any thread other than a test thread (a panic hook records them: the client's
//!   runtime threads, the emulator's, the publisher and the fault thread);
//! - **duplicates only inside the uncommitted window**: a re-delivered `(channel, id)` must have
//!   `id` greater than the channel's committed id — allowing for the one commit the consumer may
//!   be making at the very moment of a fault (the consumer takes a message, then commits it; a
//!   resubscription that happens between the two starts from the value before that commit). So
//!   the check is `id > committed id before the channel's latest commit`;
//! - the store holds the last committed id of every channel after `close`;
//! - every fault kind of the fault thread was injected at least once, chaos drew session-level
//!   faults and broken responses (not only request-level ones), and the client re-authenticated
//!   and lost sessions (so the faults did reach it).
//!
//! `SFSTREAM_CHAOS_EVENTS` (default 1,000) sets the number of events, `SFSTREAM_CHAOS_SEED` the
//! seed (decimal or `0x` hex). The counts, chaos's per kind included, are printed to stderr
//! (`-- --nocapture` shows them).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use sfstream_core::{CommitPolicy, ReplayFallback, ReplayFrom};
use sfstream_emulator::{
    ChaosConfig, ChaosKind, ChaosMix, Control, DropAdvice, Fault, PushedDisconnect,
};
use sfstream_store::{MemoryStore, ReplayStore};

use crate::{Emu, Flavor, Setup};

/// Events streamed when `SFSTREAM_CHAOS_EVENTS` is not set.
pub const DEFAULT_EVENTS: usize = 1000;
/// The seed used when `SFSTREAM_CHAOS_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x5f5f_c4a0_5eed;
/// The consumer commits every this many messages.
pub const COMMIT_EVERY: usize = 5;
/// The longest delay the emulator's chaos mode injects: beyond every deadline of the client.
pub const MAX_DELAY: Duration = Duration::from_millis(3000);
/// The deadline of requests other than long polls in this case.
pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(1500);
/// The bound on waiting messages (the client's default): beyond it the long poll waits.
pub const MAX_PENDING: usize = 100;
/// How long the long poll waits for the consumer: shorter than the consumer's pauses.
pub const MAX_POLL_DELAY: Duration = Duration::from_millis(250);
/// The bound on the memory of waiting messages: about half a response of the emulator's (1,000
/// events of ~500 bytes), so that replays after a lost session overflow it and the re-fetch by
/// replay runs, while each replay still brings hundreds of events (a much smaller bound makes
/// every replay cycle, which the faults keep breaking, bring too few to keep up).
pub const MAX_PENDING_BYTES: usize = 256 * 1024;
/// From this many events on, the run asserts that chaos drew every kind of the mix itself (a
/// short run draws a seeded sample of them; the fault thread covers every kind anyway).
pub const FULL_MIX_EVENTS: usize = 10_000;
/// The run fails when no new event arrives for this long.
pub const STALL: Duration = Duration::from_secs(60);
/// The fault thread's pause between two rounds of every session-fault kind.
pub const ROUND_PAUSE: Duration = Duration::from_secs(4);
/// The probability that a CometD request meets a chaos fault (drawn from [`ChaosMix::all`]).
pub const CHAOS_RATE: f64 = 0.1;
/// How long chaos holds a long-poll response whose events it took: past the long poll's
/// deadline (0.4 s + 2 s).
pub const CHAOS_HOLD: Duration = Duration::from_millis(2800);

const CHANNELS: [&str; 3] = [
    "/event/Order__e",
    "/data/ChangeEvents",
    "/topic/AccountUpdates",
];
/// Events published before the client starts, on the channel with the stale stored id.
const HISTORY: usize = 10;

/// A small seeded generator (SplitMix64): the test needs reproducible choices, not quality.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A value in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn ms(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.range(lo, hi))
    }
}

/// The session-level faults of the fault thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    RevokeTokens,
    DropHandshakeAdvice,
    DropNoneAdvice,
    ServerDisconnect,
    ServerDisconnectAuthenticationInvalid,
    Reroute,
    Burst5xx,
    ResetBurst,
    MalformedJson,
    DelayPastDeadline,
    DenyHandshakeConcurrentLimit,
    ServerTooBusy,
    CutAfterDelivery,
    ResetAfterDelivery,
    HoldAfterDelivery,
}

const KINDS: [Kind; 15] = [
    Kind::RevokeTokens,
    Kind::DropHandshakeAdvice,
    Kind::DropNoneAdvice,
    Kind::ServerDisconnect,
    Kind::ServerDisconnectAuthenticationInvalid,
    Kind::Reroute,
    Kind::Burst5xx,
    Kind::ResetBurst,
    Kind::MalformedJson,
    Kind::DelayPastDeadline,
    Kind::DenyHandshakeConcurrentLimit,
    Kind::ServerTooBusy,
    Kind::CutAfterDelivery,
    Kind::ResetAfterDelivery,
    Kind::HoldAfterDelivery,
];

/// Injects one fault; returns how many request faults it queued and how many sessions it ended.
fn inject(control: &Control, kind: Kind, rng: &mut Rng) -> (u64, usize) {
    match kind {
        Kind::RevokeTokens => {
            control.revoke_tokens();
            (0, 0)
        }
        Kind::DropHandshakeAdvice => (0, control.drop_sessions(DropAdvice::Handshake)),
        Kind::DropNoneAdvice => (0, control.drop_sessions(DropAdvice::None)),
        Kind::ServerDisconnect => (0, control.push_disconnect()),
        Kind::ServerDisconnectAuthenticationInvalid => (
            0,
            control.push_disconnect_with(PushedDisconnect::AuthenticationInvalid),
        ),
        Kind::Reroute => (0, control.reroute_sessions()),
        Kind::Burst5xx => {
            let n = rng.range(2, 3);
            let status = [500, 502, 503, 504][rng.range(0, 3) as usize];
            control.fail_next(n as u32, Fault::Status(status));
            (n, 0)
        }
        Kind::ResetBurst => {
            let n = rng.range(1, 2);
            control.fail_next(n as u32, Fault::Reset);
            (n, 0)
        }
        Kind::MalformedJson => {
            control.fail_next(1, Fault::MalformedJson);
            (1, 0)
        }
        Kind::DelayPastDeadline => {
            // The long poll's deadline is 0.4 s + 2 s; other requests' is 1.5 s.
            control.fail_next(1, Fault::Delay(rng.ms(2600, 3000)));
            (1, 0)
        }
        Kind::DenyHandshakeConcurrentLimit => {
            // Consumed by the next handshakes; force one.
            let n = rng.range(1, 2);
            control.fail_next(n as u32, Fault::DenyHandshakeConcurrentLimit);
            (n, control.drop_sessions(DropAdvice::Handshake))
        }
        Kind::ServerTooBusy => {
            let n = rng.range(1, 2);
            control.fail_next(n as u32, Fault::ServerTooBusy);
            (n, 0)
        }
        // Consumed by the next long-poll response that carries events.
        Kind::CutAfterDelivery => {
            control.fail_next(1, Fault::CutAfterDelivery);
            (1, 0)
        }
        Kind::ResetAfterDelivery => {
            control.fail_next(1, Fault::ResetAfterDelivery);
            (1, 0)
        }
        Kind::HoldAfterDelivery => {
            // Past the long poll's deadline (0.4 s + 2 s).
            control.fail_next(1, Fault::HoldAfterDelivery(rng.ms(2600, 3000)));
            (1, 0)
        }
    }
}

/// Panics seen on threads that are not test threads, since the hook was installed.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// libtest names each test's thread after the test's path (`chaos_fast`, `module::case`); the
/// client's runtime threads, the emulator's and this case's helpers have other names
/// (`tokio-runtime-worker`, `chaos-publisher`) or none.
fn is_test_thread(name: Option<&str>) -> bool {
    name.is_some_and(|n| {
        n == "main"
            || n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
    })
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if !is_test_thread(thread.name()) {
                let entry = format!("thread {:?}: {info}", thread.name().unwrap_or("<unnamed>"));
                PANICS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(entry);
            }
            previous(info);
        }));
    });
}

fn panics_so_far() -> usize {
    PANICS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .len()
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim().replace('_', "");
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={text:?} is not a number: {e}")))
}

/// What the consumer saw.
#[derive(Debug, Default)]
struct Consumer {
    seen: BTreeSet<(String, i64)>,
    receives: u64,
    duplicates: u64,
    /// Per channel: (committed id, committed id before the latest commit).
    committed: BTreeMap<String, (i64, Option<i64>)>,
    window_violations: Vec<String>,
    connection_lost_reports: u64,
    other_errors: Vec<String>,
    since_commit: usize,
}

impl Consumer {
    fn commit_mark(&mut self, channel: &str, id: i64) {
        match self.committed.get_mut(channel) {
            Some((c, prev)) if id > *c => {
                *prev = Some(*c);
                *c = id;
            }
            Some(_) => {}
            None => {
                self.committed.insert(channel.to_owned(), (id, None));
            }
        }
    }
}

/// The counts of a run, printed at the end.
#[derive(Debug)]
struct Report {
    flavor: &'static str,
    seed: u64,
    events: usize,
    injected: BTreeMap<Kind, u64>,
    queued_request_faults: u64,
    sessions_ended: usize,
    publish_time: Duration,
    total_time: Duration,
}

/// The fast chaos run (1,000 events unless `SFSTREAM_CHAOS_EVENTS` says otherwise). The full run
/// is `SFSTREAM_CHAOS_EVENTS=10000 cargo test -p sfstream-tests --test tokio chaos_fast --
/// --nocapture`.
pub fn chaos_fast(f: &dyn Flavor) {
    let events = env_number("SFSTREAM_CHAOS_EVENTS").map_or(DEFAULT_EVENTS, |n| n as usize);
    let seed = env_number("SFSTREAM_CHAOS_SEED").unwrap_or(DEFAULT_SEED);
    chaos_run(f, events, seed);
}

/// Streams `events` events (plus a short history) under chaos with `seed`; see the module docs.
pub fn chaos_run(f: &dyn Flavor, events: usize, seed: u64) {
    install_panic_hook();
    let panics_before = panics_so_far();
    let started = Instant::now();
    let name = f.name();
    let emu = Emu::start_with(|b| b.seed(seed));
    let mut rng = Rng::new(seed);

    // History for the invalid-replay-id fallback: published before the client exists.
    let history = emu
        .control
        .publish_generated(CHANNELS[0], HISTORY)
        .expect("publish the history");
    let stale = history.last().copied().unwrap_or(0) + 1_000_000;
    let store = Arc::new(MemoryStore::with_ids([(CHANNELS[0], stale)]));

    let mut setup = Setup::new(&emu)
        .store(store.clone() as Arc<dyn ReplayStore>)
        .fallback(ReplayFallback::All)
        .commit(CommitPolicy::Manual)
        .max_pending(MAX_PENDING);
    // Channels without a stored id replay what is retained: nothing published is out of reach.
    setup.config.replay = ReplayFrom::All;
    setup.config.request_timeout = REQUEST_TIMEOUT;
    setup.config.max_poll_delay = MAX_POLL_DELAY;
    setup.config.max_pending_bytes = MAX_PENDING_BYTES;
    setup.config.seed = Some(seed);
    let client = f.client(setup);
    for c in CHANNELS {
        client
            .subscribe(c)
            .unwrap_or_else(|e| panic!("[{name}] subscribe {c}: {e}"));
    }
    client
        .open()
        .unwrap_or_else(|e| panic!("[{name}] open: {e}"));

    emu.control
        .chaos_with(
            ChaosConfig::new(CHAOS_RATE, seed ^ 0x000c_4a05)
                .mix(ChaosMix::all())
                .max_delay(MAX_DELAY)
                .hold(CHAOS_HOLD),
        )
        .expect("chaos mode");

    let publishing = Arc::new(AtomicBool::new(true));
    let publisher = {
        let control = emu.control.clone();
        let publishing = publishing.clone();
        let mut rng = Rng::new(rng.next());
        std::thread::Builder::new()
            .name("chaos-publisher".into())
            .spawn(move || {
                let mut published: Vec<(String, i64)> = Vec::with_capacity(events);
                while published.len() < events {
                    let n = (rng.range(1, 10) as usize).min(events - published.len());
                    let channel = CHANNELS[rng.range(0, 2) as usize];
                    let ids = control
                        .publish_generated(channel, n)
                        .expect("publish under chaos");
                    published.extend(ids.into_iter().map(|id| (channel.to_owned(), id)));
                    std::thread::sleep(rng.ms(10, 80));
                }
                publishing.store(false, Ordering::SeqCst);
                published
            })
            .expect("spawn the publisher")
    };
    let faulter = {
        let control = emu.control.clone();
        let publishing = publishing.clone();
        let mut rng = Rng::new(rng.next());
        std::thread::Builder::new()
            .name("chaos-faults".into())
            .spawn(move || {
                let mut injected: BTreeMap<Kind, u64> = BTreeMap::new();
                let mut queued = 0;
                let mut ended = 0;
                let mut rounds = 0;
                // At least one full round, then until the publisher is done.
                while rounds == 0 || publishing.load(Ordering::SeqCst) {
                    let mut round = KINDS;
                    // Fisher–Yates with the seeded generator.
                    for i in (1..round.len()).rev() {
                        round.swap(i, rng.range(0, i as u64) as usize);
                    }
                    for kind in round {
                        std::thread::sleep(rng.ms(250, 800));
                        if rounds > 0 && !publishing.load(Ordering::SeqCst) {
                            break;
                        }
                        let (q, e) = inject(&control, kind, &mut rng);
                        queued += q;
                        ended += e;
                        *injected.entry(kind).or_default() += 1;
                    }
                    rounds += 1;
                    // A quiet moment between rounds: every recovery from a broken response costs
                    // a new session, whose requests meet the faults still queued; without a
                    // pause the supply of faults outpaces recovery and a long run stalls.
                    let pause = Instant::now();
                    while pause.elapsed() < ROUND_PAUSE && publishing.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                (injected, queued, ended)
            })
            .expect("spawn the fault thread")
    };

    // Consume while the others run.
    let mut consumer = Consumer::default();
    // A stall (no new event for STALL) fails the run; slow progress does not, within a bound.
    let deadline = started + Duration::from_secs(120) + Duration::from_millis(100 * events as u64);
    let mut last_progress = Instant::now();
    let mut published: Option<BTreeSet<(String, i64)>> = None;
    let mut publisher = Some(publisher);
    let mut publish_time = Duration::ZERO;
    let mut pause_in = rng.range(50, 200);
    loop {
        if published.is_none() && publisher.as_ref().is_some_and(|p| p.is_finished()) {
            let list = publisher
                .take()
                .map(|p| p.join().expect("the publisher did not panic"))
                .unwrap_or_default();
            publish_time = started.elapsed();
            let mut set: BTreeSet<(String, i64)> = list.into_iter().collect();
            set.extend(history.iter().map(|id| (CHANNELS[0].to_owned(), *id)));
            published = Some(set);
        }
        if let Some(want) = &published {
            if want.is_subset(&consumer.seen) {
                break;
            }
        }
        if Instant::now() > deadline || last_progress.elapsed() > STALL {
            let missing = published.as_ref().map_or_else(
                || "the publisher did not finish".to_owned(),
                |want| {
                    let m: Vec<_> = want.difference(&consumer.seen).take(20).collect();
                    format!(
                        "{} missing, first {m:?}",
                        want.difference(&consumer.seen).count()
                    )
                },
            );
            publishing.store(false, Ordering::SeqCst);
            let server_view: Vec<String> = emu
                .control
                .stats()
                .clients
                .iter()
                .filter(|(_, c)| c.active)
                .map(|(id, c)| {
                    format!(
                        "{id}: subscriptions {:?}, last delivered {:?}",
                        c.subscriptions, c.last_replay_ids
                    )
                })
                .collect();
            panic!(
                "[{name}] chaos seed {seed:#x}: not every event arrived ({} distinct delivered, the \
                 last new one {:.1?} ago, {:.1?} since the start): {missing}; \
                 client stats {:?}; emulator {:?}; the emulator's live sessions: {server_view:?}; \
                 errors received: {:?}",
                consumer.seen.len(),
                last_progress.elapsed(),
                started.elapsed(),
                client.stats(),
                emu.control.stats().totals,
                consumer.other_errors
            );
        }
        pause_in -= 1;
        if pause_in == 0 {
            // A slow moment: the long poll waits, then the queue fills and overflows.
            std::thread::sleep(rng.ms(100, 400));
            pause_in = rng.range(50, 200);
        }
        match client.receive_timeout(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                consumer.receives += 1;
                let channel = m.channel().to_owned();
                let Some(id) = m.replay_id() else {
                    panic!("[{name}] an event without a replay id on {channel}");
                };
                if consumer.seen.insert((channel.clone(), id)) {
                    last_progress = Instant::now();
                } else {
                    consumer.duplicates += 1;
                    let floor = consumer.committed.get(&channel).and_then(|(_, prev)| *prev);
                    if let Some(floor) = floor.filter(|floor| id <= *floor) {
                        consumer.window_violations.push(format!(
                            "{channel} {id} re-delivered after {floor} was committed"
                        ));
                    }
                }
                consumer.since_commit += 1;
                if consumer.since_commit >= COMMIT_EVERY {
                    consumer.since_commit = 0;
                    client
                        .commit(&m)
                        .unwrap_or_else(|e| panic!("[{name}] commit: {e}"));
                    consumer.commit_mark(&channel, id);
                }
            }
            Some(Err(e)) if e.is_connection_lost() => consumer.connection_lost_reports += 1,
            Some(Err(e)) if e.is_closed() => panic!(
                "[{name}] chaos seed {seed:#x}: the client ended under chaos; earlier errors: {:?}",
                consumer.other_errors
            ),
            Some(Err(e)) => consumer.other_errors.push(e.to_string()),
            None => {}
        }
    }
    let (injected, queued_request_faults, sessions_ended) =
        faulter.join().expect("the fault thread did not panic");
    emu.control.stop_chaos();
    emu.control.clear_faults();
    let published = published.unwrap_or_default();

    let client_stats = client.stats();
    client
        .close()
        .unwrap_or_else(|e| panic!("[{name}] close: {e}"));
    let stored = store.snapshot();
    let emu_stats = emu.control.stats();
    let total_time = started.elapsed();

    let report = Report {
        flavor: name,
        seed,
        events,
        injected,
        queued_request_faults,
        sessions_ended,
        publish_time,
        total_time,
    };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "[{}] chaos seed {:#x}: {} events (+{HISTORY} before start through the stale-id fallback)",
        report.flavor, report.seed, report.events
    );
    let _ = writeln!(
        text,
        "  published {}, delivered {} distinct in {} receives, duplicates {} (all within the \
         uncommitted window: {}), lost {}",
        published.len(),
        consumer.seen.len(),
        consumer.receives,
        consumer.duplicates,
        consumer.window_violations.is_empty(),
        published.difference(&consumer.seen).count()
    );
    let _ = writeln!(
        text,
        "  fault thread injected {:?} ({} request faults queued, {} live sessions ended)",
        report.injected, report.queued_request_faults, report.sessions_ended
    );
    let _ = writeln!(
        text,
        "  emulator: {} faults injected (chaos rate {CHAOS_RATE} + queued), {} broken responses \
         taking {} events, {} handshakes, {} connects, {} token requests, {} error replies",
        emu_stats.totals.faults_injected,
        emu_stats.totals.broken_responses,
        emu_stats.totals.events_lost_in_broken_responses,
        emu_stats.totals.handshakes,
        emu_stats.totals.connects,
        emu_stats.totals.token_requests,
        emu_stats.totals.errors_sent
    );
    let _ = writeln!(
        text,
        "  emulator faults by kind (chaos draws, and the fault thread's queued faults): {:?}",
        emu_stats.totals.faults_by_kind
    );
    let _ = writeln!(
        text,
        "  client: {} handshakes, {} re-authentications, {} sessions lost, {} connects, {} \
         received, {} delivered, {} dropped for re-fetch, {} re-fetches, {} broken long polls, \
         {} polls held back ({} past the limit), {} connection-lost reports, other errors {:?}",
        client_stats.handshakes,
        client_stats.reauthentications,
        client_stats.sessions_lost,
        client_stats.connects,
        client_stats.messages_received,
        client_stats.messages_delivered,
        client_stats.dropped_for_refetch,
        client_stats.refetches,
        client_stats.broken_long_polls,
        client_stats.polls_held_back,
        client_stats.polls_past_delay_limit,
        consumer.connection_lost_reports,
        consumer.other_errors
    );
    let _ = writeln!(
        text,
        "  time: published in {:.1?}, all delivered and closed in {:.1?}",
        report.publish_time, report.total_time
    );
    eprint!("{text}");

    // The assertions.
    let new_panics: Vec<String> = PANICS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)[panics_before..]
        .to_vec();
    assert!(
        new_panics.is_empty(),
        "[{name}] chaos seed {seed:#x}: panics: {new_panics:#?}\n{text}"
    );
    assert_eq!(
        consumer.seen, published,
        "[{name}] chaos seed {seed:#x}: delivered set differs from published set\n{text}"
    );
    assert!(
        consumer.window_violations.is_empty(),
        "[{name}] chaos seed {seed:#x}: duplicates outside the uncommitted window: {:?}\n{text}",
        consumer.window_violations
    );
    for (channel, (committed, _)) in &consumer.committed {
        assert_eq!(
            stored.get(channel),
            Some(committed),
            "[{name}] chaos seed {seed:#x}: the store holds the last committed id of {channel}\n{text}"
        );
    }
    assert!(
        stored.get(CHANNELS[0]) != Some(&stale),
        "[{name}] the stale replay id was replaced"
    );
    for kind in KINDS {
        assert!(
            report.injected.get(&kind).copied().unwrap_or(0) >= 1,
            "[{name}] chaos seed {seed:#x}: {kind:?} was never injected: stream more events\n{text}"
        );
    }
    assert!(
        emu_stats.totals.faults_injected > 0,
        "[{name}] faults were injected\n{text}"
    );
    // Session-level kinds are counted only when chaos draws them (the fault thread's calls are
    // not counted), so these show that the full mix reached the client's sessions.
    let drawn = |kind: ChaosKind| {
        emu_stats
            .totals
            .faults_by_kind
            .get(kind.name())
            .copied()
            .unwrap_or(0)
    };
    let session_kinds = [
        ChaosKind::RevokeToken,
        ChaosKind::DropSessionHandshake,
        ChaosKind::DropSessionNone,
        ChaosKind::PushDisconnectUnknownClient,
        ChaosKind::PushDisconnectAuthenticationInvalid,
        ChaosKind::Reroute,
    ];
    assert!(
        session_kinds.iter().map(|k| drawn(*k)).sum::<u64>() >= 1,
        "[{name}] chaos seed {seed:#x}: chaos drew no session-level fault\n{text}"
    );
    if events >= FULL_MIX_EVENTS {
        for kind in ChaosKind::ALL {
            assert!(
                drawn(kind) >= 1,
                "[{name}] chaos seed {seed:#x}: chaos never drew {} in {events} events\n{text}",
                kind.name()
            );
        }
    }
    assert!(
        client_stats.reauthentications >= 1 && client_stats.sessions_lost >= 1,
        "[{name}] the faults reached the client\n{text}"
    );
    assert!(
        emu_stats.totals.broken_responses >= 1 && client_stats.broken_long_polls >= 1,
        "[{name}] broken responses took events and the client saw them\n{text}"
    );
    assert!(
        consumer.other_errors.is_empty(),
        "[{name}] chaos seed {seed:#x}: errors other than connection-lost reports: {:?}\n{text}",
        consumer.other_errors
    );
}
