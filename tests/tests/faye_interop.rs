//! Interoperability with faye, a widely used Bayeux server that nobody here wrote.
//!
//! Each test starts `node tests/interop/faye/server.js` (faye from npm, pinned by its
//! `package-lock.json`), then drives one runtime's client in generic CometD mode through a whole
//! session: handshake, subscribe, receive messages published through faye, unsubscribe (and see
//! no more messages), disconnect — and checks faye's own log of that session.
//!
//! Needs Node.js and `npm ci --prefix tests/interop/faye` (the CI script runs it). Without
//! them the tests fail and say so; they never skip.
//!
//! Adding a runtime: implement [`BayeuxClient`] for its client (a few lines) and add one
//! `#[test]` line at the bottom.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sfstream_core::{EventKind, Message, Stats};
use sfstream_driver::Error;

/// A faye server in a child process; stopped (stdin closed, then killed) on drop.
struct Faye {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

impl Faye {
    fn start() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/faye");
        assert!(
            dir.join("node_modules/faye/package.json").is_file(),
            "faye is not installed: run `npm ci --prefix tests/interop/faye` first (the CI script \
             does); this test never skips"
        );
        let mut child = Command::new("node")
            .arg("server.js")
            .arg("0")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `node` (Node.js is needed for this test): {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the server's stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server's first line");
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("the faye server did not print its port: {line:?}"));
        Self { child, stdin, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/bayeux", self.port)
    }

    /// One HTTP/1.1 exchange with the server's helper routes; returns the JSON body.
    fn call(&self, method: &str, path: &str) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to faye");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("send the request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the response");
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "{method} {path}: {head}\n{body}"
        );
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body:?}"))
    }

    fn publish(&self, channel: &str, n: usize) {
        let answer = self.call("POST", &format!("/publish?channel={channel}&n={n}"));
        assert_eq!(answer["published"].as_u64(), Some(n as u64), "{answer}");
    }

    fn log(&self) -> Vec<Value> {
        match self.call("GET", "/log") {
            Value::Array(entries) => entries,
            other => panic!("the log is not an array: {other}"),
        }
    }
}

impl Drop for Faye {
    fn drop(&mut self) {
        // Closing stdin makes the server exit; kill it in case it did not.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the test needs of a client, the same on every runtime.
trait BayeuxClient {
    fn open(&self) -> Result<(), Error>;
    fn subscribe(&self, channel: &str) -> Result<(), Error>;
    fn unsubscribe(&self, channel: &str) -> Result<(), Error>;
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>>;
    fn subscriptions(&self) -> Vec<String>;
    fn close(&self) -> Result<(), Error>;
    fn stats(&self) -> Stats;
}

/// The tokio client, driven from the test thread with `block_on`.
struct TokioBayeux {
    rt: Arc<tokio::runtime::Runtime>,
    client: sfstream_tokio::Client,
}

impl TokioBayeux {
    fn new(url: &str) -> Self {
        let rt = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime"),
        );
        let client = {
            let _guard = rt.enter();
            sfstream_tokio::bayeux_client(url)
                .build()
                .expect("a valid configuration")
        };
        Self { rt, client }
    }
}

impl BayeuxClient for TokioBayeux {
    fn open(&self) -> Result<(), Error> {
        self.rt.block_on(self.client.open())
    }
    fn subscribe(&self, channel: &str) -> Result<(), Error> {
        self.rt.block_on(self.client.subscribe(channel))
    }
    fn unsubscribe(&self, channel: &str) -> Result<(), Error> {
        self.rt.block_on(self.client.unsubscribe(channel))
    }
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>> {
        self.rt.block_on(async {
            tokio::time::timeout(timeout, self.client.receive())
                .await
                .ok()
        })
    }
    fn subscriptions(&self) -> Vec<String> {
        self.client.subscriptions()
    }
    fn close(&self) -> Result<(), Error> {
        self.rt.block_on(self.client.close())
    }
    fn stats(&self) -> Stats {
        self.client.stats()
    }
}

/// The blocking client: its own calls.
struct BlockingBayeux(sfstream_blocking::Client);

impl BlockingBayeux {
    fn new(url: &str) -> Self {
        Self(
            sfstream_blocking::bayeux_client(url)
                .build()
                .expect("a valid configuration"),
        )
    }
}

impl BayeuxClient for BlockingBayeux {
    fn open(&self) -> Result<(), Error> {
        self.0.open()
    }
    fn subscribe(&self, channel: &str) -> Result<(), Error> {
        self.0.subscribe(channel)
    }
    fn unsubscribe(&self, channel: &str) -> Result<(), Error> {
        self.0.unsubscribe(channel)
    }
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>> {
        self.0.receive_timeout(timeout)
    }
    fn subscriptions(&self) -> Vec<String> {
        self.0.subscriptions()
    }
    fn close(&self) -> Result<(), Error> {
        self.0.close()
    }
    fn stats(&self) -> Stats {
        self.0.stats()
    }
}

/// The async-std client, driven with async-std's `block_on`.
struct AsyncStdBayeux(sfstream_async_std::Client);

impl AsyncStdBayeux {
    fn new(url: &str) -> Self {
        Self(
            sfstream_async_std::bayeux_client(url)
                .build()
                .expect("a valid configuration"),
        )
    }
}

impl BayeuxClient for AsyncStdBayeux {
    fn open(&self) -> Result<(), Error> {
        async_std::task::block_on(self.0.open())
    }
    fn subscribe(&self, channel: &str) -> Result<(), Error> {
        async_std::task::block_on(self.0.subscribe(channel))
    }
    fn unsubscribe(&self, channel: &str) -> Result<(), Error> {
        async_std::task::block_on(self.0.unsubscribe(channel))
    }
    fn receive_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>> {
        async_std::task::block_on(async_std::future::timeout(timeout, self.0.receive())).ok()
    }
    fn subscriptions(&self) -> Vec<String> {
        self.0.subscriptions()
    }
    fn close(&self) -> Result<(), Error> {
        async_std::task::block_on(self.0.close())
    }
    fn stats(&self) -> Stats {
        self.0.stats()
    }
}

const MESSAGES: usize = 5;

/// The whole session against faye, for one runtime.
fn interop(runtime: &str, make: impl FnOnce(&str) -> Box<dyn BayeuxClient>) {
    let faye = Faye::start();
    let channel = format!("/chat/{runtime}");
    let client = make(&faye.url());

    client
        .open()
        .unwrap_or_else(|e| panic!("[{runtime}] handshake with faye: {e}"));
    client
        .subscribe(&channel)
        .unwrap_or_else(|e| panic!("[{runtime}] subscribe {channel}: {e}"));
    assert_eq!(
        client.subscriptions(),
        vec![channel.clone()],
        "[{runtime}] faye confirmed the subscription"
    );

    faye.publish(&channel, MESSAGES);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = Vec::new();
    while got.len() < MESSAGES {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "[{runtime}] only {} of {MESSAGES} messages arrived: {got:?}",
            got.len()
        );
        match client.receive_timeout(left) {
            Some(Ok(m)) => {
                assert_eq!(m.channel(), channel, "[{runtime}] {}", m.raw_json());
                assert_eq!(
                    m.kind(),
                    EventKind::Bayeux,
                    "[{runtime}] a plain Bayeux message"
                );
                assert_eq!(m.replay_id(), None, "[{runtime}] no replay in Bayeux mode");
                let data = m.data().expect("the message's data");
                got.push((
                    data["seq"].as_u64(),
                    data["text"].as_str().map(str::to_owned),
                ));
            }
            Some(Err(e)) => panic!("[{runtime}] receive: {e}"),
            None => {}
        }
    }
    let want: Vec<_> = (1..=MESSAGES as u64)
        .map(|i| (Some(i), Some(format!("message {i}"))))
        .collect();
    assert_eq!(got, want, "[{runtime}] every message, in order, once");

