//! `sfstream-emulator`: runs the emulator standalone and prints what a client needs.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use sfstream_emulator::Emulator;

const USAGE: &str = "usage: sfstream-emulator [--port N] [--seed N] [--long-poll-timeout-ms N] \
[--reconnect-deadline-ms N] [--retention-secs N] [--max-batch N] [--auto-create-channels] \
[--jwt-public-key FILE.pem] [--public-url URL] [--bind ADDRESS] [--keep-sessions-on-revoke] \
[--orgs N]";

fn number(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<u64, String> {
    let value = args.next().ok_or(format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a number"))
}

fn configure(
    mut args: impl Iterator<Item = String>,
) -> Result<sfstream_emulator::EmulatorBuilder, String> {
    let mut builder = Emulator::builder().port(8080);
    while let Some(arg) = args.next() {
        builder = match arg.as_str() {
            "--port" => builder
                .port(u16::try_from(number(&mut args, &arg)?).map_err(|_| "--port: out of range")?),
            "--seed" => builder.seed(number(&mut args, &arg)?),
            "--long-poll-timeout-ms" => {
                builder.long_poll_timeout(Duration::from_millis(number(&mut args, &arg)?))
            }
            "--reconnect-deadline-ms" => {
                builder.reconnect_deadline(Duration::from_millis(number(&mut args, &arg)?))
            }
            "--retention-secs" => builder.retention(Duration::from_secs(number(&mut args, &arg)?)),
            "--max-batch" => builder.max_batch(
                usize::try_from(number(&mut args, &arg)?).map_err(|_| "--max-batch: too large")?,
            ),
            "--auto-create-channels" => builder.auto_create_channels(true),
            "--public-url" => builder.public_url(args.next().ok_or("--public-url needs a URL")?),
            "--bind" => {
                let value = args.next().ok_or("--bind needs an address")?;
                builder.bind(
                    value
                        .parse()
                        .map_err(|_| format!("--bind: {value:?} is not an IP address"))?,
                )
            }
            "--keep-sessions-on-revoke" => builder.revoked_token_ends_sessions(false),
            "--orgs" => builder.numbered_orgs(sfstream_emulator::parse_org_count(
                &args.next().ok_or("--orgs needs a number")?,
            )?),
            "--jwt-public-key" => {
                let path = args.next().ok_or("--jwt-public-key needs a file")?;
                let pem = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
                builder.jwt_public_key_pem(pem)
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
    }
    Ok(builder)
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
            let _ = writeln!(std::io::stderr(), "sfstream-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base = emulator.base_url();
    let addresses: Vec<String> = emulator.addrs().iter().map(ToString::to_string).collect();
    let c = emulator.credentials();
    let channels: Vec<String> = emulator
        .control()
        .channels()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let text = format!(
        "sfstream-emulator listening on {base}\n\
         addresses:     {}\n\
         token_url:     {base}/services/oauth2/token\n\
         cometd_url:    {base}/cometd/64.0\n\
         control_api:   {base}/_emulator/\n\
         client_id:     {}\n\
         client_secret: {}\n\
         username:      {}\n\
         password:      {}{} (password + security token)\n\
         refresh_token: {}\n\
         access_token:  {}\n\
         channels:      {}",
        addresses.join(", "),
        c.client_id,
        c.client_secret,
        c.username,
        c.password,
        c.security_token,
        c.refresh_token,
        c.access_token,
        channels.join(", "),
    );
    let orgs = emulator
        .orgs_text()
        .map(|o| format!("\n{o}"))
        .unwrap_or_default();
    let _ = writeln!(std::io::stdout(), "{text}\n{orgs}Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
