//! The bridge's configuration file (TOML), checked in full before anything starts.
//!
//! Every mistake is reported with the key it is about and what to write instead. Secrets are
//! never part of the file: a key such as `password` is refused, and `password_env` (the name
//! of an environment variable) or `password_file` (a path) is asked for instead, so that the
//! file can be reviewed, committed and shown in logs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sfstream_tokio::{Credentials, JwtKey, JwtKeyFromPem as _, LoginUrl, ReplayFallback, Secret};

use crate::subject;

/// A configuration mistake: the key it is about and a sentence that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    /// The file (or `<config>` for a string).
    pub file: String,
    /// The key, as a path: `connection[2].channel[0].start`.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The whole configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BridgeConfig {
    /// This replica's settings.
    pub replica: ReplicaSettings,
    /// How to reach NATS.
    pub nats: NatsSettings,
    /// The stream events go to.
    pub stream: StreamSettings,
    /// The Salesforce orgs to bridge, in file order.
    pub connections: Vec<ConnectionConfig>,
}

/// Settings of one replica and of the leases replicas share.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReplicaSettings {
    /// This replica's name in leases and membership (default: host name and process id).
    pub replica_id: String,
    /// How long a lease lives without renewal; a dead replica's connections are taken over
    /// this long (plus the server's expiry delay) after its last renewal.
    pub lease_ttl: Duration,
    /// The prefix of the key-value buckets (`<prefix>_leases`, `<prefix>_members`,
    /// `<prefix>_positions`).
    pub bucket_prefix: String,
    /// Where `/metrics` and `/healthz` are served; `None`: not served.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl ReplicaSettings {
    /// How often leases and membership are renewed: a third of the lease time, so that two
    /// renewals can fail before a lease is at risk.
    #[must_use]
    pub fn renew_every(&self) -> Duration {
        self.lease_ttl / 3
    }
}

/// How to reach NATS.
#[derive(Clone)]
#[non_exhaustive]
pub struct NatsSettings {
    /// Server URLs (`nats://host:4222`, `tls://host:4222`).
    pub servers: Vec<String>,
    /// How the bridge authenticates.
    pub auth: NatsAuth,
    /// TLS settings; `None`: as the URLs say.
    pub tls: Option<TlsSettings>,
    /// The client's name on the server (`connz`).
    pub name: String,
    /// How long one publish waits for JetStream's acknowledgement before it is sent again
    /// (with the same message id).
    pub ack_timeout: Duration,
    /// Give up connecting at start after this long (the bridge keeps retrying afterwards).
    pub connect_timeout: Duration,
    /// Publishes of one channel awaiting their acknowledgement at once. 1 (the default) fences
    /// every publish with the channel's last sequence: in order, nothing lost, one round trip
    /// per event. More (opt-in) fences the first publish after a start or a failure and relies
    /// on the message id for the rest, trading two narrow loss cases for throughput (see the
    /// crate's documentation and `ARCHITECTURE.md`).
    pub max_in_flight: usize,
}

impl std::fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSettings")
            .field("servers", &self.servers)
            .field("auth", &self.auth.kind())
            .field("tls", &self.tls)
            .field("ack_timeout", &self.ack_timeout)
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

/// NATS authentication. Secrets are [`Secret`]s: their `Debug` shows `***`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum NatsAuth {
    /// No authentication.
    None,
    /// User and password.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: Secret,
    },
    /// A token.
    Token(Secret),
    /// An nkey seed (`SU…`).
    Nkey(Secret),
    /// A credentials file (JWT and nkey seed), as `nsc` writes it.
    CredsFile(PathBuf),
}

impl NatsAuth {
    /// The kind, for logs.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::UserPassword { .. } => "user/password",
            Self::Token(_) => "token",
            Self::Nkey(_) => "nkey",
            Self::CredsFile(_) => "creds file",
        }
    }
}

