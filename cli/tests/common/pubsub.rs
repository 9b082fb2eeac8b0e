//! `sfstream emulator` with its Pub/Sub API, for the `--api pubsub` tests: the binary against
//! it over loopback h2c, and its control API (publish, stats) over HTTP/JSON.

use std::io::BufReader;
use std::process::{Child, ChildStdout, Command};
use std::time::Duration;

use serde_json::Value;

use super::{sfstream, signal, start_emulator, wait_status};

/// A running `sfstream emulator --port 0 --pubsub-port 0`, stopped on drop.
pub(crate) struct PubSubEmu {
    child: Child,
    _out: BufReader<ChildStdout>,
    /// The gRPC URL (`http://127.0.0.1:PORT`), which serves the control API too.
    pub(crate) url: String,
    env: Vec<(String, String)>,
}

impl PubSubEmu {
    pub(crate) fn start() -> Self {
        let (child, out, printed) = start_emulator(&["--port", "0", "--pubsub-port", "0"]);
        let url = super::setting(&printed, "gRPC URL").to_owned();
        let env = [
            "SF_LOGIN_URL",
            "SF_CLIENT_ID",
            "SF_CLIENT_SECRET",
            "SF_USERNAME",
            "SF_PASSWORD",
        ]
        .iter()
        .map(|name| {
            let value = printed
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("no {name}:\n{printed}"));
            ((*name).to_owned(), value.to_owned())
        })
        .collect();
        Self {
            child,
            _out: out,
            url,
            env,
        }
    }

    /// `sfstream SUBCOMMAND --api pubsub` with the password flow and `SF_PUBSUB_URL`.
    pub(crate) fn command(&self, subcommand: &str) -> Command {
        let mut cmd = sfstream();
        cmd.args([subcommand, "--api", "pubsub"])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("SF_PUBSUB_URL", &self.url);
        cmd
    }

    /// `sfstream listen --api pubsub`, arguments to be added.
    pub(crate) fn listen(&self) -> Command {
        self.command("listen")
    }

    /// Publishes `count` generated events through the control API; their replay ids (base64).
    pub(crate) fn publish(&self, topic: &str, count: u64) -> Vec<String> {
        let reply = self.control(
            "publish",
            Some(serde_json::json!({ "topic": topic, "count": count })),
        );
        reply["replay_ids"]
            .as_array()
            .unwrap_or_else(|| panic!("no replay_ids: {reply}"))
            .iter()
            .map(|id| id.as_str().expect("a base64 id").to_owned())
            .collect()
    }

    /// The emulator's statistics.
    pub(crate) fn stats(&self) -> Value {
        self.control("stats", None)
    }

    /// A topic's events requested by subscribers and not delivered yet (credits requested less
    /// events delivered, over the emulator's lifetime).
    pub(crate) fn outstanding(&self, topic: &str) -> i64 {
        let stats = self.stats();
        let t = &stats["topics"][topic];
        let requested = t["credits_requested"]
            .as_i64()
            .unwrap_or_else(|| panic!("{stats}"));
        let delivered = t["delivered"].as_i64().unwrap_or_else(|| panic!("{stats}"));
        requested - delivered
    }

    fn control(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_emulator/{path}", self.url);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let client = reqwest::Client::new();
            let request = match body {
                Some(b) => client
                    .post(url)
                    .header("Content-Type", "application/json")
                    .body(b.to_string()),
                None => client.get(url),
            };
            let reply = request.send().await.expect("the control API answers");
            assert_eq!(reply.status(), 200);
            serde_json::from_slice(&reply.bytes().await.expect("a body")).expect("JSON")
        })
    }
}

impl Drop for PubSubEmu {
    fn drop(&mut self) {
        signal(&self.child, "TERM");
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_status(&mut self.child, Duration::from_secs(10))
        }));
    }
}

/// The `replayId`s of the lines.
pub(crate) fn replay_ids(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|v| {
            v["replayId"]
                .as_str()
                .expect("a base64 replayId")
                .to_owned()
        })
        .collect()
}
