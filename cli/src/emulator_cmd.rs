//! `sfstream emulator`: the local Salesforce emulator, standalone, with the settings a client
//! needs printed on stdout.

use std::fmt::Write as _;

use sfstream_emulator::{Control, Emulator, Org};

use crate::args::EmulatorArgs;
use crate::exit::Failure;
use crate::output::write_stdout;
use crate::signals::Signals;

/// The channel `--publish-every` uses when no `--publish-channel` is given.
const DEFAULT_PUBLISH_CHANNEL: &str = "/event/Order__e";

/// Runs the emulator until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: EmulatorArgs) -> Result<(), Failure> {
    let mut signals = Signals::new()?;
    let mut builder = (2..=args.orgs)
        .fold(Emulator::builder(), |b, n| b.org(Org::numbered(n)))
        .port(args.port)
        .long_poll_timeout(args.long_poll_timeout)
        .reconnect_deadline(args.reconnect_deadline)
        .retention(args.retention)
        .seed(args.seed)
        .auto_create_channels(args.auto_create_channels);
    if let Some(url) = &args.public_url {
        builder = builder.public_url(url);
    }
    if let Some(address) = args.bind {
        builder = builder.bind(address);
    }
    if let Some(path) = &args.jwt_public_key {
        let pem = std::fs::read_to_string(path).map_err(|e| {
            Failure::config(format!(
                "cannot read --jwt-public-key `{}`: {e}",
                path.display()
            ))
        })?;
        builder = builder.jwt_public_key_pem(pem);
    }
    let emulator = builder.start().await.map_err(|e| match e {
        sfstream_emulator::Error::Bind(io) => {
            let at = args
                .bind
                .map_or_else(|| "127.0.0.1 and ::1".to_owned(), |a| a.to_string());
            Failure::other(format!(
                "cannot listen on port {} of {at}: {io}; pass --port 0 to pick a free port",
                args.port
            ))
        }
        sfstream_emulator::Error::InvalidArgument(text) => {
            Failure::config(format!("--public-url: {text}"))
        }
        other => Failure::config(other.to_string()),
    })?;
    let control = emulator.control();
    let controls: Vec<Control> = emulator
        .org_ids()
        .iter()
        .filter_map(|id| emulator.control_for(id))
        .collect();
    let mut publish_channels = args.publish_channels.clone();
    if publish_channels.is_empty() {
        publish_channels.push(DEFAULT_PUBLISH_CHANNEL.to_owned());
    }
    for control in &controls {
        for name in args.channels.iter().chain(&publish_channels) {
            control
                .create_channel(name)
                .map_err(|e| Failure::config(format!("--channel / --publish-channel: {e}")))?;
        }
    }
    let addresses: Vec<String> = emulator.addrs().iter().map(ToString::to_string).collect();
    let mut text = settings_text(&control, &addresses, &publish_channels);
    if controls.len() > 1 {
        let _ = writeln!(
            text,
            "\nOrgs (each with its own channels, events and sessions; the same password, security token and secret):"
        );
        for c in &controls {
            let _ = writeln!(
                text,
                "  {}  user {}  consumer key {}  control {}/_emulator/orgs/{}/",
                c.org_id(),
                c.credentials().username,
                c.credentials().client_id,
                c.base_url(),
                c.org_id()
            );
        }
    }
    write_stdout(text.as_bytes())
        .map_err(|e| Failure::other(format!("writing to stdout failed: {e}")))?;

    let publisher = args.publish_every.map(|every| {
        let controls = controls.clone();
        let channels = publish_channels.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for control in &controls {
                    for channel in &channels {
                        if let Err(e) = control.publish_generated(channel, 1) {
                            tracing::warn!("publishing on {channel} failed: {e}");
                        }
                    }
                }
            }
        })
    });
    let signal = signals.next().await;
    tracing::info!("{signal} received; stopping the emulator");
    if let Some(p) = publisher {
        p.abort();
    }
    emulator.shutdown().await;
    Ok(())
}

/// What a client needs: URLs, the fake credentials, ready-to-paste settings, a publish example.
fn settings_text(control: &Control, addresses: &[String], publish_channels: &[String]) -> String {
    let base = control.base_url();
    let c = control.credentials();
    let channels: Vec<String> = control.channels().into_iter().map(|(n, _)| n).collect();
    let first = publish_channels
        .first()
        .map_or(DEFAULT_PUBLISH_CHANNEL, String::as_str);
    let mut t = String::new();
    let _ = writeln!(t, "sfstream emulator listening on {base}");
    let _ = writeln!(t, "  addresses             {}", addresses.join(" "));
    let _ = writeln!(t, "  login / instance URL  {base}");
    let _ = writeln!(t, "  token endpoint        {base}/services/oauth2/token");
    let _ = writeln!(t, "  CometD endpoint       {base}/cometd/64.0");
    let _ = writeln!(t, "  control API           {base}/_emulator/");
    let _ = writeln!(t, "  channels              {}", channels.join(" "));
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "The credentials below are the emulator's fake test credentials; they work nowhere else."
    );
    let _ = writeln!(t, "Password flow, for another shell:");
    let _ = writeln!(t, "  export SF_LOGIN_URL={base}");
    let _ = writeln!(t, "  export SF_CLIENT_ID={}", c.client_id);
    let _ = writeln!(t, "  export SF_CLIENT_SECRET={}", c.client_secret);
    let _ = writeln!(t, "  export SF_USERNAME={}", c.username);
    let _ = writeln!(t, "  export SF_PASSWORD={}{}", c.password, c.security_token);
    let _ = writeln!(t, "  sfstream listen {first}");
    let _ = writeln!(
        t,
        "Or the refresh token flow: SF_REFRESH_TOKEN={}",
        c.refresh_token
    );
    let _ = writeln!(
        t,
        "Or a ready token: SF_ACCESS_TOKEN={} SF_INSTANCE_URL={base}",
        c.access_token
    );
    let _ = writeln!(t);
    let _ = writeln!(t, "Publish an event:");
    let _ = writeln!(
        t,
        "  curl -s {base}/_emulator/publish -H 'Content-Type: application/json' \
         -d '{{\"channel\":\"{first}\",\"payload\":{{\"Quantity__c\":3}}}}'"
    );
    let _ = writeln!(t, "Press Ctrl-C to stop.");
    t
}
