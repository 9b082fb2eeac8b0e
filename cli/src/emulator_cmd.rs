//! `sfstream emulator`: the local Salesforce emulator, standalone, with the settings a client
//! needs printed on stdout: the Streaming API (CometD, OAuth, control API) and, beside it on a
//! port of its own, the Pub/Sub API (gRPC) for the same org with the same access tokens.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use sfstream_emulator::{Control, Emulator};
use sfstream_emulator_pubsub::{AuthOutcome, PubSubEmulator};

use crate::args::EmulatorArgs;
use crate::exit::Failure;
use crate::output::write_stdout;
use crate::signals::Signals;

/// The channel `--publish-every` uses when no `--publish-channel` is given.
const DEFAULT_PUBLISH_CHANNEL: &str = "/event/Order__e";

/// Runs the emulator until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: EmulatorArgs) -> Result<(), Failure> {
    let mut signals = Signals::new()?;
    if !args.no_pubsub && args.pubsub_port != 0 && args.pubsub_port == args.port {
        return Err(Failure::config(format!(
            "--pubsub-port {} is the Streaming API's --port too: give the Pub/Sub API another \
             port (0 picks a free one), or pass --no-pubsub",
            args.port
        )));
    }
    let mut builder = Emulator::builder()
        .numbered_orgs(args.orgs)
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
    let pubsub = if args.no_pubsub {
        None
    } else {
        Some(start_pubsub(&args, &control).await?)
    };
    let addresses: Vec<String> = emulator.addrs().iter().map(ToString::to_string).collect();
    let mut text = settings_text(&control, &addresses, &publish_channels);
    if let Some(orgs) = emulator.orgs_text() {
        let _ = write!(text, "\n{orgs}");
    }
    if let Some(pubsub) = &pubsub {
        pubsub_text(&mut text, pubsub, &control, controls.len() > 1);
    }
    let _ = writeln!(text, "Press Ctrl-C to stop.");
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
    if let Some(pubsub) = pubsub {
        pubsub.shutdown().await;
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
    t
}

/// Starts the Pub/Sub API emulator for the Streaming API emulator's default org: the same org
/// id, and every access token that org accepts (the pre-issued one, those of its token endpoint
/// and control API; revoking them there revokes them here).
async fn start_pubsub(args: &EmulatorArgs, streaming: &Control) -> Result<PubSubEmulator, Failure> {
    // The org id in both forms, known once the emulator has computed the 18-character one.
    let tenant: Arc<OnceLock<(String, String)>> = Arc::default();
    let org = Arc::clone(&tenant);
    let tokens = streaming.clone();
    let mut builder = PubSubEmulator::builder()
        .port(args.pubsub_port)
        .seed(args.seed)
        .retention(args.retention)
        .org_id(streaming.org_id())
        .access_token(streaming.credentials().access_token.clone())
        .token_check(move |token: &str, _instance_url: &str, tenant_id: &str| {
            let tenant_ok = org
                .get()
                .is_some_and(|(id15, id18)| tenant_id == id15 || tenant_id == id18);
            if tenant_ok && tokens.accepts_token(token) {
                AuthOutcome::Ok
            } else {
                AuthOutcome::Unauthenticated
            }
        })
        .tls(args.pubsub_tls);
    if let Some(path) = &args.pubsub_tls_cert {
        builder = builder.tls_cert_path(path);
    }
    let pubsub = builder.start().await.map_err(|e| match e {
        sfstream_emulator_pubsub::Error::Bind(io) => Failure::other(format!(
            "cannot listen on port {} of 127.0.0.1 for the Pub/Sub API: {io}; pass \
             --pubsub-port 0 to pick a free port, or --no-pubsub",
            args.pubsub_port
        )),
        sfstream_emulator_pubsub::Error::Tls(text) => Failure::config(format!(
            "--pubsub-tls: {text}; check that --pubsub-tls-cert names a writable file"
        )),
        other => Failure::other(format!("cannot start the Pub/Sub API emulator: {other}")),
    })?;
    let id18 = pubsub.org_id().to_owned();
    let _ = tenant.set((id18.chars().take(15).collect(), id18));
    Ok(pubsub)
}

/// What a Pub/Sub API client needs, in the style of the Streaming API's settings.
fn pubsub_text(t: &mut String, pubsub: &PubSubEmulator, streaming: &Control, several_orgs: bool) {
    let url = pubsub.url();
    let topics: Vec<String> = pubsub
        .control()
        .topics()
        .into_iter()
        .map(|s| s.name)
        .collect();
    let _ = writeln!(t);
    let _ = writeln!(t, "Pub/Sub API (gRPC) listening on {url}");
    let _ = writeln!(t, "  address               {}", pubsub.addr());
    let _ = writeln!(t, "  gRPC URL              {url}  (eventbus.v1.PubSub)");
    let _ = writeln!(t, "  control API           {url}/_emulator/");
    let _ = writeln!(t, "  topics                {}", topics.join(" "));
    if let Some(path) = pubsub.tls_cert_path() {
        let _ = writeln!(
            t,
            "  TLS certificate       {}  (self-signed)",
            path.display()
        );
    }
    let _ = writeln!(t, "Metadata of every call:");
    let _ = writeln!(t, "  accesstoken           {}", pubsub.access_token());
    let _ = writeln!(
        t,
        "                        or any token of the token endpoint above"
    );
    let _ = writeln!(t, "  instanceurl           {}", streaming.base_url());
    let _ = writeln!(t, "  tenantid              {}", pubsub.org_id());
    if several_orgs {
        let _ = writeln!(
            t,
            "The Pub/Sub API serves the org {} only.",
            streaming.org_id()
        );
    }
    let cacert = pubsub
        .tls_cert_path()
        .map(|p| format!(" --cacert {}", p.display()))
        .unwrap_or_default();
    let _ = writeln!(
        t,
        "Publish a Pub/Sub event (Avro-encoded from JSON fields):"
    );
    let _ = writeln!(
        t,
        "  curl -s{cacert} {url}/_emulator/publish -H 'Content-Type: application/json' \
         -d '{{\"topic\":\"/event/Order__e\",\"payload\":{{\"OrderNumber__c\":\"A-1\"}}}}'"
    );
}
