//! Starting and stopping the emulator.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{
    Credentials, DEFAULT_CHANNELS, DEFAULT_ORG_ID, DEFAULT_USER_ID, Org, Settings,
};
use crate::control::Control;
use crate::error::Error;
use crate::orgs::Orgs;
use crate::state::{Shared, State};
use crate::{jwt, server};

/// Configures and starts an [`Emulator`]. Every duration is configurable so that tests can run
/// the protocol's timeouts in milliseconds.
#[derive(Clone, Debug)]
#[must_use]
pub struct EmulatorBuilder {
    port: u16,
    long_poll_timeout: Duration,
    reconnect_deadline: Duration,
    retention: Duration,
    max_retained_events: usize,
    max_batch: usize,
    seed: u64,
    credentials: Credentials,
    jwt_public_key_pem: Option<String>,
    jwt_audiences: Vec<String>,
    min_api_version: u32,
    auto_create_channels: bool,
    secure_cookies: bool,
    max_clients: Option<usize>,
    channels: Vec<String>,
    public_url: Option<String>,
    bind: Option<IpAddr>,
    revoked_token_ends_sessions: bool,
    orgs: Vec<Org>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            port: 0,
            long_poll_timeout: Duration::from_secs(110),
            reconnect_deadline: Duration::from_secs(40),
            retention: Duration::from_secs(24 * 3600),
            max_retained_events: 100_000,
            max_batch: 1000,
            seed: 0,
            credentials: Credentials::default(),
            jwt_public_key_pem: None,
            jwt_audiences: Vec::new(),
            min_api_version: 37,
            auto_create_channels: false,
            secure_cookies: false,
            max_clients: None,
            channels: DEFAULT_CHANNELS.iter().map(|c| (*c).to_owned()).collect(),
            public_url: None,
            bind: None,
            revoked_token_ends_sessions: true,
            orgs: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// The port to listen on; 0 (the default) picks a free one. Without [`bind`](Self::bind)
    /// the emulator listens on this port of both loopback addresses, `127.0.0.1` and `::1`
    /// (the latter where the system has IPv6), so `localhost` reaches it whichever address a
    /// client resolves first.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How long a `/meta/connect` is held without events (default 110 s, advertised as
    /// `advice.timeout` in milliseconds).
    pub fn long_poll_timeout(mut self, timeout: Duration) -> Self {
        self.long_poll_timeout = timeout;
        self
    }

    /// How long a session survives without a connect after the last reply (default 40 s).
    pub fn reconnect_deadline(mut self, deadline: Duration) -> Self {
        self.reconnect_deadline = deadline;
        self
    }

    /// How long events are kept for replay (default 24 h).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// At most this many events are kept per channel (default 100,000); older ones are dropped.
    pub fn max_retained_events(mut self, max: usize) -> Self {
        self.max_retained_events = max.max(1);
        self
    }

    /// At most this many events per connect reply (default 1,000); also the bulk batch size.
    pub fn max_batch(mut self, max: usize) -> Self {
        self.max_batch = max.max(1);
        self
    }

