//! `sfstream demo`: the emulator in this process, `sfstream listen` as a child process with a
//! file store, and the failures a listener must survive without losing an event: a graceful
//! restart, a dropped Bayeux session (`403::Unknown client`), and a `kill -9`.
//!
//! Every event the emulator publishes is checked off against the JSON lines the listeners print;
//! the summary counts what was published, received, printed twice and lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sfstream_emulator::{Control, DropAdvice, Emulator};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::args::DemoArgs;
use crate::exit::Failure;
use crate::output::write_stdout;

/// The four channels, one of each kind, with a label.
const CHANNELS: [(&str, &str); 4] = [
    ("/topic/AccountUpdates", "PushTopic"),
    ("/event/Order__e", "Platform Event"),
    ("/data/AccountChangeEvent", "Change Data Capture"),
    ("/u/notifications", "generic"),
];
/// The longest wait for a phase's events.
const PHASE_LIMIT: Duration = Duration::from_secs(30);

/// One `(channel, replay id)`.
type Key = (String, i64);

/// What the listeners printed.
#[derive(Default)]
struct Tally {
    /// How often each event was printed.
    seen: BTreeMap<Key, u32>,
    /// The first line printed for each channel, to show.
    samples: BTreeMap<String, String>,
    /// The listener runs that said they are listening.
    ready: BTreeSet<u32>,
}

