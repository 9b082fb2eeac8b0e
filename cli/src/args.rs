//! The command line: subcommands, flags and the environment variables they mirror.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sfstream_tokio::pubsub::{PubSubReplayFrom, ReplayId};
use sfstream_tokio::{ReplayFallback, ReplayFrom};

/// The exit code table, as a literal so that it can be `concat!`ed into help texts.
macro_rules! exit_codes_text {
    () => {
        "\
Exit codes:
  0  done: --count or --duration reached, a signal (Ctrl-C, SIGTERM), or stdout closed
  1  any other failure (the replay store could not be written, an unexpected server reply)
  2  bad usage or configuration (a flag, a missing or ambiguous setting, an unreadable key or
     store file, a store another listener holds, a login URL that is not a token endpoint,
     https:// to a server that speaks plain HTTP)
  3  authentication refused (credentials, token or Connected App settings)
  4  a subscription failed (unknown channel, missing permission, a replay id the server does
     not have, without --fallback)
  5  the server could not be reached (at startup, or for --give-up-after while streaming)"
    };
}

/// Printed after `sfstream --help`.
pub(crate) const EXIT_CODES: &str = exit_codes_text!();

const LISTEN_AFTER_HELP: &str = concat!(
    "\
Authentication (flags win over the environment; the first complete flow in this order is used):
  access token   SF_ACCESS_TOKEN + SF_INSTANCE_URL
  JWT bearer     SF_JWT_KEY_FILE + SF_CLIENT_ID + SF_USERNAME        (+ SF_LOGIN_URL or SF_SANDBOX)
  refresh token  SF_REFRESH_TOKEN + SF_CLIENT_ID [+ SF_CLIENT_SECRET] (+ SF_LOGIN_URL or SF_SANDBOX)
  password       SF_USERNAME + SF_PASSWORD (with the security token appended)
                 + SF_CLIENT_ID + SF_CLIENT_SECRET                   (+ SF_LOGIN_URL or SF_SANDBOX)
  client creds   SF_CLIENT_ID + SF_CLIENT_SECRET + SF_LOGIN_URL (the org's My Domain URL)
A secret given as a flag value shows in the process list: prefer the environment, or
--password-file, --client-secret-file, --refresh-token-file, --access-token-file (or the same
variables with _FILE appended); a file named - is standard input.

Output: one JSON object a line on stdout:
  {\"channel\",\"replayId\",\"kind\",\"createdDate\",\"eventUuid\",\"eventType\",\"payload\"}
A line is written and flushed before its replay id is committed to --store, so a crash never
skips an event: at worst the events after the last stored id are printed again.
A line counts as printed once the pipe or file has taken it: lines still unread in a pipe when
its reader exits (e.g. `sfstream listen ... | head -1`) were written, their ids are stored, and
the next run does not print them again. When every event matters, let the reader read to the
end, or write to a file.
Status, reconnects and errors go to stderr.

",
    exit_codes_text!()
);

/// `sfstream`: the command line of the sfstream Salesforce Streaming API client.
#[derive(Debug, Parser)]
#[command(
    name = "sfstream",
    version,
    about = "Stream Salesforce events (PushTopic, Platform Events, Change Data Capture, generic) \
             as JSON lines, with durable replay",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Logging options shared by every subcommand.
    #[command(flatten)]
    pub(crate) log: LogArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Subscribe to channels and print each event as a JSON line on stdout.
    #[command(after_help = LISTEN_AFTER_HELP)]
    Listen(Box<ListenArgs>),
    /// Run the local Salesforce emulator (Streaming API and Pub/Sub API) and print the settings a
    /// client needs to reach it.
    Emulator(EmulatorArgs),
    /// Start the emulator in-process, stream a mix of events through `sfstream listen` with a
    /// file store, survive a restart, a crash and a dropped session, and print a summary.
    Demo(DemoArgs),
    /// Publish events to a Pub/Sub API topic: one JSON object a line on stdin (or --json), one
    /// result a line on stdout.
    #[command(after_help = EXIT_CODES)]
    Publish(Box<PublishArgs>),
    /// Bridge Salesforce events into NATS JetStream: one subscription per org, positions in the
    /// stream, leases and sharding across replicas. `sfstream bridge status` shows the state.
    Bridge(BridgeArgs),
}

/// How status lines on stderr look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Short human-readable lines.
    Human,
    /// One JSON object a line.
    Json,
}

/// Logging flags.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Format of the status lines on stderr.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        env = "SFSTREAM_LOG_FORMAT"
    )]
    pub(crate) log_format: LogFormat,
    /// More status output (-v: debug, -vv: trace). RUST_LOG, when set, overrides -v and -q.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,
    /// Less status output (-q: warnings and errors only, -qq: errors only).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) quiet: u8,
}

