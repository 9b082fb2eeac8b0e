//! Starting and stopping the emulator.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Credentials, DEFAULT_CHANNELS, Settings};
use crate::control::Control;
use crate::error::Error;
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
        }
    }
}

impl EmulatorBuilder {
    /// The loopback port to listen on; 0 (the default) picks a free one.
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

    /// Binds the listener and starts serving. Must be called inside a tokio runtime.
    pub async fn start(self) -> Result<Emulator, Error> {
        let jwt_key = self
            .jwt_public_key_pem
            .as_deref()
            .map(jwt::parse_public_key)
            .transpose()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .await
            .map_err(Error::Bind)?;
        let addr = listener.local_addr().map_err(Error::Bind)?;
        let base_url = format!("http://127.0.0.1:{}", addr.port());
        let mut audiences = vec![
            "https://login.salesforce.com".to_owned(),
            "https://test.salesforce.com".to_owned(),
            base_url.clone(),
        ];
        audiences.extend(self.jwt_audiences);
        let mut state = State::new(self.seed);
        for name in &self.channels {
            state.create_channel(name)?;
        }
        state.tokens.insert(self.credentials.access_token.clone());
        let settings = Settings {
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
            org_id: "00DEM0000000001".to_owned(),
            user_id: "005EM0000000001".to_owned(),
        };
        let sweep_every = (settings.reconnect_deadline / 2)
            .clamp(Duration::from_millis(20), Duration::from_secs(1));
        let shared = Arc::new(Shared::new(settings, state));
        let (stop, stopped) = watch::channel(false);
        let router = server::router(Arc::clone(&shared));
        let task = tokio::spawn({
            let shared = Arc::clone(&shared);
            async move {
                let sweeper = tokio::spawn(server::sweep(shared, sweep_every, stopped.clone()));
                server::serve(listener, router, stopped).await;
                let _ = sweeper.await;
            }
        });
        Ok(Emulator {
            addr,
            control: Control { shared },
            stop,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops it too; [`shutdown`](Self::shutdown) also waits.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    control: Control,
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

    /// `http://127.0.0.1:PORT`: the `instance_url` and the login URL at once.
    pub fn base_url(&self) -> &str {
        self.control.base_url()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that steers the emulator.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// The credentials the emulator accepts.
    pub fn credentials(&self) -> &Credentials {
        self.control.credentials()
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