/// TLS to NATS.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TlsSettings {
    /// Insist on TLS even for `nats://` URLs.
    pub required: bool,
    /// Extra CA certificates (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and its key (PEM), for servers that verify clients.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// The JetStream stream the bridge writes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamSettings {
    /// The stream's name.
    pub name: String,
    /// The first subject token(s): events go to `<prefix>.<org id>.<channel tokens>`.
    pub subject_prefix: String,
    /// Replicas (1, 3 or 5 in practice).
    pub replicas: usize,
    /// How long messages are kept (`None`: forever).
    pub max_age: Option<Duration>,
    /// Largest stream size in bytes (`None`: unlimited).
    pub max_bytes: Option<u64>,
    /// The duplicate window: re-sends of a message id within it are dropped by the server.
    pub duplicate_window: Duration,
    /// File (default) or memory storage.
    pub storage: Storage,
}

impl StreamSettings {
    /// The subjects the stream must cover.
    #[must_use]
    pub fn subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }
}

/// Where JetStream keeps the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Storage {
    /// On disk.
    File,
    /// In memory.
    Memory,
}

/// One Salesforce org.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// A unique name (the lease key).
    pub name: String,
    /// The org's 15- or 18-character id (the second subject token).
    pub org_id: String,
    /// How to authenticate (secrets read from the environment or files at load).
    pub credentials: Credentials,
    /// The channels of this org.
    pub channels: Vec<ChannelConfig>,
    /// The CometD API version.
    pub api_version: Option<String>,
    /// How many events may wait in memory before they are fetched again by replay.
    pub max_pending: usize,
}

/// One channel of an org.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelConfig {
    /// `/event/Order__e`, `/data/AccountChangeEvent`, …
    pub name: String,
    /// Where the channel starts when the stream holds nothing for it yet.
    pub start: Start,
    /// What to do when Salesforce rejects the stored position (too old): `None` fails the
    /// channel (and the bridge reports it).
    pub fallback: Option<ReplayFallback>,
}

/// Where a channel without a position starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Start {
    /// New events only (`-1`).
    New,
    /// Every retained event (`-2`).
    All,
    /// After this replay id.
    After(i64),
}

/// Key names that would hold a secret inline, and the keys to use instead.
const INLINE_SECRETS: &[&str] = &[
    "password",
    "client_secret",
    "refresh_token",
    "access_token",
    "token",
    "nkey_seed",
    "jwt_key",
];

/// Parses and checks a configuration file, reading the secrets it names.
pub fn load(path: &Path) -> Result<BridgeConfig, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        key: "(file)".into(),
        message: format!(
            "cannot read the configuration: {e}; pass --config with a readable TOML file"
        ),
    })?;
    parse(&text, &file, path.parent().unwrap_or(Path::new(".")))
}

/// Parses and checks a configuration from a string; relative paths are taken from `base_dir`.
pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<BridgeConfig, ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        file: file.to_owned(),
        key: key.to_owned(),
        message,
    };
    // Inline secrets first: the TOML error for an unknown key would not say why it is refused.
    if let Ok(value) = text.parse::<toml::Table>()
        && let Some(key) = find_inline_secret(&value, "")
    {
        let leaf = key.rsplit('.').next().unwrap_or(&key).to_owned();
        return Err(err(
            &key,
            format!(
                "secrets are never written in the configuration file; name an environment \
                     variable with {leaf}_env = \"VARIABLE\" or a file with {leaf}_file = \"path\""
            ),
        ));
    }
    let raw: raw::File = toml::from_str(text).map_err(|e| {
        let key = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].lines().count().max(1);
                format!("line {line}")
            })
            .unwrap_or_else(|| "(syntax)".into());
        err(&key, e.message().to_string())
    })?;
    let ctx = Ctx { file, base_dir };
    build(raw, &ctx)
}

