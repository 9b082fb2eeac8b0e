//! `sfstream`: the command line of the sfstream Salesforce Streaming API client.
//!
//! - `sfstream listen CHANNEL…` prints every event as a JSON line on stdout, with durable resume
//!   (`--store`), status on stderr and documented exit codes;
//!   `--api pubsub` does the same on the Pub/Sub API (gRPC);
//! - `sfstream publish --api pubsub TOPIC` publishes JSON objects and prints each result;
//! - `sfstream emulator` runs the local Salesforce emulator and prints how to reach it;
//! - `sfstream bridge --config bridge.toml` bridges orgs into NATS JetStream;
//! - `sfstream demo` shows the whole thing against an in-process emulator in under a minute.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
mod auth;
mod batch_output;
mod bridge;
mod demo;
mod diagnosis;
mod emulator_cmd;
mod exit;
mod listen;
mod logging;
mod output;
mod pubsub_common;
mod pubsub_listen;
mod pubsub_publish;
mod replay_origin;
mod secret_files;
mod session_status;
mod signals;

use std::process::ExitCode;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{CommandFactory as _, FromArgMatches as _};

use crate::args::{Cli, Command, SOURCED_SETTINGS};
use crate::exit::Failure;

fn main() -> ExitCode {
    // Usage errors exit with 2 and `--help` with 0, as clap does.
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let auth = match &mut cli.command {
        Command::Listen(args) => Some(&mut args.auth),
        Command::Publish(args) => Some(&mut args.auth),
        _ => None,
    };
    if let (Some(auth), Some((_, sub))) = (auth, matches.subcommand()) {
        auth.on_command_line = SOURCED_SETTINGS
            .into_iter()
            .filter(|id| sub.value_source(id) == Some(ValueSource::CommandLine))
            .collect();
    }
    let format = cli.log.log_format;
    std::panic::set_hook(Box::new(|info| {
        // No backtrace hint: a panic is a bug, and the message is what a report needs.
        eprintln!("sfstream: internal error (please report it): {info}");
    }));
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            logging::report_failure(format, &failure);
            failure.exit.into()
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    logging::init(&cli.log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::other(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Listen(args) => listen::run(*args).await,
            Command::Publish(args) => pubsub_publish::run(*args).await,
            Command::Emulator(args) => emulator_cmd::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Bridge(args) => bridge::run(args).await,
        }
    });
    // Background tasks (a retrying client, the emulator) must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}
