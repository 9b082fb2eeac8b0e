//! Third-party clients against the emulator: a client program in a child process (jsforce on
//! Node.js, aiosfstream on Python) that prints what happens as JSON lines on stdout, and the
//! checks the interoperability tests share.
//!
//! The lines a client prints: `{"event":"subscribed","channel":…}`,
//! `{"event":"message","channel":…,"replayId":…}`, and any others (`login`, `handshake`) the
//! tests may look at. `fatal`, `subscribe_failed` and lines that are not JSON fail the test.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Emu;

/// How long a client may take to subscribe or to receive what the test expects.
const WAIT: Duration = Duration::from_secs(20);

/// The four kinds of channel: PushTopic, Platform Event, Change Data Capture, generic.
pub const CHANNELS: [&str; 4] = [
    "/topic/AccountUpdates",
    "/event/Order__e",
    "/data/ChangeEvents",
    "/u/notifications",
];

/// A client program in a child process; stopped (stdin closed, then killed) on drop.
pub struct LineClient {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    /// Messages that arrived while waiting for subscriptions (a replay comes at once).
    early: RefCell<VecDeque<Value>>,
}

impl LineClient {
    /// Runs `program args…` in `dir`. `name` appears in failure messages; `install` says how
    /// to install what is missing when the program cannot start.
    ///
    /// # Panics
    /// When the program cannot be started.
    #[must_use]
    pub fn start(name: &str, dir: &Path, program: &str, args: &[String], install: &str) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("[{name}] cannot run `{program}`: {e}; {install}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the client's stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({"event": "unparsed", "line": line}));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Self {
            name: name.to_owned(),
            child,
            stdin,
            lines,
            early: RefCell::new(VecDeque::new()),
        }
    }

    /// The next line, or `None` after `timeout`.
    ///
    /// # Panics
    /// On a `fatal`, `subscribe_failed` or unparsed line, or when the client exited.
    pub fn next(&self, timeout: Duration) -> Option<Value> {
        if let Some(line) = self.early.borrow_mut().pop_front() {
            return Some(line);
        }
        match self.lines.recv_timeout(timeout) {
            Ok(line) => {
                assert!(
                    !matches!(
                        line["event"].as_str(),
                        Some("fatal" | "subscribe_failed" | "unparsed")
                    ),
                    "[{}] {line}",
                    self.name
                );
                Some(line)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("[{}] the client exited", self.name),
        }
    }

    /// Waits until every channel is subscribed; returns the other lines seen meanwhile
    /// (messages stay queued for [`messages`](Self::messages)).
    ///
    /// # Panics
    /// When the subscriptions do not all succeed in time.
    pub fn subscribed(&self, channels: &[&str]) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        let mut early = VecDeque::new();
        let mut waiting: Vec<&str> = channels.to_vec();
        while !waiting.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .next(left)
                .unwrap_or_else(|| panic!("[{}] did not subscribe to {waiting:?}", self.name));
            match line["event"].as_str() {
                Some("subscribed") => waiting.retain(|c| line["channel"] != *c),
                Some("message") => early.push_back(line),
                _ => seen.push(line),
            }
        }
        *self.early.borrow_mut() = early;
        seen
    }

    /// Collects `n` messages as the client delivered them, grouped by channel in order.
    ///
    /// # Panics
    /// When fewer arrive in time, or one has no replay id.
    pub fn messages(&self, n: usize) -> BTreeMap<String, Vec<i64>> {
        let deadline = Instant::now() + WAIT;
        let mut got: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut count = 0;
        while count < n {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(line) = self.next(left) else {
                panic!(
                    "[{}] only {count} of {n} messages arrived: {got:?}",
                    self.name
                );
            };
            if line["event"] == "message" {
                let channel = line["channel"].as_str().unwrap_or_default().to_owned();
                let id = line["replayId"].as_i64().unwrap_or_else(|| {
                    panic!("[{}] a message without a replay id: {line}", self.name)
                });
                got.entry(channel).or_default().push(id);
                count += 1;
            }
        }
        got
    }

    /// Fails if a message arrives within `window`.
    ///
    /// # Panics
    /// When one does.
    pub fn no_more_messages(&self, window: Duration) {
        let deadline = Instant::now() + window;
        while let Some(line) = self.next(deadline.saturating_duration_since(Instant::now())) {
            assert!(
                line["event"] != "message",
                "[{}] one too many: {line}",
                self.name
            );
        }
    }

    /// Closes stdin and waits for the client to exit.
    ///
    /// # Panics
    /// When it does not within 5 s.
    pub fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("[{}] did not exit when its stdin closed", self.name);
    }
}

impl Drop for LineClient {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `n` events on every one of [`CHANNELS`], interleaved; the replay ids per channel.
#[must_use]
pub fn publish_round(emu: &Emu, n: usize) -> BTreeMap<String, Vec<i64>> {
    let mut ids: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for _ in 0..n {
        for ch in CHANNELS {
            ids.entry(ch.to_owned())
                .or_default()
                .extend(emu.publish(ch, 1));
        }
    }
    ids
}