/// Where the credentials come from. Every flag mirrors an environment variable.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Authentication")]
pub(crate) struct AuthArgs {
    /// Login base URL: the org's My Domain (https://MyDomainName.my.salesforce.com) or an
    /// emulator (plain http only for loopback hosts) [default: https://login.salesforce.com]
    #[arg(long, env = "SF_LOGIN_URL", value_name = "URL")]
    pub(crate) login_url: Option<String>,
    /// Log in at https://test.salesforce.com (a sandbox); SF_SANDBOX=true|false
    #[arg(
        long,
        env = "SF_SANDBOX",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true",
        require_equals = true
    )]
    pub(crate) sandbox: Option<String>,
    /// The Connected App's consumer key
    #[arg(long, env = "SF_CLIENT_ID", value_name = "KEY")]
    pub(crate) client_id: Option<String>,
    /// The Connected App's consumer secret
    #[arg(
        long,
        env = "SF_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub(crate) client_secret: Option<String>,
    /// Read the consumer secret from this file (- for standard input), so that it does not show in the
    /// process list as a --client-secret value does
    #[arg(long, env = "SF_CLIENT_SECRET_FILE", value_name = "FILE")]
    pub(crate) client_secret_file: Option<PathBuf>,
    /// The Salesforce username (password and JWT bearer flows)
    #[arg(long, env = "SF_USERNAME", value_name = "USER")]
    pub(crate) username: Option<String>,
    /// The password with the user's security token appended (password flow)
    #[arg(
        long,
        env = "SF_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub(crate) password: Option<String>,
    /// Read the password (with the security token appended) from this file (- for standard input), so that it does not show in the
    /// process list as a --password value does
    #[arg(long, env = "SF_PASSWORD_FILE", value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
    /// A refresh token from an earlier authorization (refresh token flow)
    #[arg(
        long,
        env = "SF_REFRESH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) refresh_token: Option<String>,
    /// Read the refresh token from this file (- for standard input), so that it does not show in the
    /// process list as a --refresh-token value does
    #[arg(long, env = "SF_REFRESH_TOKEN_FILE", value_name = "FILE")]
    pub(crate) refresh_token_file: Option<PathBuf>,
    /// PEM file of the RSA private key whose certificate is in the Connected App (JWT bearer)
    #[arg(long, env = "SF_JWT_KEY_FILE", value_name = "FILE")]
    pub(crate) jwt_key_file: Option<PathBuf>,
    /// An access token (session id) obtained elsewhere; needs --instance-url
    #[arg(
        long,
        env = "SF_ACCESS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) access_token: Option<String>,
    /// Read the access token from this file (- for standard input), so that it does not show in the
    /// process list as a --access-token value does
    #[arg(long, env = "SF_ACCESS_TOKEN_FILE", value_name = "FILE")]
    pub(crate) access_token_file: Option<PathBuf>,
    /// The instance the access token belongs to, e.g. https://MyDomainName.my.salesforce.com
    #[arg(long, env = "SF_INSTANCE_URL", value_name = "URL")]
    pub(crate) instance_url: Option<String>,
    /// Which of the settings above were given on the command line rather than in the
    /// environment (their argument ids), filled in by `main` from clap's value sources.
    #[arg(skip)]
    pub(crate) on_command_line: Vec<&'static str>,
}