/// Shared between the stdout readers and the demo.
#[derive(Default)]
struct Shared {
    tally: Mutex<Tally>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn say(text: impl AsRef<str>) {
    let mut line = text.as_ref().to_owned();
    line.push('\n');
    let _ = write_stdout(line.as_bytes());
}

/// Runs the demo; fails (exit 1) if an event was lost.
pub(crate) async fn run(args: DemoArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let n = usize::try_from(args.events).unwrap_or(12);
    let dir = std::env::temp_dir().join(format!("sfstream-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
    let store = dir.join("replay.json");
    let _ = std::fs::remove_file(&store);
    let emulator = Emulator::builder()
        .long_poll_timeout(Duration::from_millis(500))
        .reconnect_deadline(Duration::from_secs(3))
        .seed(2024)
        .start()
        .await
        .map_err(|e| Failure::other(format!("cannot start the emulator: {e}")))?;
    let control = emulator.control();
    let exe = std::env::current_exe()
        .map_err(|e| Failure::other(format!("cannot find this program's path: {e}")))?;

    say("sfstream demo");
    say(format!(
        "  A local Salesforce emulator runs at {} (in this process).",
        control.base_url()
    ));
    say("  `sfstream listen` runs as a child process, subscribed to one channel of each kind,");
    say(format!(
        "  with its replay ids in a file store: {}",
        store.display()
    ));
    say("  Lines marked │ are the listener's own status output (stderr).");

    let shared = Arc::new(Shared::default());
    let mut published: BTreeSet<Key> = BTreeSet::new();
    let mut runs = 0u32;
    let outcome = async {
        // 1. Stream a first mix of events.
        say("");
        say(format!(
            "1. Streaming: {} events on four channels (PushTopic, Platform Event, Change Data \
             Capture, generic)",
            4 * n
        ));
        let mut child = spawn_listener(&exe, &control, &store, &shared, &mut runs)?;
        published.extend(publish_mix(&control, 0, n)?);
        wait_all(&shared, &published, "phase 1").await?;
        say("   first event of each kind as printed on stdout:");
        for (channel, _) in CHANNELS {
            if let Some(line) = shared.lock().samples.get(channel) {
                say(format!("     {}", shorten(line, 150)));
            }
        }
        say(format!(
            "   received {}/{}",
            count_seen(&shared, &published),
            published.len()
        ));

        // 2. A graceful restart: SIGTERM, events published while nobody listens, start again.
        say("");
        say("2. Restart: SIGTERM the listener, publish while it is down, start it again");
        terminate(&mut child).await?;
        say(format!(
            "   the store after the graceful stop: {}",
            store_summary(&store)
        ));
        published.extend(publish_mix(&control, n, n)?);
        say(format!(
            "   published {} events while no listener ran",
            4 * n
        ));
        let mut child = spawn_listener(&exe, &control, &store, &shared, &mut runs)?;
        wait_all(&shared, &published, "phase 2").await?;
        say(format!(
            "   received {}/{}: the new listener resumed from the stored ids",
            count_seen(&shared, &published),
            published.len()
        ));

        // 3. The server drops the session: 403::Unknown client on the next long poll.
        say("");
        say("3. Dropped session: the server forgets the client (403::Unknown client) mid-stream");
        let before = control.stats().totals.handshakes;
        let mut burst = publish_mix(&control, 2 * n, n / 2)?;
        wait_any(&shared, &burst).await;
        let dropped = control.drop_sessions(DropAdvice::Handshake);
        say(format!("   dropped {dropped} session(s) on the server"));
        burst.extend(publish_mix(&control, 2 * n + n / 2, n - n / 2)?);
        published.extend(burst);
        wait_all(&shared, &published, "phase 3").await?;
        say(format!(
            "   received {}/{} after {} new handshake(s)",
            count_seen(&shared, &published),
            published.len(),
            control.stats().totals.handshakes - before
        ));

        // 4. A crash: kill -9 while events arrive, then start again from the store.
        say("");
        say("4. Crash: kill -9 the listener while events arrive, then start it again");
        let first_half = publish_mix(&control, 3 * n, n / 2)?;
        published.extend(first_half.iter().cloned());
        wait_all(&shared, &first_half.iter().cloned().collect(), "phase 4").await?;
        wait_stored(&store, &first_half).await;
        let second_half = publish_mix(&control, 3 * n + n / 2, n - n / 2)?;
        published.extend(second_half.iter().cloned());
        // Kill as soon as the listener printed one of the new events: it is mid-stream.
        wait_any(&shared, &second_half).await;
        let _ = child.start_kill();
        let _ = child.wait().await;
        let held = store_ids(&store);
        let reprinted: Vec<Key> = second_half
            .iter()
            .filter(|(ch, id)| {
                shared.lock().seen.contains_key(&(ch.clone(), *id))
                    && held.get(ch).is_none_or(|h| id > h)
            })
            .cloned()
            .collect();
        let beyond = reprinted.len();
        say(format!(
            "   killed after printing {beyond} event(s) the store did not hold yet; it holds: {}",
            store_summary(&store)
        ));
        let mut child = spawn_listener(&exe, &control, &store, &shared, &mut runs)?;
        wait_until(&shared, "phase 4", |t| {
            t.ready.contains(&runs)
                && published.iter().all(|k| t.seen.contains_key(k))
                && reprinted
                    .iter()
                    .all(|k| t.seen.get(k).is_some_and(|c| *c >= 2))
        })
        .await?;
        say(format!(
            "   received {}/{}: the events after the stored ids came again, none is missing",
            count_seen(&shared, &published),
            published.len()
        ));
        terminate(&mut child).await?;
        Ok::<(), Failure>(())
    }
    .await;

    let stats = control.stats();
    emulator.shutdown().await;
    let tally = shared.lock();
    let received = published
        .iter()
        .filter(|k| tally.seen.contains_key(*k))
        .count();
    let lost = published.len() - received;
    let duplicates: u32 = tally.seen.values().map(|c| c - 1).sum();
    drop(tally);
    say("");
    say("Summary");
    say(format!(
        "  published     {:>5}  ({} per channel on 4 channels)",
        published.len(),
        published.len() / 4
    ));
    say(format!("  received      {received:>5}  distinct events"));
    say(format!(
        "  duplicates    {duplicates:>5}  (printed before the kill -9 but not yet stored: printed again, \
         never lost)"
    ));
    say(format!("  lost          {lost:>5}"));
    say(format!(
        "  handshakes    {:>5}  (emulator count: one per listener start, one per dropped session)",
        stats.totals.handshakes
    ));
    say(format!(
        "  restarts      {:>5}  (one graceful, one after kill -9)",
        runs.saturating_sub(1)
    ));
    say(format!(
        "  time          {:>5.1}s",
        started.elapsed().as_secs_f64()
    ));
    if args.keep {
        say(format!("  kept          {}", dir.display()));
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome?;
    if lost > 0 {
        return Err(Failure::other(format!("{lost} events were lost")));
    }
    Ok(())
}

/// Publishes `n` events on each channel, numbered from `from`; returns their keys.
fn publish_mix(control: &Control, from: usize, n: usize) -> Result<Vec<Key>, Failure> {
    let mut keys = Vec::with_capacity(4 * n);
    for i in from..from + n {
        for (channel, _) in CHANNELS {
            let payload = match channel {
                "/topic/AccountUpdates" => json!({
                    "type": if i % 3 == 0 { "created" } else { "updated" },
                    "sobject": {"Name": format!("Acme Corp {i}"), "Industry": "Manufacturing"},
                }),
                "/event/Order__e" => json!({
                    "OrderNumber__c": format!("ORD-{i:04}"),
                    "Quantity__c": i % 7 + 1,
                }),
                "/data/AccountChangeEvent" => json!({
                    "Name": format!("Acme Corp {i}"),
                    "Rating": "Hot",
                }),
                _ => Value::String(format!("Shipment {i} left the warehouse")),
            };
            let id = control
                .publish(channel, payload)
                .map_err(|e| Failure::other(format!("publishing on {channel}: {e}")))?;
            keys.push((channel.to_owned(), id));
        }
    }
    Ok(keys)
}

/// Starts `sfstream listen` against the emulator with the file store.
fn spawn_listener(
    exe: &Path,
    control: &Control,
    store: &Path,
    shared: &Arc<Shared>,
    runs: &mut u32,
) -> Result<Child, Failure> {
    *runs += 1;
    let run = *runs;
    let c = control.credentials();
    let mut cmd = Command::new(exe);
    cmd.arg("listen")
        .arg("--replay=all")
        .arg("--store")
        .arg(store)
        .args(CHANNELS.iter().map(|(ch, _)| *ch));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SF_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG")
        .env("SFSTREAM_LOG_FORMAT", "human")
        .env("SF_LOGIN_URL", control.base_url())
        .env("SF_CLIENT_ID", &c.client_id)
        .env("SF_CLIENT_SECRET", &c.client_secret)
        .env("SF_USERNAME", &c.username)
        .env("SF_PASSWORD", format!("{}{}", c.password, c.security_token))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::other(format!("cannot start {}: {e}", exe.display())))?;
    say(format!(
        "   started listener {run} (pid {})",
        child.id().unwrap_or(0)
    ));
    if let Some(out) = child.stdout.take() {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let (Some(channel), Some(id)) = (v["channel"].as_str(), v["replayId"].as_i64())
                else {
                    continue;
                };
                {
                    let mut t = shared.lock();
                    *t.seen.entry((channel.to_owned(), id)).or_default() += 1;
                    t.samples.entry(channel.to_owned()).or_insert(line.clone());
                }
                shared.changed.notify_waiters();
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let text = line.strip_prefix("sfstream: ").unwrap_or(&line);
                if text.starts_with("listening on") {
                    shared.lock().ready.insert(run);
                    shared.changed.notify_waiters();
                }
                say(format!("     │ listener {run}: {}", shorten(text, 140)));
            }
        });
    }
    Ok(child)
}