    /// Seeds every random choice (client ids, tokens, replay id steps, event ids).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The credentials to accept (default: [`Credentials::default`]).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The PEM RSA public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) that verifies JWT
    /// bearer assertions. Without one, every assertion is refused.
    pub fn jwt_public_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.jwt_public_key_pem = Some(pem.into());
        self
    }

    /// An extra accepted JWT audience, besides `https://login.salesforce.com`,
    /// `https://test.salesforce.com` and the emulator's base URL.
    pub fn jwt_audience(mut self, audience: impl Into<String>) -> Self {
        self.jwt_audiences.push(audience.into());
        self
    }

    /// The lowest accepted API major version (default 37).
    pub fn min_api_version(mut self, major: u32) -> Self {
        self.min_api_version = major;
        self
    }

    /// Create valid channels on first subscribe or publish instead of answering "doesn't
    /// exist" (default off).
    pub fn auto_create_channels(mut self, on: bool) -> Self {
        self.auto_create_channels = on;
        self
    }

    /// Add `Secure` to the `sfdc-stream` cookie (default off: the emulator speaks plain http,
    /// and RFC 6265 clients would not send a `Secure` cookie back over it).
    pub fn secure_cookies(mut self, on: bool) -> Self {
        self.secure_cookies = on;
        self
    }

    /// Deny handshakes beyond this many live sessions with the concurrent-limit failure reason.
    pub fn max_clients(mut self, max: usize) -> Self {
        self.max_clients = Some(max);
        self
    }

    /// The base URL the emulator advertises: the `instance_url` of token replies, the
    /// [`base_url`](Emulator::base_url), the settings of the control API and an accepted JWT
    /// audience. The default is `http://localhost:PORT`, a host name rather than an IP literal
    /// because several cookie jars (aiohttp's among them) ignore cookies from IP hosts. Use this
    /// when clients reach the emulator under another name (a container, a proxy, a tunnel):
    /// `http://emulator:8080`. Only the scheme, host and port count; a trailing `/` is dropped.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Listen on this one address instead of the two loopback addresses, e.g. `0.0.0.0` inside
    /// a container (anyone who can reach the address can then use the emulator's test
    /// credentials). Pair it with [`public_url`](Self::public_url).
    pub fn bind(mut self, address: IpAddr) -> Self {
        self.bind = Some(address);
        self
    }

    /// Whether revoking an access token also ends the Bayeux sessions it opened (default on, as
    /// on Salesforce: after `401::Authentication invalid` the old session does not come back
    /// with a new token; the client must handshake again). Off, a session keeps working once its
    /// client presents a new valid token.
    pub fn revoked_token_ends_sessions(mut self, on: bool) -> Self {
        self.revoked_token_ends_sessions = on;
        self
    }

    /// The channels that exist at start, replacing the default set
    /// ([`DEFAULT_CHANNELS`](crate::DEFAULT_CHANNELS)).
    pub fn channels<I, S>(mut self, channels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.channels = channels.into_iter().map(Into::into).collect();
        self
    }

    /// Serves one more org besides the default one: its own credentials, org id, channels (the
    /// same names as the default org's at start) and event logs, tokens, sessions, faults and
    /// statistics. Its control handle is [`Emulator::control_for`]; over HTTP, every control
    /// route is also under `/_emulator/orgs/{org id}/`.
    pub fn org(mut self, org: Org) -> Self {
        self.orgs.push(org);
        self
    }

    /// Serves `count` orgs in all: the default one and [`Org::numbered`] 2 to `count` (what
    /// `--orgs N` asks for). `0` and `1` both mean the default org alone.
    pub fn numbered_orgs(self, count: u32) -> Self {
        (2..=count).fold(self, |b, n| b.org(Org::numbered(n)))
    }

    /// Binds the listener and starts serving. Must be called inside a tokio runtime.
    pub async fn start(self) -> Result<Emulator, Error> {
        let jwt_key = self
            .jwt_public_key_pem
            .as_deref()
            .map(jwt::parse_public_key)
            .transpose()?;
        let listeners = match self.bind {
            Some(address) => vec![
                TcpListener::bind((address, self.port))
                    .await
                    .map_err(Error::Bind)?,
            ],
            None => bind_loopback(self.port).await?,
        };
        let addrs = listeners
            .iter()
            .map(TcpListener::local_addr)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Bind)?;
        let port = addrs.first().map_or(self.port, SocketAddr::port);
        let base_url = match &self.public_url {
            Some(url) => check_public_url(url)?,
            None => format!("http://localhost:{port}"),
        };
        let mut audiences = vec![
            "https://login.salesforce.com".to_owned(),
            "https://test.salesforce.com".to_owned(),
            base_url.clone(),
        ];
        audiences.extend(self.jwt_audiences);
        let base = Settings {
            base_url,
            long_poll_timeout: self.long_poll_timeout,
            reconnect_deadline: self.reconnect_deadline,
            retention: self.retention,
            max_retained_events: self.max_retained_events,
            max_batch: self.max_batch,
            min_api_version: self.min_api_version,
            credentials: self.credentials,
            jwt_key,
            jwt_audiences: audiences,
            auto_create_channels: self.auto_create_channels,
            secure_cookies: self.secure_cookies,
            max_clients: self.max_clients,
            revoked_token_ends_sessions: self.revoked_token_ends_sessions,
            org_id: DEFAULT_ORG_ID.to_owned(),
            user_id: DEFAULT_USER_ID.to_owned(),
        };
        let sweep_every =
            (base.reconnect_deadline / 2).clamp(Duration::from_millis(20), Duration::from_secs(1));
        let mut identities = vec![(
            base.org_id.clone(),
            base.user_id.clone(),
            base.credentials.clone(),
        )];
        for org in self.orgs {
            if identities.iter().any(|(id, _, _)| *id == org.org_id) {
                return Err(Error::InvalidArgument(format!(
                    "org {} is given twice (the default org is {DEFAULT_ORG_ID}); give every org its own id",
                    org.org_id
                )));
            }
            identities.push((org.org_id, org.user_id, org.credentials));
        }
        let mut list = Vec::new();
        for (i, (org_id, user_id, credentials)) in identities.into_iter().enumerate() {
            // Each org draws from its own generator, so adding orgs leaves the default org's
            // tokens, client ids and replay ids as they were.
            let mut state = State::new(self.seed.wrapping_add(i as u64));
            for name in &self.channels {
                state.create_channel(name)?;
            }
            state.tokens.insert(credentials.access_token.clone());
            let settings = Settings {
                org_id,
                user_id,
                credentials,
                ..base.clone()
            };
            list.push(Arc::new(Shared::new(settings, state)));
        }
        let orgs = Arc::new(Orgs::new(list));
        let shared = Arc::clone(orgs.default_org());
        let (stop, stopped) = watch::channel(false);
        let router = server::router(Arc::clone(&orgs));
        let task = tokio::spawn({
            let orgs = Arc::clone(&orgs);
            async move {
                let sweeper = tokio::spawn(server::sweep(orgs, sweep_every, stopped.clone()));
                server::serve(listeners, router, stopped).await;
                let _ = sweeper.await;
            }
        });
        Ok(Emulator {
            addrs,
            control: Control { shared },
            orgs,
            stop,
            task: Some(task),
        })
    }
}