/// The dotted path of the first key that holds a secret inline.
fn find_inline_secret(table: &toml::Table, at: &str) -> Option<String> {
    for (key, value) in table {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        if INLINE_SECRETS.contains(&key.as_str()) {
            return Some(path);
        }
        match value {
            toml::Value::Table(t) => {
                if let Some(found) = find_inline_secret(t, &path) {
                    return Some(found);
                }
            }
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let toml::Value::Table(t) = item
                        && let Some(found) = find_inline_secret(t, &format!("{path}[{i}]"))
                    {
                        return Some(found);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

struct Ctx<'a> {
    file: &'a str,
    base_dir: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            key: key.into(),
            message: message.into(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            self.base_dir.join(p)
        }
    }

    fn duration(&self, key: &str, text: &str) -> Result<Duration, ConfigError> {
        humantime::parse_duration(text.trim()).map_err(|e| {
            self.err(
                key,
                format!(
                    "{text:?} is not a duration ({e}); write it like \"15s\", \"2m\" or \"7d\""
                ),
            )
        })
    }

    /// A secret named by `<name>_env` or `<name>_file` (exactly one of them).
    fn secret(
        &self,
        at: &str,
        name: &str,
        env: Option<&String>,
        file: Option<&String>,
    ) -> Result<Option<Secret>, ConfigError> {
        match (env, file) {
            (Some(_), Some(_)) => Err(self.err(
                format!("{at}{name}_env"),
                format!("give either {name}_env or {name}_file, not both"),
            )),
            (Some(var), None) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Some(Secret::from(v.trim().to_owned()))),
                Ok(_) => Err(self.err(
                    format!("{at}{name}_env"),
                    format!("the environment variable {var} is empty; set it to the {name}"),
                )),
                Err(_) => Err(self.err(
                    format!("{at}{name}_env"),
                    format!("the environment variable {var} is not set; export it with the {name}"),
                )),
            },
            (None, Some(path)) => {
                let full = self.path(path);
                match std::fs::read_to_string(&full) {
                    Ok(v) if !v.trim().is_empty() => Ok(Some(Secret::from(v.trim().to_owned()))),
                    Ok(_) => Err(self.err(
                        format!("{at}{name}_file"),
                        format!("{} is empty; write the {name} into it", full.display()),
                    )),
                    Err(e) => Err(self.err(
                        format!("{at}{name}_file"),
                        format!(
                            "cannot read {}: {e}; check the path and its permissions",
                            full.display()
                        ),
                    )),
                }
            }
            (None, None) => Ok(None),
        }
    }

    fn required_secret(
        &self,
        at: &str,
        name: &str,
        why: &str,
        env: Option<&String>,
        file: Option<&String>,
    ) -> Result<Secret, ConfigError> {
        self.secret(at, name, env, file)?.ok_or_else(|| {
            self.err(
                format!("{at}{name}_env"),
                format!("{why} needs the {name}: add {name}_env = \"VARIABLE\" or {name}_file = \"path\""),
            )
        })
    }
}

fn build(raw: raw::File, ctx: &Ctx<'_>) -> Result<BridgeConfig, ConfigError> {
    let replica = build_replica(raw.bridge.unwrap_or_default(), ctx)?;
    let nats = build_nats(raw.nats, ctx)?;
    let stream = build_stream(raw.stream.unwrap_or_default(), ctx)?;
    // The duplicate window is the safety net behind the positions: it must outlast a NATS
    // fail-over (up to 9 s seen, more when no leader is elected) plus a lease expiry.
    let needed = replica.lease_ttl * 2 + Duration::from_secs(30);
    if stream.duplicate_window < needed {
        return Err(ctx.err(
            "stream.duplicate_window",
            format!(
                "{} is too short for a lease of {}: a re-sent event must still be recognised after \
                 a fail-over and a lease expiry; use at least {} (twice the lease time plus 30 s)",
                humantime::format_duration(stream.duplicate_window),
                humantime::format_duration(replica.lease_ttl),
                humantime::format_duration(needed)
            ),
        ));
    }
    if raw.connection.is_empty() {
        return Err(ctx.err(
            "connection",
            "no connection configured; add a [[connection]] table with name, org_id, auth and channels",
        ));
    }
    let mut names = BTreeSet::new();
    let mut orgs = BTreeSet::new();
    let mut connections = Vec::new();
    for (i, c) in raw.connection.into_iter().enumerate() {
        let at = format!("connection[{i}].");
        let conn = build_connection(c, &at, ctx)?;
        if !names.insert(conn.name.clone()) {
            return Err(ctx.err(
                format!("{at}name"),
                format!(
                    "the name {:?} is used twice; every connection needs its own",
                    conn.name
                ),
            ));
        }
        if !orgs.insert(conn.org_id.clone()) {
            return Err(ctx.err(
                format!("{at}org_id"),
                format!(
                    "org {} is configured twice; one connection per org keeps one Salesforce \
                     session per org: list all its channels under one connection",
                    conn.org_id
                ),
            ));
        }
        connections.push(conn);
    }
    Ok(BridgeConfig {
        replica,
        nats,
        stream,
        connections,
    })
}