/// The ids of the settings whose source matters: secrets (a flag value shows in `ps`) and the
/// files that can hold them (a flag wins over the environment).
pub(crate) const SOURCED_SETTINGS: [&str; 8] = [
    "client_secret",
    "client_secret_file",
    "password",
    "password_file",
    "refresh_token",
    "refresh_token_file",
    "access_token",
    "access_token_file",
];

/// Which Salesforce API a command speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Api {
    /// The Streaming API (CometD long polling): PushTopics, Platform Events, Change Data
    /// Capture, generic events.
    Streaming,
    /// The Pub/Sub API (gRPC): Platform Events and Change Data Capture topics.
    Pubsub,
}

/// The Pub/Sub API's endpoint flag, shared by `listen --api pubsub` and `publish`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct PubSubUrlArg {
    /// The Pub/Sub API's endpoint (with --api pubsub); http://127.0.0.1:PORT for a local
    /// emulator [default: https://api.pubsub.salesforce.com:7443]
    #[arg(long, env = "SF_PUBSUB_URL", value_name = "URL")]
    pub(crate) pubsub_url: Option<String>,
}

/// `sfstream listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// Channels to subscribe to, e.g. /event/Order__e /topic/AccountUpdates /data/ChangeEvents
    /// (with --api pubsub: topics, e.g. /event/Order__e /data/AccountChangeEvent)
    #[arg(value_name = "CHANNEL", required = true, num_args = 1..)]
    pub(crate) channels: Vec<String>,
    /// Which API: streaming (CometD) or pubsub (gRPC)
    #[arg(long, value_enum, default_value = "streaming")]
    pub(crate) api: Api,
    /// The Pub/Sub API's endpoint.
    #[command(flatten)]
    pub(crate) pubsub: PubSubUrlArg,
    /// Where channels without a stored replay id start: new (-1), all (-2, every retained
    /// event) or after a replay id (an integer; with --api pubsub the base64 replayId of a
    /// printed line)
    #[arg(
        long,
        value_name = "new|all|ID",
        default_value = "new",
        allow_negative_numbers = true,
        value_parser = parse_replay
    )]
    pub(crate) replay: ReplayArg,
    /// Keep the replay id of every printed event in this JSON file and resume from it on the next
    /// run (created if missing; its directory must exist)
    #[arg(long, value_name = "FILE")]
    pub(crate) store: Option<PathBuf>,
    /// When the server rejects a stored replay id (too old), replay from here instead of failing:
    /// all (-2, the default when the flag has no value) or new (-1, skips the gap)
    #[arg(
        long,
        value_name = "all|new",
        num_args = 0..=1,
        default_missing_value = "all",
        require_equals = true,
        value_parser = parse_fallback
    )]
    pub(crate) fallback: Option<ReplayFallback>,
    /// Salesforce API version in the streaming URL [default: 64.0]
    #[arg(long, value_name = "VERSION")]
    pub(crate) api_version: Option<String>,
    /// Stop after printing this many events
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) count: Option<u64>,
    /// Stop after this long, e.g. 30s, 5m, 1h30m (a bare number is seconds; at most 100y)
    #[arg(long, value_name = "DURATION", value_parser = parse_limit)]
    pub(crate) duration: Option<Duration>,
    /// Exit (code 5) once the server has been unreachable this long while streaming
    /// [default: keep retrying]. It also replaces the 30s limit for reaching the server at startup
    #[arg(long, value_name = "DURATION", value_parser = parse_limit)]
    pub(crate) give_up_after: Option<Duration>,
    /// How many received events may wait to be printed. Beyond it the client waits (up to 25 s)
    /// before asking the server for more, so that nothing received is dropped. With --api
    /// pubsub: per topic, the events requested and not yet printed, never more than 100 (a
    /// slow reader of stdout holds the rest back at the server)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000)
    )]
    pub(crate) max_pending: u64,
    /// Credentials.
    #[command(flatten)]
    pub(crate) auth: AuthArgs,
}

