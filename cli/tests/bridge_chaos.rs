//! `sfstream bridge` under fire: three replicas (processes), orgs × 2 channels on the emulator,
//! a three-node NATS cluster with stream replicas 3, events published all along; every replica
//! is `kill -9`ed in turn and restarted, one is frozen (SIGSTOP) past its leases and woken,
//! one NATS node is killed and brought back, Salesforce
//! sessions are dropped and tokens revoked. The stream must hold exactly the published set per
//! subject, in order: 0 lost, 0 duplicates; at steady state no org has more than one
//! Salesforce session. Fail-over times are printed. Each server runs twice: every publish
//! fenced (the default) and pipelined (`max_in_flight` 128, the opt-in).
//!
//! Small by default (4 orgs, 5,000 events) so CI stays fast; `SFSTREAM_BRIDGE_CHAOS_FULL=1`
//! runs 20 orgs and 50,000 events (figures in docs/RELIABILITY.md).

#[path = "../../bridge/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

const CHANNELS: [&str; 2] = ["/event/Order__e", "/data/AccountChangeEvent"];
const LEASE_TTL: Duration = Duration::from_secs(3);

struct Size {
    orgs: u32,
    events: usize,
}

fn size() -> Size {
    if std::env::var("SFSTREAM_BRIDGE_CHAOS_FULL").is_ok_and(|v| v == "1") {
        Size {
            orgs: 20,
            events: 50_000,
        }
    } else {
        Size {
            orgs: 4,
            events: 5_000,
        }
    }
}

/// One `sfstream bridge` process.
struct Replica {
    id: String,
    config: PathBuf,
    log: PathBuf,
    metrics_port: u16,
    child: Option<Child>,
    starts: u32,
}

