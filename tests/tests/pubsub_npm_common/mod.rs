//! What the tests with the npm `salesforce-pubsub-api-client` share: the npm client in a child
//! process, the emulator over TLS (the npm client speaks gRPC over TLS only), and sfstream's tokio
//! client in a child process of its own for the tests of the two clients against each other.
//!
//! sfstream's client trusts the emulator's generated certificate the way an application would:
//! through the trust store the platform's verifier reads, named by `SSL_CERT_FILE`. That variable
//! is read once per process, so the client runs in a child: this test binary again, running one
//! `#[ignore]`d test with `SSL_CERT_FILE` and the emulator's address in its environment. The
//! child prints what happens as JSON lines (`{"event":…}`) among libtest's own lines.
#![allow(dead_code, reason = "each test file uses a part of the harness")]
#![allow(unreachable_pub, reason = "a module shared by test crates")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tests::interop::LineClient;

pub const ORDERS: &str = "/event/Order__e";
/// How long a client may take to do what the test expects.
pub const WAIT: Duration = Duration::from_secs(30);

const URL_VAR: &str = "SFSTREAM_TEST_NPM_PUBSUB_URL";
const TOKEN_VAR: &str = "SFSTREAM_TEST_NPM_PUBSUB_TOKEN";
const ORG_VAR: &str = "SFSTREAM_TEST_NPM_PUBSUB_ORG";

/// The emulator over TLS with its certificate written to a fresh directory, and that directory
/// (removed on drop).
pub struct TlsEmulator {
    pub emulator: PubSubEmulator,
    dir: PathBuf,
}

impl TlsEmulator {
    pub fn cert(&self) -> PathBuf {
        self.dir.join("emulator.pem")
    }
}

impl Drop for TlsEmulator {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the emulator over TLS; keepalives every 200 ms so that subscribers announce
/// themselves quickly.
pub fn start_tls(runtime: &tokio::runtime::Runtime, name: &str) -> TlsEmulator {
    let dir = std::env::temp_dir().join(format!("sfstream-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let emulator = runtime
        .block_on(
            PubSubEmulator::builder()
                .tls_cert_path(dir.join("emulator.pem"))
                .keepalive(Duration::from_millis(200))
                .seed(18)
                .start(),
        )
        .expect("the emulator starts");
    assert!(
        emulator.url().starts_with("https://localhost:"),
        "{}",
        emulator.url()
    );
    TlsEmulator { emulator, dir }
}

fn npm_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/pubsub-npm");
    assert!(
        dir.join("node_modules/salesforce-pubsub-api-client/package.json")
            .is_file(),
        "salesforce-pubsub-api-client is not installed: run `npm ci --prefix \
         tests/interop/pubsub-npm` first (the test command does); this test never skips"
    );
    dir
}

/// `node client.mjs ENDPOINT INSTANCE_URL TENANT TOKEN MODE ARGS…` (see its header).
pub fn npm_client(emulator: &PubSubEmulator, mode: &str, args: &[String]) -> LineClient {
    let port = emulator.addr().port();
    let mut all = vec![
        "client.mjs".to_owned(),
        format!("localhost:{port}"),
        format!("https://localhost:{port}"),
        emulator.org_id().to_owned(),
        emulator.access_token().to_owned(),
        mode.to_owned(),
    ];
    all.extend_from_slice(args);
    LineClient::start(
        "salesforce-pubsub-api-client",
        &npm_dir(),
        "node",
        &all,
        "Node.js is needed for this test",
    )
}

/// The next `n` lines of `client` whose `event` is `kind`, in order.
pub fn lines_of(client: &LineClient, kind: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    while got.len() < n {
        let line = client
            .next(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|| panic!("only {} of {n} {kind} lines: {got:#?}", got.len()));
        if line["event"] == kind {
            got.push(line);
        }
    }
    got
}

/// This test binary again, running the ignored test `name` as sfstream's client of `emulator`,
/// trusting its certificate through `SSL_CERT_FILE`.
pub struct SfstreamChild {
    child: Child,
    lines: Receiver<Value>,
    /// libtest's and the child's other lines, for failure messages.
    other: Receiver<String>,
    reader: Option<JoinHandle<()>>,
}

impl SfstreamChild {
    pub fn start(tls: &TlsEmulator, name: &str, extra_env: &[(&str, String)]) -> Self {
        let e = &tls.emulator;
        let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
        cmd.args([name, "--exact", "--ignored", "--nocapture"])
            .env("SSL_CERT_FILE", tls.cert())
            .env_remove("SSL_CERT_DIR")
            .env(URL_VAR, e.url())
            .env(TOKEN_VAR, e.access_token())
            .env(ORG_VAR, e.org_id())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the child test starts");
        let stdout = child.stdout.take().expect("the child's stdout");
        let (tx, lines) = channel();
        let (other_tx, other) = channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) if v.get("event").is_some() => {
                        let _ = tx.send(v);
                    }
                    _ => {
                        let _ = other_tx.send(line);
                    }
                }
            }
        });
        Self {
            child,
            lines,
            other,
            reader: Some(reader),
        }
    }

    fn others(&self) -> String {
        self.other.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// The next `n` lines whose `event` is `kind`.
    pub fn lines_of(&self, kind: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        let mut got = Vec::new();
        while got.len() < n {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line["event"] == kind => got.push(line),
                Ok(line) => assert!(line["event"] != "fatal", "[sfstream child] {line}"),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "[sfstream child] only {} of {n} {kind} lines: {got:#?}\n{}",
                    got.len(),
                    self.others()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "[sfstream child] exited after {} of {n} {kind} lines: {got:#?}\n{}",
                    got.len(),
                    self.others()
                ),
            }
        }
        got
    }

    /// Waits for the child to exit and checks that its test passed.
    pub fn passed(mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                // Its output is all read once the reader has seen the end of it.
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                let others = self.others();
                assert!(
                    status.success() && others.contains("1 passed"),
                    "[sfstream child] failed ({status}):\n{others}"
                );
                return;
            }
            assert!(Instant::now() < deadline, "[sfstream child] did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SfstreamChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In the child: the emulator's URL, token and org id, set by [`SfstreamChild::start`].
pub fn child_env() -> (String, String, String) {
    let var = |name: &str| std::env::var(name).expect("run by the parent test");
    (var(URL_VAR), var(TOKEN_VAR), var(ORG_VAR))
}

/// In the child: prints one JSON line for the parent.
pub fn say(line: &Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
