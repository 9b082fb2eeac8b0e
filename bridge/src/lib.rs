//! # sfstream-bridge
//!
//! Salesforce events into NATS JetStream: one Salesforce subscription per org, read once and
//! fanned out to any number of consumers through a stream, with fail-over and sharding across
//! replicas and no event lost or duplicated.
//!
//! - **Sink**: each event goes to subject `<prefix>.<org id>.<channel as tokens>` with
//!   `Nats-Msg-Id = <org id>:<channel>:<replay id>` and headers for the channel, org, replay
//!   id, event kind and creation date; the body is the event's JSON as `sfstream listen` prints
//!   it ([`event_json`]). The [`Sink`] trait is the seam for other targets.
//! - **Position**: a replay id is committed only after JetStream acknowledged the event, and the
//!   position *is* the stream's last message of the channel's subject, read from the stream
//!   leader: any replica resumes where the last one stopped, with no local file.
//! - **Leases**: each connection (org) is owned by one replica through a lease in a key-value
//!   bucket whose `max_age` is the lease time; replicas split connections evenly
//!   ([`assignment`]), hand them over gracefully when one joins or leaves, and take a dead one's
//!   over once its lease expires.
//! - **Writes**: per channel, every write names the sequence it extends
//!   (`Nats-Expected-Last-Subject-Sequence`), so a writer on a stale view is refused, and is
//!   awaited before the next: in order, nothing lost (the default, `nats.max_in_flight = 1`).
//!   Pipelining is an opt-in (`max_in_flight` above 1): the first write is fenced, then up to
//!   `max_in_flight` writes are under way at once, each under its event's message id, and
//!   acknowledgements are committed in order. A failure settles the window, reads the subject
//!   from the leader and writes the rest again, fenced (a copy stored after a lost write is
//!   removed and rewritten in order where the server allows it safely, NATS 2.14 and later). A
//!   stalled former owner can have at most `max_in_flight` writes per channel still on their
//!   way; the duplicate window drops copies, and a run that continues the stream stays in
//!   order. `ARCHITECTURE.md` has the argument and the two narrow cases where pipelining can
//!   lose or re-store an event, which fencing every write does not have.
//! - **Operations**: `/metrics` (Prometheus) and `/healthz` ([`Metrics`]), [`status`].
//!
//! ```no_run
//! # async fn run() -> Result<(), sfstream_bridge::BridgeError> {
//! let config = sfstream_bridge::config::load(std::path::Path::new("bridge.toml"))?;
//! sfstream_bridge::run(config, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod assignment;
pub mod config;
mod connection;
pub mod event_json;
mod http;
mod jetstream;
mod kv;
mod metrics;
mod nats;
mod replica;
mod session_stats;
mod sink;
pub mod status;
pub mod subject;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use config::{BridgeConfig, ConfigError};
pub use jetstream::{JetStreamSink, check_stream};
pub use metrics::{ChannelMetrics, ConnectionMetrics, Metrics};
pub use sink::{Ack, Position, Record, Sink, SinkError, Stored};

use crate::kv::{Bucket, KvError};
use crate::replica::{Buckets, Replica};

/// Why the bridge stopped or could not start.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The configuration file is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// NATS or the stream is set up in a way the bridge refuses; the message says what to do.
    #[error("{0}")]
    Setup(String),
    /// NATS could not be used.
    #[error("{0}")]
    Nats(String),
    /// The metrics address could not be bound.
    #[error("cannot serve metrics on {addr}: {error}")]
    Metrics {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        error: String,
    },
}

/// Settings a program embedding the bridge (or a test) may change; the file has the rest.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// After this long without reaching Salesforce, the client reports it (it keeps trying).
    pub salesforce_connection_timeout: Duration,
    /// The metrics to fill (shared with the caller).
    pub metrics: Option<Arc<Metrics>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            salesforce_connection_timeout: Duration::from_secs(30),
            metrics: None,
        }
    }
}

/// Runs one replica until `shutdown` completes, then hands every connection over and leaves.
pub async fn run(
    config: BridgeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), BridgeError> {
    run_with(config, Options::default(), shutdown).await
}