impl Replica {
    fn start(&mut self) {
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_sfstream"))
            .args(["bridge", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "sfstream_bridge=info,warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sfstream bridge starts");
        self.child = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGSTOP or SIGCONT: a stalled process (a long GC pause, a frozen VM).
    fn signal(&self, signal: &str) {
        if let Some(c) = &self.child {
            let status = Command::new("kill")
                .arg(signal)
                .arg(c.id().to_string())
                .status();
            assert!(status.is_ok_and(|s| s.success()), "kill {signal}");
        }
    }

    fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = c.try_wait() {
                    assert!(status.success(), "{} exited with {status}", self.id);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            panic!("{} did not stop within 20 s of SIGTERM", self.id);
        }
    }

    /// The connections this replica owns and streams, from its `/metrics`.
    async fn streaming(&self, http: &reqwest::Client) -> Vec<String> {
        let Ok(r) = http
            .get(format!("http://127.0.0.1:{}/metrics", self.metrics_port))
            .timeout(Duration::from_secs(1))
            .send()
            .await
        else {
            return Vec::new();
        };
        let text = r.text().await.unwrap_or_default();
        let mut failed = Vec::new();
        for line in text.lines() {
            if line.starts_with("sfstream_bridge_connection_failed{") && line.ends_with(" 1") {
                failed.push(label(line, "connection"));
            }
        }
        text.lines()
            .filter(|l| l.starts_with("sfstream_bridge_lease_owned{") && l.ends_with(" 1"))
            .map(|l| label(l, "connection"))
            .filter(|c| !failed.contains(c))
            .collect()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn label(line: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    line.split(&key)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

async fn owners(replicas: &[Replica], http: &reqwest::Client) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in replicas.iter().filter(|r| r.child.is_some()) {
        for c in r.streaming(http).await {
            out.entry(c).or_default().push(r.id.clone());
        }
    }
    out
}

async fn all_owned_once(
    replicas: &[Replica],
    http: &reqwest::Client,
    connections: &[String],
    within: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        let o = owners(replicas, http).await;
        if connections
            .iter()
            .all(|c| o.get(c).is_some_and(|v| v.len() == 1))
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "connections not owned exactly once after {within:?}: {o:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// How the replicas write: every publish fenced (the default) or pipelined (the opt-in).
#[derive(Clone, Copy, Debug)]
enum Writes {
    Fenced,
    Pipelined(usize),
}

async fn run(version: Version, writes: Writes) {
    logs();
    let size = size();
    let mut nats = Nats::cluster(version);
    let emulator = emulator(size.orgs, &CHANNELS).await;
    let dir = tempfile::tempdir().expect("dir");
    write_secrets(dir.path());
    let connections: Vec<String> = emulator
        .org_ids()
        .iter()
        .map(|id| format!("org-{id}"))
        .collect();
    let mut replicas: Vec<Replica> = (1..=3)
        .map(|i| {
            let id = format!("r{i}");
            let port = free_port();
            let text = config_text(dir.path(), &emulator, &nats.urls(), 3, &id, &CHANNELS, "3s");
            let text = match writes {
                Writes::Fenced => text,
                Writes::Pipelined(n) => pipelined(&text, n),
            }
            .replace(
                "[nats]",
                &format!("metrics_listen = \"127.0.0.1:{port}\"\n\n[nats]"),
            );
            let config = dir.path().join(format!("{id}.toml"));
            std::fs::write(&config, text).expect("config");
            Replica {
                id: id.clone(),
                config,
                log: dir.path().join(format!("{id}.log")),
                metrics_port: port,
                child: None,
                starts: 0,
            }
        })
        .collect();
    for r in &mut replicas {
        r.start();
    }
    let http = reqwest::Client::new();
    let settle = Duration::from_secs(60);
    let first = all_owned_once(&replicas, &http, &connections, settle).await;
    eprintln!(
        "all {} connections owned after {first:?}",
        connections.len()
    );

    // Events all along: `size.events` over the orgs and channels, at a steady pace.
    let publishing = Arc::new(AtomicBool::new(true));
    let controls: Vec<_> = emulator
        .org_ids()
        .iter()
        .filter_map(|id| emulator.control_for(id))
        .collect();
    let publisher = {
        let controls = controls.clone();
        let publishing = publishing.clone();
        let per_round = controls.len() * CHANNELS.len();
        let rounds = size.events / per_round;
        tokio::spawn(async move {
            let mut published: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            // Spread over about 40 s, then keep publishing slowly until told to stop.
            let pace = Duration::from_millis(40_000 / rounds as u64);
            let mut round = 0;
            while round < rounds || publishing.load(Ordering::Relaxed) {
                for c in &controls {
                    for ch in CHANNELS {
                        let ids = c.publish_generated(ch, 1).expect("publish");
                        let subject = sfstream_bridge::subject::event_subject("sf", c.org_id(), ch)
                            .expect("subject");
                        published.entry(subject).or_default().extend(ids);
                    }
                }
                round += 1;
                tokio::time::sleep(if round < rounds {
                    pace
                } else {
                    Duration::from_millis(200)
                })
                .await;
            }
            published
        })
    };

    // kill -9 each replica in turn, and restart it.
    let mut failovers = Vec::new();
    for i in 0..replicas.len() {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let theirs = replicas[i].streaming(&http).await;
        let killed_at = Instant::now();
        replicas[i].kill9();
        // Salesforce trouble meanwhile: drop one org's sessions, revoke another's tokens.
        controls[i % controls.len()].drop_sessions(sfstream_emulator::DropAdvice::Handshake);
        controls[(i + 1) % controls.len()].revoke_tokens();
        loop {
            let o = owners(&replicas, &http).await;
            if theirs
                .iter()
                .all(|c| o.get(c).is_some_and(|v| v.len() == 1))
            {
                break;
            }
            assert!(
                killed_at.elapsed() < Duration::from_secs(60),
                "no takeover of {theirs:?}: {o:?}\n{}",
                tail(&replicas[(i + 1) % 3].log)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = killed_at.elapsed();
        eprintln!(
            "kill -9 {}: its {} connection(s) taken over after {took:?}",
            replicas[i].id,
            theirs.len()
        );
        failovers.push(took);
        replicas[i].start();
        all_owned_once(&replicas, &http, &connections, settle).await;
    }

    // A stalled owner: frozen past its leases, its connections move; when it wakes up it must
    // not write a stale event (every write names the sequence it extends).
    let frozen = replicas[0].streaming(&http).await;
    replicas[0].signal("-STOP");
    let stalled_at = Instant::now();
    loop {
        let o = owners(&replicas[1..], &http).await;
        if frozen
            .iter()
            .all(|c| o.get(c).is_some_and(|v| v.len() == 1))
        {
            break;
        }
        assert!(
            stalled_at.elapsed() < Duration::from_secs(60),
            "no takeover from the stalled replica: {o:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "stalled {}: its {} connection(s) taken over after {:?}",
        replicas[0].id,
        frozen.len(),
        stalled_at.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    replicas[0].signal("-CONT");
    all_owned_once(&replicas, &http, &connections, settle).await;

    // One NATS node down and back.
    nats.nodes[1].kill();
    tokio::time::sleep(Duration::from_secs(5)).await;
    nats.nodes[1].start();
    all_owned_once(&replicas, &http, &connections, Duration::from_secs(120)).await;

    // Steady state: one Salesforce session per org.
    tokio::time::sleep(Duration::from_secs(6)).await;
    all_owned_once(&replicas, &http, &connections, Duration::from_secs(60)).await;
    for c in &controls {
        c.reset_max_active_sessions();
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for c in &controls {
        let totals = c.stats().totals;
        assert!(
            totals.max_active_sessions <= 1,
            "{}: {} Salesforce sessions at steady state",
            c.org_id(),
            totals.max_active_sessions
        );
    }

    publishing.store(false, Ordering::Relaxed);
    let published = publisher.await.expect("publisher");
    let want: u64 = published.values().map(|v| v.len() as u64).sum();
    let client = nats.client().await;
    let waited = Instant::now();
    loop {
        let n = stream_len(&client, "SF").await;
        if n >= want {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "{n} of {want} stored\n{}",
            tail(&replicas[0].log)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for r in &mut replicas {
        r.terminate();
    }
    let stored = read_stream(&client, "SF").await;
    let (lost, duplicates) = assert_exactly(&stored, &published);
    let worst = failovers.iter().max().copied().unwrap_or_default();
    eprintln!(
        "{version:?}, {writes:?}: {} orgs × {} channels, {want} events: {lost} lost, {duplicates} duplicates; \
         fail-over after kill -9: {failovers:?} (worst {worst:?}, target {:?})",
        size.orgs,
        CHANNELS.len(),
        LEASE_TTL + Duration::from_secs(2)
    );
    assert_eq!((lost, duplicates), (0, 0));
    assert_eq!(
        want as usize,
        published.values().map(Vec::len).sum::<usize>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_survive_kills_on_nats_current() {
    run(Version::Current, Writes::Fenced).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_survive_kills_on_nats_2_9() {
    run(Version::Debian, Writes::Fenced).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_survive_kills_pipelined_on_nats_current() {
    run(Version::Current, Writes::Pipelined(128)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_survive_kills_pipelined_on_nats_2_9() {
    run(Version::Debian, Writes::Pipelined(128)).await;
}
