//! Shared by the CLI's end-to-end tests: an emulator on its own runtime thread, the binary with a
//! clean environment, and a bounded wait for it.
#![allow(
    dead_code,
    reason = "each test file uses a different part of this module"
)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The emulator the runtime conformance suite uses (its own tokio runtime, short timeouts).
pub(crate) use sfstream_tests::Emu;

/// What the CLI's tests need of an emulator besides the suite's.
pub(crate) trait EmuCli {
    /// The password-flow environment for this emulator.
    fn env(&self) -> Vec<(&'static str, String)>;
    /// `sfstream listen` against this emulator (password flow), arguments to be added.
    fn listen(&self) -> Command;
}

impl EmuCli for Emu {
    fn env(&self) -> Vec<(&'static str, String)> {
        let c = self.control.credentials();
        vec![
            ("SF_LOGIN_URL", self.base_url.clone()),
            ("SF_CLIENT_ID", c.client_id.clone()),
            ("SF_CLIENT_SECRET", c.client_secret.clone()),
            ("SF_USERNAME", c.username.clone()),
            ("SF_PASSWORD", format!("{}{}", c.password, c.security_token)),
        ]
    }

    fn listen(&self) -> Command {
        let mut cmd = sfstream();
        cmd.arg("listen").envs(self.env());
        cmd
    }
}

/// The binary, with no `SF_*`, `RUST_LOG` or `SFSTREAM_*` variables from the test's environment.
pub(crate) fn sfstream() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfstream"));
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("SF_") || k.starts_with("SFSTREAM_") || k == "RUST_LOG" {
            cmd.env_remove(&key);
        }
    }
    cmd.env("RUST_BACKTRACE", "1").stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to the end, failing the test if it takes longer than `limit`.
pub(crate) fn run(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    wait_output(child, limit)
}

/// Waits for a spawned child and collects what is left of its piped stdout and stderr (empty
/// for a pipe the caller already took).
pub(crate) fn wait_output(mut child: Child, limit: Duration) -> Output {
    let out = child.stdout.take();
    let err = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(mut out) = out {
            let _ = out.read_to_end(&mut b);
        }
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(mut err) = err {
            let _ = err.read_to_end(&mut b);
        }
        b
    });
    let status = wait_status(&mut child, limit);
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// Waits for the child to exit, killing it and failing the test after `limit`.
pub(crate) fn wait_status(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a signal by name (`TERM`, `INT`, `KILL`) with the `kill` command.
pub(crate) fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("the kill command runs")
        .success();
    assert!(ok, "kill -{name} failed");
}

/// The complete lines of stdout, parsed.
pub(crate) fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// `(channel, replayId)` of each line.
pub(crate) fn keys(lines: &[Value]) -> Vec<(String, i64)> {
    lines
        .iter()
        .map(|v| {
            (
                v["channel"].as_str().expect("channel").to_owned(),
                v["replayId"].as_i64().expect("replayId"),
            )
        })
        .collect()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that stderr is one clean failure message: no panic, no backtrace.
pub(crate) fn assert_clean_failure(output: &Output, code: i32) -> String {
    let err = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit code; stderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "a panic:\n{err}");
    assert!(
        !err.to_lowercase().contains("backtrace"),
        "a backtrace:\n{err}"
    );
    err
}

/// A fresh directory under the system temp dir.
pub(crate) fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sfstream-cli-tests-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The channels of a store file, checking its shape.
pub(crate) fn read_store(path: &std::path::Path) -> std::collections::BTreeMap<String, i64> {
    let text = std::fs::read_to_string(path).expect("the store file exists");
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the store file is not JSON ({e}):\n{text}"));
    assert_eq!(v["format"], "sfstream-replay-store", "{text}");
    assert_eq!(v["version"], 1, "{text}");
    v["channels"]
        .as_object()
        .unwrap_or_else(|| panic!("no channels object:\n{text}"))
        .iter()
        .map(|(k, id)| (k.clone(), id.as_i64().expect("an integer id")))
        .collect()
}

/// What `sfstream emulator` prints before it serves, up to `Press Ctrl-C to stop.`.
pub(crate) fn emulator_settings(out: &mut impl std::io::BufRead) -> String {
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !printed.contains("Press Ctrl-C to stop.") {
        assert!(Instant::now() < deadline, "no settings:\n{printed}");
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read") > 0, "{printed}");
        printed.push_str(&line);
    }
    printed
}

/// The value of the first printed line `  LABEL   value` (up to the next two spaces).
pub(crate) fn setting<'a>(printed: &'a str, label: &str) -> &'a str {
    printed
        .lines()
        .find_map(|l| l.strip_prefix(&format!("  {label} ")))
        .map(|rest| rest.trim_start().split("  ").next().unwrap_or_default())
        .unwrap_or_else(|| panic!("no `{label}` line:\n{printed}"))
}

/// `sfstream emulator ARGS…` with piped output, and the settings it printed.
pub(crate) fn start_emulator(
    args: &[&str],
) -> (Child, std::io::BufReader<std::process::ChildStdout>, String) {
    let mut child = sfstream()
        .arg("emulator")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let printed = emulator_settings(&mut out);
    (child, out, printed)
}

pub(crate) mod pubsub;
