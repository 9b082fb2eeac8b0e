//! `sfstream-emulator-pubsub`: runs the Pub/Sub emulator standalone and prints what a client
//! needs.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use sfstream_emulator_pubsub::{PubSubEmulator, PubSubEmulatorBuilder};

const USAGE: &str = "usage: sfstream-emulator-pubsub [--port N] [--seed N] [--tls] \
[--tls-cert FILE.pem] [--keepalive-ms N] [--idle-timeout-ms N] [--publish-idle-timeout-ms N] \
[--retention-secs N] [--max-events-per-response N] [--delivery-allocation N] [--org-id ID] \
[--access-token TOKEN]";

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    args.next().ok_or(format!("{flag} needs a value\n{USAGE}"))
}

fn number(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<u64, String> {
    let v = value(args, flag)?;
    v.parse()
        .map_err(|_| format!("{flag}: {v:?} is not a number"))
}

fn configure(mut args: impl Iterator<Item = String>) -> Result<PubSubEmulatorBuilder, String> {
    let mut b = PubSubEmulator::builder().port(7443);
    while let Some(arg) = args.next() {
        let a = arg.as_str();
        b = match a {
            "--port" => {
                b.port(u16::try_from(number(&mut args, a)?).map_err(|_| "--port: out of range")?)
            }
            "--seed" => b.seed(number(&mut args, a)?),
            "--tls" => b.tls(true),
            "--tls-cert" => b.tls_cert_path(value(&mut args, a)?),
            "--keepalive-ms" => b.keepalive(Duration::from_millis(number(&mut args, a)?)),
            "--idle-timeout-ms" => b.idle_timeout(Duration::from_millis(number(&mut args, a)?)),
            "--publish-idle-timeout-ms" => {
                b.publish_idle_timeout(Duration::from_millis(number(&mut args, a)?))
            }
            "--retention-secs" => b.retention(Duration::from_secs(number(&mut args, a)?)),
            "--max-events-per-response" => b.max_events_per_response(
                usize::try_from(number(&mut args, a)?)
                    .map_err(|_| "--max-events-per-response: too large")?,
            ),
            "--delivery-allocation" => b.delivery_allocation(number(&mut args, a)?),
            "--org-id" => b.org_id(&value(&mut args, a)?),
            "--access-token" => b.access_token(value(&mut args, a)?),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
    }
    Ok(b)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        let _ = writeln!(std::io::stdout(), "{USAGE}");
        return ExitCode::SUCCESS;
    }
    let builder = match configure(args.into_iter()) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            return ExitCode::from(2);
        }
    };
    let emulator = match builder.start().await {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "sfstream-emulator-pubsub: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = writeln!(
        std::io::stdout(),
        "{}Press Ctrl-C to stop.",
        emulator.banner()
    );
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
