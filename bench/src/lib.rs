//! Shared pieces of the sfstream benchmarks: the emulator process, its control API, and what a
//! process measures about itself (CPU time, RSS).
//!
//! Every binary prints its result as one JSON line on standard output, so that scripts can
//! collect them (`compare.py` does).
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// The channel every benchmark streams from: a Platform Event channel the emulator creates.
pub const CHANNEL: &str = "/event/Order__e";

/// The emulator's password-flow credentials (its defaults), logging in at `base_url`.
#[must_use]
pub fn credentials(base_url: &str) -> sfstream_driver::Credentials {
    sfstream_driver::Credentials::Password {
        client_id: "emulator-client-id".into(),
        client_secret: sfstream_driver::Secret::new("emulator-client-secret"),
        username: "user@example.com".into(),
        password: sfstream_driver::Secret::new("passwordTOKEN"),
        login: sfstream_driver::LoginUrl::Custom(base_url.to_owned()),
    }
}

/// CPU time (user + system) of this process, all threads, from `/proc/self/stat`.
///
/// The kernel counts in clock ticks (10 ms): read it over runs of seconds, not milliseconds.
#[must_use]
pub fn cpu_time() -> CpuTime {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may contain spaces: count fields after its closing ')'.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ')': state is index 0, so utime (field 14) is index 11, stime (15) index 12.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let per_tick = 1.0 / clock_ticks_per_second();
    CpuTime {
        user: ticks(11) as f64 * per_tick,
        system: ticks(12) as f64 * per_tick,
    }
}

/// `sysconf(_SC_CLK_TCK)` without `unsafe`: 100 on Linux for x86 and ARM.
fn clock_ticks_per_second() -> f64 {
    100.0
}

/// CPU seconds spent by a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTime {
    /// In user mode.
    pub user: f64,
    /// In the kernel.
    pub system: f64,
}

impl CpuTime {
    /// User plus system.
    #[must_use]
    pub fn total(self) -> f64 {
        self.user + self.system
    }

    /// The time spent since `earlier`.
    #[must_use]
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
        }
    }
}

/// A field of `/proc/self/status` in bytes (`VmHWM` peak RSS, `VmRSS` current RSS).
#[must_use]
pub fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Context switches of this process so far, all threads: (voluntary, involuntary). Threads that
/// have ended are not counted.
#[must_use]
pub fn context_switches() -> (u64, u64) {
    let mut total = (0, 0);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return total;
    };
    for task in tasks.flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        total.0 += field("voluntary_ctxt_switches");
        total.1 += field("nonvoluntary_ctxt_switches");
    }
    total
}

/// Peak resident set size of this process, in bytes.
#[must_use]
pub fn peak_rss() -> u64 {
    status_bytes("VmHWM")
}

/// Current resident set size of this process, in bytes.
#[must_use]
pub fn current_rss() -> u64 {
    status_bytes("VmRSS")
}

/// The first line of `uptime`'s load averages (`/proc/loadavg`), to say how loaded the machine
/// was while a figure was taken.
#[must_use]
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// An emulator in its own process (`bench-emulator`, next to the running binary). It stops when
/// this value is dropped: its standard input closes.
#[derive(Debug)]
pub struct EmulatorProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl EmulatorProcess {
    /// Starts `bench-emulator` with these arguments and waits for its address.
    pub fn start(args: &[String]) -> Result<Self, String> {
        let exe = sibling("bench-emulator")?;
        let mut child = Command::new(&exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("emulator said {line:?}: {e}"))?;
        let base_url = v["base_url"]
            .as_str()
            .ok_or("emulator printed no base_url")?
            .to_owned();
        Ok(Self {
            child,
            stdin,
            base_url,
        })
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// A binary built next to the running one.
fn sibling(name: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = me.parent().ok_or("no parent directory")?;
    let path = dir.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: build it (cargo build --release --bins)",
            path.display()
        ))
    }
}

/// `POST {base}{path}` with a JSON body over plain HTTP/1.1 (the emulator's control API), with
/// no HTTP client library, so that no runtime is started in the measured process for it.
pub fn post_json(
    base_url: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let host = base_url
        .strip_prefix("http://")
        .ok_or("only http:// base URLs")?
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(host).map_err(|e| format!("{host}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(600)))
        .map_err(|e| e.to_string())?;
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let (head, payload) = response
        .split_once("\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("{path}: {head} {payload}"));
    }
    // The control API answers with Content-Length (no chunking) for small JSON bodies.
    serde_json::from_str(payload).map_err(|e| format!("{path}: {e}: {payload}"))
}

/// Queues `count` pre-serialised events of `payload_bytes` bytes of payload on the emulator for
/// the clients subscribed now (`publish_bulk`).
pub fn publish_bulk(
    base_url: &str,
    channel: &str,
    count: usize,
    payload_bytes: usize,
) -> Result<serde_json::Value, String> {
    post_json(
        base_url,
        "/_emulator/publish_bulk",
        &serde_json::json!({ "channel": channel, "count": count, "payload_size": payload_bytes }),
    )
}

/// Simple `--flag value` parsing.
#[derive(Debug, Default)]
pub struct Args {
    pairs: Vec<(String, String)>,
}

impl Args {
    /// Reads the process arguments as `--flag value` pairs.
    pub fn from_env() -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or(format!("expected --flag, got {flag:?}"))?;
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            pairs.push((name.to_owned(), value));
        }
        Ok(Self { pairs })
    }

    /// A string flag.
    #[must_use]
    pub fn string(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// A number flag, if given.
    pub fn optional_number(&self, name: &str) -> Result<Option<usize>, String> {
        self.string(name)
            .map(|v| {
                v.replace('_', "")
                    .parse()
                    .map_err(|_| format!("--{name}: {v:?} is not a number"))
            })
            .transpose()
    }

    /// A number flag, or `default`.
    pub fn number(&self, name: &str, default: usize) -> Result<usize, String> {
        match self.string(name) {
            None => Ok(default),
            Some(v) => v
                .replace('_', "")
                .parse()
                .map_err(|_| format!("--{name}: {v:?} is not a number")),
        }
    }

    /// Fails on a flag not in `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), String> {
        match self
            .pairs
            .iter()
            .find(|(n, _)| !known.contains(&n.as_str()))
        {
            Some((n, _)) => Err(format!(
                "unknown flag --{n}; known: --{}",
                known.join(", --")
            )),
            None => Ok(()),
        }
    }
}