fn build_replica(raw: raw::Bridge, ctx: &Ctx<'_>) -> Result<ReplicaSettings, ConfigError> {
    let lease_ttl = match &raw.lease_ttl {
        Some(t) => ctx.duration("bridge.lease_ttl", t)?,
        None => Duration::from_secs(15),
    };
    if lease_ttl < Duration::from_secs(1) {
        return Err(ctx.err(
            "bridge.lease_ttl",
            "must be at least 1s (15s is the default: longer than a NATS fail-over, so that a pause \
             of the server does not move every connection)",
        ));
    }
    let bucket_prefix = raw.bucket_prefix.unwrap_or_else(|| "sfstream".into());
    if bucket_prefix.is_empty()
        || !bucket_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ctx.err(
            "bridge.bucket_prefix",
            format!("{bucket_prefix:?} may hold only letters, digits, '_' and '-'"),
        ));
    }
    let replica_id = match raw.replica_id {
        Some(id) => id,
        None => default_replica_id(),
    };
    if !subject::is_kv_key(&replica_id) {
        return Err(ctx.err(
            "bridge.replica_id",
            format!("{replica_id:?} may hold only letters, digits and - _ = /"),
        ));
    }
    let metrics_listen = match raw.metrics_listen.as_deref() {
        None | Some("") => None,
        Some(addr) => Some(addr.parse().map_err(|_| {
            ctx.err(
                "bridge.metrics_listen",
                format!("{addr:?} is not an address; write it like \"127.0.0.1:9464\""),
            )
        })?),
    };
    Ok(ReplicaSettings {
        replica_id,
        lease_ttl,
        bucket_prefix,
        metrics_listen,
    })
}

/// The host name and the process id: unique among live replicas, readable in `status`.
fn default_replica_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "replica".into());
    let host: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{host}-{}", std::process::id())
}

/// Publishes of one channel under way at once, by default: one, so every publish is fenced.
/// Pipelining (more) is an opt-in, as it can lose an event in two narrow cases
/// (`ARCHITECTURE.md`, "Fenced by default; pipelined writes are an opt-in").
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1;