/// Sends SIGTERM and waits for a clean exit.
async fn terminate(child: &mut Child) -> Result<(), Failure> {
    let Some(pid) = child.id() else {
        return Ok(());
    };
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    if !sent.is_ok_and(|s| s.success()) {
        let _ = child.start_kill();
    }
    match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
        Ok(Ok(status)) if status.success() => {
            say("   the listener exited with code 0 after disconnecting and flushing its store");
            Ok(())
        }
        Ok(Ok(status)) => Err(Failure::other(format!("the listener exited with {status}"))),
        Ok(Err(e)) => Err(Failure::other(format!("waiting for the listener: {e}"))),
        Err(_) => {
            let _ = child.start_kill();
            Err(Failure::other("the listener did not stop within 15s"))
        }
    }
}

/// Waits (at most 5 s) until the store holds, for each channel, the newest of `keys`.
async fn wait_stored(store: &Path, keys: &[Key]) {
    let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
    for (ch, id) in keys {
        let e = newest.entry(ch.as_str()).or_insert(*id);
        *e = (*e).max(*id);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let held = store_ids(store);
        if newest
            .iter()
            .all(|(ch, id)| held.get(*ch).is_some_and(|h| h >= id))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits (at most 5 s) until one key of `keys` was printed.
async fn wait_any(shared: &Shared, keys: &[Key]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if keys.iter().any(|k| shared.lock().seen.contains_key(k)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The store file's ids (empty if it cannot be read).
fn store_ids(path: &Path) -> BTreeMap<String, i64> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v["channels"].as_object().map(|m| {
                m.iter()
                    .filter_map(|(k, id)| id.as_i64().map(|id| (k.clone(), id)))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// Waits until every key of `want` was printed.
async fn wait_all(shared: &Shared, want: &BTreeSet<Key>, phase: &str) -> Result<(), Failure> {
    wait_until(shared, phase, |t| {
        want.iter().all(|k| t.seen.contains_key(k))
    })
    .await
}

/// Waits until `done` holds for what the listeners printed.
async fn wait_until(
    shared: &Shared,
    phase: &str,
    mut done: impl FnMut(&Tally) -> bool,
) -> Result<(), Failure> {
    let deadline = Instant::now() + PHASE_LIMIT;
    loop {
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        // Registered before the check, so a line printed in between still wakes us.
        changed.as_mut().enable();
        if done(&shared.lock()) {
            return Ok(());
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return Err(Failure::other(format!(
                "{phase}: the events did not arrive within {}s",
                PHASE_LIMIT.as_secs()
            )));
        }
    }
}

fn count_seen(shared: &Shared, want: &BTreeSet<Key>) -> usize {
    let t = shared.lock();
    want.iter().filter(|k| t.seen.contains_key(*k)).count()
}

/// The store file's channels, compactly.
fn store_summary(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return "(no file yet)".to_owned();
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => v["channels"].to_string(),
        Err(e) => format!("(unreadable: {e})"),
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