/// `sfstream publish`.
#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The topic, e.g. /event/Order__e
    #[arg(value_name = "TOPIC")]
    pub(crate) topic: String,
    /// Which API: pubsub (the one that publishes)
    #[arg(long, value_enum, default_value = "pubsub")]
    pub(crate) api: Api,
    /// The Pub/Sub API's endpoint.
    #[command(flatten)]
    pub(crate) pubsub: PubSubUrlArg,
    /// An event's fields as a JSON object, e.g. '{"OrderNumber__c":"A-1"}' (repeatable);
    /// without it, one JSON object a line is read from standard input
    #[arg(long, value_name = "OBJECT")]
    pub(crate) json: Vec<String>,
    /// Credentials.
    #[command(flatten)]
    pub(crate) auth: AuthArgs,
}

/// `sfstream emulator`.
#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// Port to listen on, on 127.0.0.1 and ::1 (0: any free port)
    #[arg(long, default_value_t = 8080)]
    pub(crate) port: u16,
    /// The URL clients are told (instance URL, login URL) instead of http://localhost:PORT, for
    /// set-ups where clients reach the emulator under another name, e.g. http://emulator:8080
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// Listen on this one address instead of loopback, e.g. 0.0.0.0 in a container (anyone who
    /// reaches it can use the fake test credentials)
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) bind: Option<std::net::IpAddr>,
    /// How long a long poll is held without events (Salesforce: 110s)
    #[arg(long, value_name = "DURATION", default_value = "110s", value_parser = parse_duration)]
    pub(crate) long_poll_timeout: Duration,
    /// How long a session survives without a long poll (Salesforce: 40s)
    #[arg(long, value_name = "DURATION", default_value = "40s", value_parser = parse_duration)]
    pub(crate) reconnect_deadline: Duration,
    /// How long events are kept for replay (Salesforce: 72h for Platform Events and CDC)
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub(crate) retention: Duration,
    /// Seed of every random choice (client ids, tokens, replay ids)
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Extra channels to create (besides /topic/AccountUpdates, /event/Order__e,
    /// /data/ChangeEvents, /data/AccountChangeEvent, /u/notifications)
    #[arg(long = "channel", value_name = "CHANNEL")]
    pub(crate) channels: Vec<String>,
    /// Create any valid channel on first subscribe or publish
    #[arg(long)]
    pub(crate) auto_create_channels: bool,
    /// PEM RSA public key that verifies JWT bearer assertions
    #[arg(long, value_name = "FILE")]
    pub(crate) jwt_public_key: Option<PathBuf>,
    /// Publish a generated event on every --publish-channel this often, e.g. 1s
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) publish_every: Option<Duration>,
    /// Channel that --publish-every publishes on (repeatable) [default: /event/Order__e]
    #[arg(long = "publish-channel", value_name = "CHANNEL")]
    pub(crate) publish_channels: Vec<String>,
    /// Serve this many orgs: the default one (00DEM0000000001, user@example.com) and orgs 2..N
    /// (00DEM000000000N, userN@example.com, consumer key emulator-client-id-N, the same password,
    /// security token and secret), each with its own channels, events and sessions
    #[arg(long, default_value_t = 1, value_parser = sfstream_emulator::parse_org_count)]
    pub(crate) orgs: u32,
    /// Port of the Pub/Sub API (gRPC) emulator, on 127.0.0.1 (0: any free port); it serves the
    /// default org with the same org id and access tokens as the Streaming API
    #[arg(long, value_name = "PORT", default_value_t = 7443)]
    pub(crate) pubsub_port: u16,
    /// Serve the Pub/Sub API over TLS (HTTP/2 with ALPN h2) with a generated self-signed
    /// certificate for localhost and 127.0.0.1, for gRPC clients that only speak TLS
    #[arg(long)]
    pub(crate) pubsub_tls: bool,
    /// Where the Pub/Sub API's certificate (PEM) is written; implies --pubsub-tls
    /// [default: sfstream-pubsub-emulator-PORT.pem in the temporary directory]
    #[arg(long, value_name = "FILE")]
    pub(crate) pubsub_tls_cert: Option<PathBuf>,
    /// Serve the Streaming API only, no Pub/Sub API
    #[arg(long, conflicts_with_all = ["pubsub_port", "pubsub_tls", "pubsub_tls_cert"])]
    pub(crate) no_pubsub: bool,
}