fn build_nats(raw: Option<raw::Nats>, ctx: &Ctx<'_>) -> Result<NatsSettings, ConfigError> {
    let Some(raw) = raw else {
        return Err(ctx.err(
            "nats",
            "missing; add a [nats] table with servers = [\"nats://127.0.0.1:4222\"]",
        ));
    };
    if raw.servers.is_empty() {
        return Err(ctx.err(
            "nats.servers",
            "empty; list at least one server, e.g. [\"nats://127.0.0.1:4222\"]",
        ));
    }
    for (i, s) in raw.servers.iter().enumerate() {
        if s.parse::<async_nats::ServerAddr>().is_err() {
            return Err(ctx.err(
                format!("nats.servers[{i}]"),
                format!("{s:?} is not a server address; write nats://host:4222 or tls://host:4222"),
            ));
        }
    }
    let password = ctx.secret(
        "nats.",
        "password",
        raw.password_env.as_ref(),
        raw.password_file.as_ref(),
    )?;
    let token = ctx.secret(
        "nats.",
        "token",
        raw.token_env.as_ref(),
        raw.token_file.as_ref(),
    )?;
    let nkey = ctx.secret(
        "nats.",
        "nkey_seed",
        raw.nkey_seed_env.as_ref(),
        raw.nkey_seed_file.as_ref(),
    )?;
    let creds = raw.creds_file.as_deref().map(|p| ctx.path(p));
    let mut given = Vec::new();
    if raw.user.is_some() || password.is_some() {
        given.push("user/password");
    }
    if token.is_some() {
        given.push("token");
    }
    if nkey.is_some() {
        given.push("nkey_seed");
    }
    if creds.is_some() {
        given.push("creds_file");
    }
    if given.len() > 1 {
        return Err(ctx.err(
            "nats",
            format!(
                "several ways to authenticate are given ({}); keep one",
                given.join(", ")
            ),
        ));
    }
    let auth = match (raw.user, password, token, nkey, creds) {
        (Some(user), Some(password), ..) => NatsAuth::UserPassword { user, password },
        (Some(_), None, ..) => {
            return Err(ctx.err(
                "nats.user",
                "a user needs a password: add password_env = \"VARIABLE\" or password_file = \"path\"",
            ));
        }
        (None, Some(_), ..) => {
            return Err(ctx.err(
                "nats.password_env",
                "a password needs a user: add user = \"name\"",
            ));
        }
        (None, None, Some(t), ..) => NatsAuth::Token(t),
        (None, None, None, Some(seed), _) => {
            if nkeys::KeyPair::from_seed(seed.expose()).is_err() {
                return Err(ctx.err(
                    "nats.nkey_seed_env",
                    "the nkey seed is not valid; it is the SU… line `nk -gen user` prints",
                ));
            }
            NatsAuth::Nkey(seed)
        }
        (None, None, None, None, Some(path)) => {
            if let Err(e) = std::fs::metadata(&path) {
                return Err(ctx.err(
                    "nats.creds_file",
                    format!(
                        "cannot read {}: {e}; give the .creds file nsc wrote",
                        path.display()
                    ),
                ));
            }
            NatsAuth::CredsFile(path)
        }
        _ => NatsAuth::None,
    };
    let tls = match raw.tls {
        None => None,
        Some(t) => {
            let client_cert = match (t.cert_file, t.key_file) {
                (Some(c), Some(k)) => Some((ctx.path(&c), ctx.path(&k))),
                (None, None) => None,
                _ => {
                    return Err(ctx.err(
                        "nats.tls.cert_file",
                        "a client certificate needs both cert_file and key_file",
                    ));
                }
            };
            let ca_file = t.ca_file.map(|p| ctx.path(&p));
            for (key, path) in [("nats.tls.ca_file", ca_file.as_ref())].into_iter().chain(
                client_cert.iter().flat_map(|(c, k)| {
                    [
                        ("nats.tls.cert_file", Some(c)),
                        ("nats.tls.key_file", Some(k)),
                    ]
                }),
            ) {
                if let Some(path) = path
                    && let Err(e) = std::fs::metadata(path)
                {
                    return Err(ctx.err(key, format!("cannot read {}: {e}", path.display())));
                }
            }
            Some(TlsSettings {
                required: t.required.unwrap_or(true),
                ca_file,
                client_cert,
            })
        }
    };
    let ack_timeout = match &raw.ack_timeout {
        Some(t) => ctx.duration("nats.ack_timeout", t)?,
        None => Duration::from_secs(5),
    };
    let connect_timeout = match &raw.connect_timeout {
        Some(t) => ctx.duration("nats.connect_timeout", t)?,
        None => Duration::from_secs(10),
    };
    let max_in_flight = match raw.max_in_flight {
        None => DEFAULT_MAX_IN_FLIGHT,
        Some(n) if (1..=10_000).contains(&n) => n,
        Some(n) => {
            return Err(ctx.err(
                "nats.max_in_flight",
                format!(
                    "{n} is out of range; write a number from 1 (every publish fenced) to 10000"
                ),
            ));
        }
    };
    Ok(NatsSettings {
        max_in_flight,
        servers: raw.servers,
        auth,
        tls,
        name: raw.name.unwrap_or_else(|| "sfstream-bridge".into()),
        ack_timeout,
        connect_timeout,
    })
}