/// [`run`] with [`Options`].
pub async fn run_with(
    config: BridgeConfig,
    options: Options,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), BridgeError> {
    let config = Arc::new(config);
    let metrics = options
        .metrics
        .clone()
        .unwrap_or_else(|| Arc::new(Metrics::new(&config.replica.replica_id)));
    let _server = match config.replica.metrics_listen {
        Some(addr) => {
            let (bound, task) =
                http::serve(addr, metrics.clone())
                    .await
                    .map_err(|e| BridgeError::Metrics {
                        addr,
                        error: e.to_string(),
                    })?;
            tracing::info!(%bound, "serving /metrics and /healthz");
            Some(AbortOnDrop(task))
        }
        None => None,
    };
    if let Some(age) = config
        .stream
        .max_age
        .filter(|a| *a < Duration::from_secs(72 * 3600))
    {
        // A channel's position is its last message: once a quiet channel's last message ages
        // out, the channel starts again from its configured start.
        tracing::warn!(max_age = %humantime::format_duration(age),
            "stream.max_age is shorter than Salesforce's 72 h retention: a channel quiet for longer \
             loses its position and starts again from its configured start");
    }
    tokio::pin!(shutdown);
    let setup = async {
        tracing::info!(replica = %config.replica.replica_id, servers = %config.nats.servers.join(", "),
            connections = config.connections.len(), "starting the bridge");
        let client = nats::connect(&config.nats, metrics.clone())
            .await
            .map_err(BridgeError::Nats)?;
        let sink = JetStreamSink::new(client, config.stream.clone(), config.nats.ack_timeout);
        retry_setup(
            "stream",
            || sink.prepare(),
            |e| match e {
                SinkError::Unavailable(_) => None,
                other => Some(other.to_string()),
            },
        )
        .await?;
        let prefix = &config.replica.bucket_prefix;
        let (ttl, replicas) = (config.replica.lease_ttl, config.stream.replicas);
        let js = sink.context().clone();
        let open = |name: String| {
            let js = js.clone();
            move || {
                let (js, name) = (js.clone(), name.clone());
                async move { Bucket::open(&js, &name, ttl, replicas).await }
            }
        };
        let kv_fatal = |e: &KvError| match e {
            KvError::Config(text) => Some(text.clone()),
            _ => None,
        };
        let leases =
            retry_setup("lease bucket", open(format!("{prefix}_leases")), kv_fatal).await?;
        let members =
            retry_setup("member bucket", open(format!("{prefix}_members")), kv_fatal).await?;
        Ok::<_, BridgeError>((sink, Buckets { leases, members }))
    };
    let (sink, buckets) = tokio::select! {
        r = setup => r?,
        () = &mut shutdown => return Ok(()),
    };
    let mut replica = Replica::new(
        config.clone(),
        sink,
        buckets,
        metrics,
        options.salesforce_connection_timeout,
    );
    let tick = replica.tick();
    loop {
        replica.step().await;
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            () = &mut shutdown => break,
        }
    }
    tracing::info!("stopping: handing every connection over");
    replica.shutdown().await;
    Ok(())
}

/// Retries a setup step while NATS is unavailable; stops on an error `fatal` recognises.
async fn retry_setup<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
    what: &str,
    mut step: impl FnMut() -> F,
    fatal: impl Fn(&E) -> Option<String>,
) -> Result<T, BridgeError> {
    let mut logged = false;
    loop {
        match step().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                if let Some(text) = fatal(&e) {
                    return Err(BridgeError::Setup(text));
                }
                if !logged {
                    tracing::warn!(error = %e, "cannot set up the {what} yet; retrying");
                    logged = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Reads leases, members and positions (`sfstream bridge status`).
pub async fn status(config: &BridgeConfig) -> Result<status::Status, BridgeError> {
    let client = nats::connect_once(&config.nats)
        .await
        .map_err(BridgeError::Nats)?;
    status::read(config, client)
        .await
        .map_err(BridgeError::Nats)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