/// `sfstream bridge`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BridgeArgs {
    /// The bridge's configuration (TOML): NATS, the stream, the orgs and their channels
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Option<BridgeCommand>,
}

/// What `sfstream bridge` does besides running.
#[derive(Debug, Subcommand)]
pub(crate) enum BridgeCommand {
    /// Print who holds which lease, the live replicas, and each channel's position in the stream
    Status,
    /// Check the configuration (and the secrets it names) and exit
    Check,
}

/// `sfstream demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Events published per channel and phase (four channels, four phases)
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(crate) events: u64,
    /// Keep the temporary directory with the store file
    #[arg(long)]
    pub(crate) keep: bool,
}

/// `--replay`: where to start, read for either API once the API is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplayArg {
    /// `new` or `-1`.
    New,
    /// `all` or `-2`.
    All,
    /// A replay id as given: an integer (Streaming API) or base64 (Pub/Sub API).
    Id(String),
}

impl ReplayArg {
    /// The Streaming API's start.
    pub(crate) fn streaming(&self) -> Result<ReplayFrom, String> {
        match self {
            Self::New => Ok(ReplayFrom::New),
            Self::All => Ok(ReplayFrom::All),
            Self::Id(text) => match text.parse::<i64>() {
                Ok(id) if id >= 0 => Ok(ReplayFrom::Id(id)),
                _ => Err(format!(
                    "{text:?} is not a Streaming API replay id: use new, all, or a replay id (a \
                     non-negative integer); base64 replay ids are for --api pubsub"
                )),
            },
        }
    }

    /// The Pub/Sub API's start.
    pub(crate) fn pubsub(&self) -> Result<PubSubReplayFrom, String> {
        match self {
            Self::New => Ok(PubSubReplayFrom::Latest),
            Self::All => Ok(PubSubReplayFrom::Earliest),
            Self::Id(text) => ReplayId::from_base64(text)
                .map(PubSubReplayFrom::Custom)
                .map_err(|e| {
                    format!(
                        "{e}. Use new, all, or the replayId of a line `sfstream listen --api \
                         pubsub` printed, e.g. --replay AAAAAAAAAAk="
                    )
                }),
        }
    }
}

/// `new`, `all`, `-1`, `-2` or a replay id (checked against the API later).
fn parse_replay(s: &str) -> Result<ReplayArg, String> {
    let s = s.trim();
    match s.to_ascii_lowercase().as_str() {
        "new" | "-1" => Ok(ReplayArg::New),
        "all" | "-2" => Ok(ReplayArg::All),
        "" => Err("use new, all, or a replay id".to_owned()),
        _ if s.parse::<i64>().is_ok_and(|id| id < 0) => Err(
            "use new, all, or a replay id (a non-negative integer, or base64 with --api pubsub)"
                .to_owned(),
        ),
        _ => Ok(ReplayArg::Id(s.to_owned())),
    }
}

fn parse_fallback(s: &str) -> Result<ReplayFallback, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "all" | "-2" => Ok(ReplayFallback::All),
        "new" | "-1" => Ok(ReplayFallback::New),
        _ => Err("use all (replay every retained event) or new (skip to new events)".to_owned()),
    }
}

/// The longest duration any flag accepts: far beyond any real run, and far below what the
/// clocks' arithmetic can hold, so no deadline computed from a flag can overflow.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

/// `10s`, `5m`, `1h30m`, `250ms`, or a bare number of seconds; at most [`MAX_DURATION`].
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    parse_bounded(s, "")
}

/// A duration that limits a run (`--duration`, `--give-up-after`): leaving the flag out is the
/// way to have no limit, and the message says so.
fn parse_limit(s: &str) -> Result<Duration, String> {
    parse_bounded(s, "; leave the flag out for no limit")
}