fn build_stream(raw: raw::Stream, ctx: &Ctx<'_>) -> Result<StreamSettings, ConfigError> {
    let name = raw.name.unwrap_or_else(|| "SALESFORCE".into());
    if name.is_empty()
        || name
            .chars()
            .any(|c| matches!(c, '.' | '*' | '>' | ' ' | '\t' | '/' | '\\'))
    {
        return Err(ctx.err(
            "stream.name",
            format!("{name:?} is not a stream name: no spaces, '.', '*', '>', '/' or '\\'"),
        ));
    }
    let subject_prefix = raw.subject_prefix.unwrap_or_else(|| "salesforce".into());
    if !subject::is_subject(&subject_prefix) {
        return Err(ctx.err(
            "stream.subject_prefix",
            format!("{subject_prefix:?} is not a subject: tokens of letters, digits, '_' or '-', joined by '.'"),
        ));
    }
    let replicas = raw.replicas.unwrap_or(1);
    if !(1..=5).contains(&replicas) {
        return Err(ctx.err(
            "stream.replicas",
            format!(
                "{replicas} is out of range; JetStream takes 1 to 5 (3 survives a node's loss)"
            ),
        ));
    }
    match raw.retention.as_deref() {
        None | Some("limits") => {}
        Some(other) => {
            return Err(ctx.err(
                "stream.retention",
                format!(
                    "{other:?} is not supported: the bridge keeps each channel's position in the \
                     stream's last message of its subject, which interest and work-queue retention \
                     delete once consumed; use \"limits\" (and consumers that ack as they like)"
                ),
            ));
        }
    }
    let max_age = match raw.max_age.as_deref() {
        None | Some("0") | Some("0s") => None,
        Some(t) => Some(ctx.duration("stream.max_age", t)?),
    };
    let max_bytes = match raw.max_bytes {
        None | Some(-1) => None,
        Some(n) if n > 0 => Some(n.unsigned_abs()),
        Some(n) => {
            return Err(ctx.err(
                "stream.max_bytes",
                format!("{n} is not a size; give a positive number of bytes or -1 for unlimited"),
            ));
        }
    };
    let duplicate_window = match &raw.duplicate_window {
        Some(t) => ctx.duration("stream.duplicate_window", t)?,
        None => Duration::from_secs(120),
    };
    let storage = match raw.storage.as_deref() {
        None | Some("file") => Storage::File,
        Some("memory") => Storage::Memory,
        Some(other) => {
            return Err(ctx.err(
                "stream.storage",
                format!("{other:?} is not a storage; write \"file\" or \"memory\""),
            ));
        }
    };
    Ok(StreamSettings {
        name,
        subject_prefix,
        replicas,
        max_age,
        max_bytes,
        duplicate_window,
        storage,
    })
}

