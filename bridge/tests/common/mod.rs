//! Test harness: NATS servers on free loopback ports with JetStream in a temporary directory
//! (Debian's 2.9 and a current release, installed by `scripts/install-nats.sh`), the emulator
//! with several orgs, bridge configurations, and reading a stream back from its leader.
#![allow(dead_code, reason = "each test file uses a part of the harness")]
#![allow(unreachable_pub, reason = "a module of test files, public to them")]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use sfstream_emulator::{Emulator, Org};

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Debian's nats-server 2.9.x.
    Debian,
    /// The pinned current release (2.14.x).
    Current,
}

impl Version {
    pub const BOTH: [Version; 2] = [Version::Debian, Version::Current];

    pub fn binary(self) -> PathBuf {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (var, default) = match self {
            Version::Debian => ("NATS_SERVER_DEBIAN", PathBuf::from("/usr/sbin/nats-server")),
            Version::Current => (
                "NATS_SERVER_CURRENT",
                repo.join("bridge/.nats/venv/bin/nats-server"),
            ),
        };
        let path = std::env::var_os(var).map_or(default, PathBuf::from);
        assert!(
            path.exists(),
            "{} not found ({var}); run ./scripts/install-nats.sh (the test command does)",
            path.display()
        );
        path
    }
}

/// Logs of the code under test on the test's output (shown for failed tests), `RUST_LOG` or
/// warnings.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("sfstream_bridge=info,warn")
            }),
        )
        .with_test_writer()
        .try_init();
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One nats-server process.
pub struct Node {
    pub version: Version,
    pub port: u16,
    pub cluster_port: u16,
    pub dir: PathBuf,
    pub name: String,
    routes: Vec<u16>,
    child: Option<Child>,
}