    client
        .unsubscribe(&channel)
        .unwrap_or_else(|e| panic!("[{runtime}] unsubscribe: {e}"));
    assert!(
        client.subscriptions().is_empty(),
        "[{runtime}] no subscription left"
    );
    faye.publish(&channel, 2);
    // Longer than faye's 2 s long-poll hold: a message still routed to us would have come.
    match client.receive_timeout(Duration::from_millis(2500)) {
        None => {}
        Some(Ok(m)) => panic!(
            "[{runtime}] a message after unsubscribing: {}",
            m.raw_json()
        ),
        Some(Err(e)) => panic!("[{runtime}] receive after unsubscribing: {e}"),
    }

    let stats = client.stats();
    assert_eq!(stats.handshakes, 1, "[{runtime}] one handshake: {stats:?}");
    assert_eq!(
        stats.messages_delivered, MESSAGES as u64,
        "[{runtime}] {stats:?}"
    );
    client
        .close()
        .unwrap_or_else(|e| panic!("[{runtime}] disconnect: {e}"));
    assert!(
        matches!(client.receive_timeout(Duration::from_millis(200)), Some(Err(e)) if e.is_closed()),
        "[{runtime}] closed after the disconnect"
    );

    // faye's view of the same session.
    let log = faye.log();
    let ours = log
        .iter()
        .find(|e| e["event"] == "subscribe" && e["channel"] == channel.as_str())
        .and_then(|e| e["clientId"].as_str())
        .unwrap_or_else(|| panic!("[{runtime}] faye saw no subscription to {channel}: {log:?}"))
        .to_owned();
    let of_ours: Vec<String> = log
        .iter()
        .filter(|e| e["clientId"] == ours.as_str())
        .map(|e| {
            format!(
                "{} {}",
                e["event"].as_str().unwrap_or("?"),
                e["channel"].as_str().unwrap_or("")
            )
            .trim_end()
            .to_owned()
        })
        .collect();
    assert_eq!(
        of_ours,
        vec![
            "handshake".to_owned(),
            format!("subscribe {channel}"),
            format!("unsubscribe {channel}"),
            "disconnect".to_owned(),
        ],
        "[{runtime}] faye's log of the session"
    );
}

#[test]
fn tokio() {
    interop("tokio", |url| Box::new(TokioBayeux::new(url)));
}

#[test]
fn blocking() {
    interop("blocking", |url| Box::new(BlockingBayeux::new(url)));
}

#[test]
fn async_std() {
    interop("async-std", |url| Box::new(AsyncStdBayeux::new(url)));
}