fn build_connection(
    raw: raw::Connection,
    at: &str,
    ctx: &Ctx<'_>,
) -> Result<ConnectionConfig, ConfigError> {
    if raw.name.is_empty() || !subject::is_kv_key(&raw.name) {
        return Err(ctx.err(
            format!("{at}name"),
            format!(
                "{:?} may hold only letters, digits and - _ = (it is a lease key)",
                raw.name
            ),
        ));
    }
    if !(raw.org_id.len() == 15 || raw.org_id.len() == 18)
        || !raw.org_id.chars().all(|c| c.is_ascii_alphanumeric())
        || !raw.org_id.starts_with("00D")
    {
        return Err(ctx.err(
            format!("{at}org_id"),
            format!(
                "{:?} is not an org id; it is the 15- or 18-character id starting with 00D (Setup → \
                 Company Information)",
                raw.org_id
            ),
        ));
    }
    let login = match raw.login_url.as_deref() {
        None | Some("production") => LoginUrl::Production,
        Some("sandbox") => LoginUrl::Sandbox,
        Some(url) => {
            let login = LoginUrl::Custom(url.to_owned());
            if let Err(e) = login.validate() {
                return Err(ctx.err(format!("{at}login_url"), e.to_string()));
            }
            login
        }
    };
    let client_id = || {
        raw.client_id.clone().ok_or_else(|| {
            ctx.err(
                format!("{at}client_id"),
                "missing; give the Connected App's consumer key",
            )
        })
    };
    let username = || {
        raw.username.clone().ok_or_else(|| {
            ctx.err(
                format!("{at}username"),
                "missing; give the Salesforce user name",
            )
        })
    };
    let auth = raw.auth.as_deref().unwrap_or("password");
    let what = format!("auth = \"{auth}\"");
    let credentials = match auth {
        "password" => Credentials::Password {
            client_id: client_id()?,
            client_secret: ctx.required_secret(
                at,
                "client_secret",
                &what,
                raw.client_secret_env.as_ref(),
                raw.client_secret_file.as_ref(),
            )?,
            username: username()?,
            password: ctx.required_secret(
                at,
                "password",
                &what,
                raw.password_env.as_ref(),
                raw.password_file.as_ref(),
            )?,
            login,
        },
        "refresh_token" => Credentials::RefreshToken {
            client_id: client_id()?,
            client_secret: ctx
                .secret(
                    at,
                    "client_secret",
                    raw.client_secret_env.as_ref(),
                    raw.client_secret_file.as_ref(),
                )?
                .unwrap_or_else(|| Secret::from(String::new())),
            refresh_token: ctx.required_secret(
                at,
                "refresh_token",
                &what,
                raw.refresh_token_env.as_ref(),
                raw.refresh_token_file.as_ref(),
            )?,
            login,
        },
        "client_credentials" => Credentials::ClientCredentials {
            client_id: client_id()?,
            client_secret: ctx.required_secret(
                at,
                "client_secret",
                &what,
                raw.client_secret_env.as_ref(),
                raw.client_secret_file.as_ref(),
            )?,
            login,
        },
        "jwt" => {
            let pem = ctx.required_secret(
                at,
                "jwt_key",
                &what,
                raw.jwt_key_env.as_ref(),
                raw.jwt_key_file.as_ref(),
            )?;
            let key = JwtKey::from_pem(pem.expose())
                .map_err(|e| ctx.err(format!("{at}jwt_key_file"), format!("{e}")))?;
            Credentials::JwtBearer {
                client_id: client_id()?,
                username: username()?,
                key,
                login,
                audience: None,
            }
        }
        "access_token" => Credentials::AccessToken {
            access_token: ctx.required_secret(
                at,
                "access_token",
                &what,
                raw.access_token_env.as_ref(),
                raw.access_token_file.as_ref(),
            )?,
            instance_url: match raw.login_url {
                Some(u) if u != "production" && u != "sandbox" => u,
                _ => {
                    return Err(ctx.err(
                        format!("{at}login_url"),
                        "auth = \"access_token\" needs login_url = the instance URL the token belongs to",
                    ));
                }
            },
        },
        other => {
            return Err(ctx.err(
                format!("{at}auth"),
                format!(
                    "{other:?} is not a flow; write \"password\", \"refresh_token\", \
                     \"client_credentials\", \"jwt\" or \"access_token\""
                ),
            ));
        }
    };
    if let Err(e) = credentials.validate() {
        return Err(ctx.err(format!("{at}auth"), e.to_string()));
    }
    if raw.channel.is_empty() {
        return Err(ctx.err(
            format!("{at}channel"),
            "no channel; add [[connection.channel]] tables with name = \"/event/Order__e\"",
        ));
    }
    let mut channels = Vec::new();
    let mut seen = BTreeSet::new();
    for (j, ch) in raw.channel.into_iter().enumerate() {
        let at = format!("{at}channel[{j}].");
        if subject::channel_tokens(&ch.name).is_none() {
            return Err(ctx.err(
                format!("{at}name"),
                format!(
                    "{:?} is not a channel the bridge can map to a subject; write /event/Name__e, \
                     /data/Name, /topic/Name or /u/Name (segments of letters, digits, '_' and '-')",
                    ch.name
                ),
            ));
        }
        if !seen.insert(ch.name.clone()) {
            return Err(ctx.err(format!("{at}name"), format!("{} is listed twice", ch.name)));
        }
        let start = match &ch.start {
            None => Start::New,
            Some(raw::StartValue::Word(w)) if w == "new" => Start::New,
            Some(raw::StartValue::Word(w)) if w == "all" => Start::All,
            Some(raw::StartValue::Id(id)) if *id >= 0 => Start::After(*id),
            Some(other) => {
                return Err(ctx.err(
                    format!("{at}start"),
                    format!("{other:?} is not a start; write \"new\", \"all\" or a replay id (a number ≥ 0)"),
                ));
            }
        };
        let fallback = match ch.fallback.as_deref() {
            None | Some("all") => Some(ReplayFallback::All),
            Some("new") => Some(ReplayFallback::New),
            Some("none") => None,
            Some(other) => {
                return Err(ctx.err(
                    format!("{at}fallback"),
                    format!("{other:?} is not a fallback; write \"all\", \"new\" or \"none\""),
                ));
            }
        };
        channels.push(ChannelConfig {
            name: ch.name,
            start,
            fallback,
        });
    }
    let max_pending = raw.max_pending.unwrap_or(1000);
    if max_pending == 0 {
        return Err(ctx.err(
            format!("{at}max_pending"),
            "must be at least 1 (default 1000)",
        ));
    }
    Ok(ConnectionConfig {
        name: raw.name,
        org_id: raw.org_id,
        credentials,
        channels,
        api_version: raw.api_version,
        max_pending,
    })
}