impl Node {
    fn args(&self) -> Vec<String> {
        let mut a = vec![
            "-js".into(),
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            self.port.to_string(),
            "-sd".into(),
            self.dir.display().to_string(),
            "-n".into(),
            self.name.clone(),
        ];
        if !self.routes.is_empty() {
            a.push("--cluster_name".into());
            a.push("bridge-test".into());
            a.push("--cluster".into());
            a.push(format!("nats://127.0.0.1:{}", self.cluster_port));
            a.push("--routes".into());
            a.push(
                self.routes
                    .iter()
                    .map(|p| format!("nats://127.0.0.1:{p}"))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        a
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none());
        let log = std::fs::File::create(self.dir.with_extension("log")).expect("log file");
        let child = Command::new(self.version.binary())
            .args(self.args())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server {} did not listen",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One server or a cluster, with JetStream in a temporary directory.
pub struct Nats {
    pub nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

impl Nats {
    /// A single node (not started when `start` is false, to test an unreachable server).
    pub fn single(version: Version, start: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut node = Node {
            version,
            port: free_port(),
            cluster_port: 0,
            dir: dir.path().join("n0"),
            name: "n0".into(),
            routes: Vec::new(),
            child: None,
        };
        if start {
            node.start();
        }
        Self {
            nodes: vec![node],
            _dir: dir,
        }
    }

    /// Three nodes in one cluster.
    pub fn cluster(version: Version) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let cluster_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut nodes: Vec<Node> = (0..3)
            .map(|i| Node {
                version,
                port: free_port(),
                cluster_port: cluster_ports[i],
                dir: dir.path().join(format!("n{i}")),
                name: format!("n{i}"),
                routes: cluster_ports.clone(),
                child: None,
            })
            .collect();
        for n in &mut nodes {
            n.start();
        }
        Self { nodes, _dir: dir }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Node::url).collect()
    }

    pub async fn client(&self) -> async_nats::Client {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match async_nats::ConnectOptions::new()
                .connection_timeout(Duration::from_secs(2))
                .connect(self.urls())
                .await
            {
                Ok(c) => return c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "cannot connect to NATS: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// An emulator serving `orgs` orgs (the default one and `Org::numbered(2..)`), each with
/// `channels`.
pub async fn emulator(orgs: u32, channels: &[&str]) -> Emulator {
    (2..=orgs)
        .fold(Emulator::builder(), |b, n| b.org(Org::numbered(n)))
        .channels(channels.iter().copied())
        .long_poll_timeout(Duration::from_secs(5))
        .reconnect_deadline(Duration::from_secs(4))
        .seed(7)
        .start()
        .await
        .expect("emulator starts")
}

/// Writes the emulator's secrets (the same for every org) into files under `dir`, as a
/// deployment would mount them.
pub fn write_secrets(dir: &Path) {
    let d = sfstream_emulator::Credentials::default();
    std::fs::write(dir.join("client_secret"), &d.client_secret).expect("secret file");
    std::fs::write(
        dir.join("password"),
        format!("{}{}", d.password, d.security_token),
    )
    .expect("secret file");
}

/// A bridge configuration for every org of `emulator` with `channels`.
pub fn config_text(
    secrets: &Path,
    emulator: &Emulator,
    nats_urls: &[String],
    replicas: usize,
    replica_id: &str,
    channels: &[&str],
    lease_ttl: &str,
) -> String {
    let mut t = format!(
        "[bridge]\nreplica_id = \"{replica_id}\"\nlease_ttl = \"{lease_ttl}\"\n\n\
         [nats]\nservers = {nats_urls:?}\nack_timeout = \"2s\"\n\n\
         [stream]\nname = \"SF\"\nsubject_prefix = \"sf\"\nreplicas = {replicas}\nduplicate_window = \"2m\"\n"
    );
    for id in emulator.org_ids() {
        let c = emulator.control_for(&id).expect("org");
        let creds = c.credentials();
        t.push_str(&format!(
            "\n[[connection]]\nname = \"org-{id}\"\norg_id = \"{id}\"\nauth = \"password\"\n\
             login_url = \"{}\"\nclient_id = \"{}\"\nusername = \"{}\"\n\
             client_secret_file = \"{}/client_secret\"\npassword_file = \"{}/password\"\n",
            emulator.base_url(),
            creds.client_id,
            creds.username,
            secrets.display(),
            secrets.display()
        ));
        for ch in channels {
            t.push_str(&format!(
                "[[connection.channel]]\nname = \"{ch}\"\nstart = \"all\"\n"
            ));
        }
    }
    t
}

/// `text` with pipelined publishes, the opt-in (`nats.max_in_flight = n`); without it every
/// publish is fenced (the default).
pub fn pipelined(text: &str, n: usize) -> String {
    assert!(text.contains("[nats]\n"), "a [nats] table: {text}");
    text.replacen("[nats]\n", &format!("[nats]\nmax_in_flight = {n}\n"), 1)
}

pub fn parse(text: &str) -> sfstream_bridge::BridgeConfig {
    sfstream_bridge::config::parse(text, "test.toml", Path::new(".")).expect("valid config")
}

/// One stored message, as the tests look at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sequence: u64,
    pub subject: String,
    pub replay_id: i64,
    pub msg_id: String,
    pub body: serde_json::Value,
}

/// Every message of the stream, read by sequence from the leader, grouped by subject in order.
pub async fn read_stream(client: &async_nats::Client, name: &str) -> BTreeMap<String, Vec<Stored>> {
    let js = jetstream::new(client.clone());
    let mut stream = js.get_stream(name).await.expect("stream exists");
    let info = stream.info().await.expect("stream info");
    let (first, last) = (info.state.first_sequence, info.state.last_sequence);
    let mut out: BTreeMap<String, Vec<Stored>> = BTreeMap::new();
    for seq in first..=last {
        let m = match stream.get_raw_message(seq).await {
            Ok(m) => m,
            Err(e) if e.to_string().contains("no message found") => continue,
            Err(e) => panic!("cannot read message {seq}: {e}"),
        };
        let header = |k: &str| {
            m.headers
                .get(k)
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        let stored = Stored {
            sequence: m.sequence,
            subject: m.subject.to_string(),
            replay_id: header("Sfstream-Replay-Id")
                .parse()
                .expect("replay id header"),
            msg_id: header("Nats-Msg-Id"),
            body: serde_json::from_slice(&m.payload).expect("JSON body"),
        };
        out.entry(stored.subject.clone()).or_default().push(stored);
    }
    out
}

/// Waits until `f` holds, polling; panics with `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if f().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many messages the stream holds (0 if it does not exist).
pub async fn stream_len(client: &async_nats::Client, name: &str) -> u64 {
    let js = jetstream::new(client.clone());
    match js.get_stream(name).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Checks that every subject holds exactly `published` (replay ids per subject, in order).
pub fn assert_exactly(
    stored: &BTreeMap<String, Vec<Stored>>,
    published: &BTreeMap<String, Vec<i64>>,
) -> (usize, usize) {
    let mut lost = 0;
    let mut duplicates = 0;
    for (subject, ids) in published {
        let got: Vec<i64> = stored
            .get(subject)
            .map(|v| v.iter().map(|s| s.replay_id).collect())
            .unwrap_or_default();
        let got_set: std::collections::BTreeSet<i64> = got.iter().copied().collect();
        lost += ids.iter().filter(|i| !got_set.contains(i)).count();
        duplicates += got.len() - got_set.len();
        assert_eq!(
            &got, ids,
            "{subject}: the stream must hold exactly the published events, in order"
        );
    }
    for subject in stored.keys() {
        assert!(
            published.contains_key(subject),
            "unexpected subject {subject}"
        );
    }
    (lost, duplicates)
}