fn parse_bounded(s: &str, no_limit_hint: &str) -> Result<Duration, String> {
    const TOO_LONG: &str = "too long: the longest accepted duration is 100 years (100y)";
    let s = s.trim();
    let d = if let Ok(secs) = s.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return Err("a duration must be a non-negative number of seconds".to_owned());
        }
        if secs > MAX_DURATION.as_secs_f64() {
            return Err(format!("{TOO_LONG}{no_limit_hint}"));
        }
        Duration::from_secs_f64(secs)
    } else {
        match humantime::parse_duration(s) {
            Ok(d) => d,
            Err(humantime::DurationError::NumberOverflow) => {
                return Err(format!("{TOO_LONG}{no_limit_hint}"));
            }
            Err(e) => {
                return Err(format!(
                    "{e}; use e.g. 30s, 5m, 1h30m, 250ms or a number of seconds"
                ));
            }
        }
    };
    if d > MAX_DURATION {
        return Err(format!("{TOO_LONG}{no_limit_hint}"));
    }
    Ok(d)
}

/// A boolean environment value or flag value.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "no" | "n" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_values() {
        let streaming = |s: &str| parse_replay(s).and_then(|r| r.streaming());
        assert_eq!(streaming("new"), Ok(ReplayFrom::New));
        assert_eq!(streaming("ALL"), Ok(ReplayFrom::All));
        assert_eq!(streaming("-2"), Ok(ReplayFrom::All));
        assert_eq!(streaming("42"), Ok(ReplayFrom::Id(42)));
        assert_eq!(streaming("-1"), Ok(ReplayFrom::New));
        assert!(parse_replay("-3").is_err());
        assert!(streaming("soon").unwrap_err().contains("--api pubsub"));
        let pubsub = |s: &str| parse_replay(s).and_then(|r| r.pubsub());
        assert_eq!(pubsub("all"), Ok(PubSubReplayFrom::Earliest));
        assert_eq!(
            pubsub("AAAAAAAAAAk="),
            Ok(PubSubReplayFrom::Custom(ReplayId::from_u64(9)))
        );
        assert!(
            pubsub("not base64!")
                .unwrap_err()
                .contains("--replay AAAAAAAAAAk=")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("100y"), Ok(MAX_DURATION));
        assert!(parse_duration("NaN").is_err());
        assert!(parse_duration("inf").unwrap_err().contains("100 years"));
        assert!(
            parse_limit("500000000000y")
                .unwrap_err()
                .contains("leave the flag out")
        );
        assert!(parse_duration("1e300").unwrap_err().contains("100 years"));
    }

    proptest::proptest! {
        /// Whatever the text, a duration flag either refuses it or yields a duration that every
        /// deadline computed from it can hold.
        #[test]
        fn no_duration_flag_value_overflows(
            number in proptest::prop_oneof![
                0u64..1000,
                proptest::num::u64::ANY,
            ],
            fraction in proptest::option::of(0u32..1000),
            unit in proptest::sample::select(vec![
                "", "ns", "us", "ms", "s", "m", "h", "d", "w", "M", "y", "e3", "e30",
            ]),
        ) {
            let text = match fraction {
                Some(f) if unit.is_empty() || unit.starts_with('e') => format!("{number}.{f}{unit}"),
                _ => format!("{number}{unit}"),
            };
            for parse in [parse_duration, parse_limit] {
                match parse(&text) {
                    Ok(d) => {
                        proptest::prop_assert!(d <= MAX_DURATION, "{text} -> {d:?}");
                        let now = std::time::Instant::now();
                        proptest::prop_assert!(now.checked_add(d).is_some());
                        proptest::prop_assert!(tokio::time::Instant::now().checked_add(d).is_some());
                        proptest::prop_assert!(
                            std::time::SystemTime::now().checked_add(d).is_some()
                        );
                    }
                    Err(e) => proptest::prop_assert!(!e.is_empty()),
                }
            }
        }
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
