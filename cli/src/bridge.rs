//! `sfstream bridge`: parses, calls the bridge library, prints. Everything else lives in
//! `sfstream-bridge`.

use std::path::PathBuf;

use sfstream_bridge::BridgeError;

use crate::args::{BridgeArgs, BridgeCommand};
use crate::exit::{Exit, Failure};
use crate::output::write_stdout;
use crate::signals::Signals;

fn failure(e: BridgeError) -> Failure {
    match e {
        BridgeError::Config(_) | BridgeError::Setup(_) | BridgeError::Metrics { .. } => {
            Failure::config(e.to_string())
        }
        BridgeError::Nats(_) => Failure::new(Exit::Unreachable, e.to_string()),
        other => Failure::other(other.to_string()),
    }
}

/// Runs the bridge until Ctrl-C or SIGTERM (then hands every connection over), or prints the
/// status.
pub(crate) async fn run(args: BridgeArgs) -> Result<(), Failure> {
    let path = args.config.unwrap_or_else(|| PathBuf::from("bridge.toml"));
    let config = sfstream_bridge::config::load(&path).map_err(|e| failure(e.into()))?;
    match args.command {
        Some(BridgeCommand::Check) => {
            let text = format!(
                "{}: {} connection(s), {} channel(s), stream {} ({} replica(s)), NATS {}\n",
                path.display(),
                config.connections.len(),
                config
                    .connections
                    .iter()
                    .map(|c| c.channels.len())
                    .sum::<usize>(),
                config.stream.name,
                config.stream.replicas,
                config.nats.servers.join(", ")
            );
            write_stdout(text.as_bytes()).map_err(|e| Failure::other(e.to_string()))
        }
        Some(BridgeCommand::Status) => {
            let status = sfstream_bridge::status(&config).await.map_err(failure)?;
            write_stdout(status.to_text().as_bytes()).map_err(|e| Failure::other(e.to_string()))
        }
        None => {
            let mut signals = Signals::new()?;
            let shutdown = async move {
                let signal = signals.next().await;
                tracing::info!("{signal} received; handing over and stopping");
            };
            sfstream_bridge::run(config, shutdown)
                .await
                .map_err(failure)
        }
    }
}