/// Binds `127.0.0.1:port` and, where the system has IPv6, `[::1]:port`. With port 0, the
/// port picked for IPv4 may be taken on IPv6: a few fresh tries find one free on both.
async fn bind_loopback(port: u16) -> Result<Vec<TcpListener>, Error> {
    let mut tries = 0;
    loop {
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(Error::Bind)?;
        let chosen = v4.local_addr().map_err(Error::Bind)?.port();
        match TcpListener::bind((Ipv6Addr::LOCALHOST, chosen)).await {
            Ok(v6) => return Ok(vec![v4, v6]),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                tries += 1;
                if port != 0 || tries >= 8 {
                    // Another server on [::1] would answer clients that resolve `localhost`
                    // to it: refuse rather than advertise a URL that reaches the wrong server.
                    return Err(Error::Bind(std::io::Error::new(
                        e.kind(),
                        format!("[::1]:{chosen} is in use by another program: {e}"),
                    )));
                }
            }
            // No IPv6 on this system: `localhost` resolves to 127.0.0.1 only.
            Err(_) => return Ok(vec![v4]),
        }
    }
}

/// Checks a public URL: `http` or `https`, a host, an optional port, nothing else.
fn check_public_url(url: &str) -> Result<String, Error> {
    let bad = |why: &str| {
        Error::InvalidArgument(format!(
            "public URL {url:?} {why}; give scheme, host and port only, e.g. http://emulator:8080"
        ))
    };
    let trimmed = url.trim().trim_end_matches('/');
    let uri: http::Uri = trimmed.parse().map_err(|_| bad("is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad("must start with http:// or https://"));
    }
    let Some(authority) = uri.authority() else {
        return Err(bad("has no host"));
    };
    if authority.host().is_empty() || authority.as_str().contains('@') {
        return Err(bad("needs a host and no user info"));
    }
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return Err(bad("must not have a path or a query"));
    }
    Ok(trimmed.to_owned())
}

/// A running emulator. Dropping it stops it too; [`shutdown`](Self::shutdown) also waits.
#[derive(Debug)]
pub struct Emulator {
    addrs: Vec<SocketAddr>,
    control: Control,
    orgs: Arc<Orgs>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with the defaults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts an emulator with the defaults on a free port.
    pub async fn start() -> Result<Self, Error> {
        Self::builder().start().await
    }

    /// `http://localhost:PORT` (or the [public URL](EmulatorBuilder::public_url)): the
    /// `instance_url` and the login URL at once.
    pub fn base_url(&self) -> &str {
        self.control.base_url()
    }

    /// The first listening address (`127.0.0.1:PORT` unless bound elsewhere).
    pub fn addr(&self) -> SocketAddr {
        self.addrs
            .first()
            .copied()
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Every listening address: `127.0.0.1:PORT` and, where the system has IPv6, `[::1]:PORT`.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// A handle that steers the emulator.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// The credentials the emulator accepts.
    pub fn credentials(&self) -> &Credentials {
        self.control.credentials()
    }

    /// The control handle of org `org_id` (the default org's is [`control`](Self::control)).
    pub fn control_for(&self, org_id: &str) -> Option<Control> {
        self.orgs.get(org_id).map(|shared| Control {
            shared: Arc::clone(shared),
        })
    }

    /// The ids of every org served, the default org first.
    pub fn org_ids(&self) -> Vec<String> {
        self.orgs
            .all()
            .iter()
            .map(|s| s.settings.org_id.clone())
            .collect()
    }

    /// One line per org (id, user, consumer key, control API) under a heading, for a program
    /// that prints what a client needs; `None` when only the default org is served.
    pub fn orgs_text(&self) -> Option<String> {
        let controls: Vec<Control> = self
            .org_ids()
            .iter()
            .filter_map(|id| self.control_for(id))
            .collect();
        if controls.len() < 2 {
            return None;
        }
        let mut text = String::from(
            "Orgs (each with its own channels, events and sessions; the same password, security \
             token and secret):\n",
        );
        for c in &controls {
            text.push_str(&format!(
                "  {}  user {}  consumer key {}  control {}/_emulator/orgs/{}/\n",
                c.org_id(),
                c.credentials().username,
                c.credentials().client_id,
                c.base_url(),
                c.org_id()
            ));
        }
        Some(text)
    }

    /// Stops accepting, closes every connection (held long polls included) and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