/// The file's shape, as serde reads it.
mod raw {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct File {
        pub(super) bridge: Option<Bridge>,
        pub(super) nats: Option<Nats>,
        pub(super) stream: Option<Stream>,
        #[serde(default)]
        pub(super) connection: Vec<Connection>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Bridge {
        pub(super) replica_id: Option<String>,
        pub(super) lease_ttl: Option<String>,
        pub(super) bucket_prefix: Option<String>,
        pub(super) metrics_listen: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Nats {
        #[serde(default)]
        pub(super) servers: Vec<String>,
        pub(super) name: Option<String>,
        pub(super) user: Option<String>,
        pub(super) password_env: Option<String>,
        pub(super) password_file: Option<String>,
        pub(super) token_env: Option<String>,
        pub(super) token_file: Option<String>,
        pub(super) nkey_seed_env: Option<String>,
        pub(super) nkey_seed_file: Option<String>,
        pub(super) creds_file: Option<String>,
        pub(super) tls: Option<Tls>,
        pub(super) ack_timeout: Option<String>,
        pub(super) connect_timeout: Option<String>,
        pub(super) max_in_flight: Option<usize>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Tls {
        pub(super) required: Option<bool>,
        pub(super) ca_file: Option<String>,
        pub(super) cert_file: Option<String>,
        pub(super) key_file: Option<String>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Stream {
        pub(super) name: Option<String>,
        pub(super) subject_prefix: Option<String>,
        pub(super) replicas: Option<usize>,
        pub(super) retention: Option<String>,
        pub(super) max_age: Option<String>,
        pub(super) max_bytes: Option<i64>,
        pub(super) duplicate_window: Option<String>,
        pub(super) storage: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Connection {
        pub(super) name: String,
        pub(super) org_id: String,
        pub(super) auth: Option<String>,
        pub(super) login_url: Option<String>,
        pub(super) client_id: Option<String>,
        pub(super) username: Option<String>,
        pub(super) client_secret_env: Option<String>,
        pub(super) client_secret_file: Option<String>,
        pub(super) password_env: Option<String>,
        pub(super) password_file: Option<String>,
        pub(super) refresh_token_env: Option<String>,
        pub(super) refresh_token_file: Option<String>,
        pub(super) access_token_env: Option<String>,
        pub(super) access_token_file: Option<String>,
        pub(super) jwt_key_env: Option<String>,
        pub(super) jwt_key_file: Option<String>,
        pub(super) api_version: Option<String>,
        pub(super) max_pending: Option<usize>,
        #[serde(default)]
        pub(super) channel: Vec<Channel>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Channel {
        pub(super) name: String,
        pub(super) start: Option<StartValue>,
        pub(super) fallback: Option<String>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(untagged)]
    pub(super) enum StartValue {
        Id(i64),
        Word(String),
    }
}
