//! Starting and stopping the emulator.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::{BuiltInTokens, TokenCheck};
use crate::clock::{Clock, EmulatorClock, SystemClock};
use crate::config::Settings;
use crate::control::Control;
use crate::error::Error;
use crate::schema::{DEFAULT_TOPICS, Field};
use crate::state::{Shared, State};
use crate::{server, tls, util};

/// The org id the emulator serves unless told otherwise (the Streaming API emulator's org).
pub const DEFAULT_ORG_ID: &str = "00DEM0000000001";

/// The access token accepted from the start unless told otherwise (the Streaming API
/// emulator's pre-issued token).
pub const DEFAULT_ACCESS_TOKEN: &str = "emulator-access-token";

/// Configures and starts a [`PubSubEmulator`]. Every duration is configurable so that tests run
/// the protocol's timeouts in milliseconds.
#[must_use]
pub struct PubSubEmulatorBuilder {
    port: u16,
    seed: u64,
    org_id: String,
    user_id: String,
    access_token: String,
    token_check: Option<Arc<dyn TokenCheck>>,
    clock: Option<Arc<dyn Clock>>,
    keepalive: Duration,
    idle_timeout: Duration,
    publish_idle_timeout: Duration,
    retention: Duration,
    max_events_per_response: usize,
    max_response_bytes: usize,
    commit_coalesce: Duration,
    not_found_as_permission_denied: bool,
    delivery_allocation: Option<u64>,
    max_publish_request_bytes: usize,
    max_event_bytes: usize,
    topics: Vec<(String, Option<Vec<Field>>)>,
    tls: bool,
    tls_cert_path: Option<PathBuf>,
}

impl std::fmt::Debug for PubSubEmulatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubEmulatorBuilder")
            .field("port", &self.port)
            .field("org_id", &self.org_id)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Default for PubSubEmulatorBuilder {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 0,
            org_id: util::id18(DEFAULT_ORG_ID),
            user_id: "005EM0000000001AAA".to_owned(),
            access_token: DEFAULT_ACCESS_TOKEN.to_owned(),
            token_check: None,
            clock: None,
            keepalive: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            publish_idle_timeout: Duration::from_secs(70),
            retention: Duration::from_secs(72 * 3600),
            max_events_per_response: 100,
            max_response_bytes: 3 * 1024 * 1024,
            commit_coalesce: Duration::from_millis(200),
            not_found_as_permission_denied: false,
            delivery_allocation: None,
            max_publish_request_bytes: 4 * 1024 * 1024,
            max_event_bytes: 1024 * 1024,
            topics: DEFAULT_TOPICS
                .iter()
                .map(|t| ((*t).to_owned(), None))
                .collect(),
            tls: false,
            tls_cert_path: None,
        }
    }
}

impl PubSubEmulatorBuilder {
    /// The loopback port; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Seeds every random choice (replay ids, event ids, rpc ids, tokens).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The org id (15 or 18 characters; kept in the 18-character form, both accepted as
    /// `tenantid`). Default [`DEFAULT_ORG_ID`].
    pub fn org_id(mut self, org_id: &str) -> Self {
        self.org_id = util::id18(org_id.trim());
        self
    }

    /// The user id written as `CreatedById` / `commitUser` of control-API events.
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = user_id.into();
        self
    }

    /// The access token the built-in check accepts from the start (default
    /// [`DEFAULT_ACCESS_TOKEN`]).
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = token.into();
        self
    }

    /// Replaces the built-in token check (a token set plus the org id), e.g. with one that asks
    /// the Streaming API emulator whether it issued the token.
    pub fn token_check(mut self, check: impl TokenCheck) -> Self {
        self.token_check = Some(Arc::new(check));
        self
    }

    /// The wall clock for event dates and retention (default: the system clock, which
    /// `Control::advance_clock` can move forward).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How often an idle subscription stream gets an empty keepalive response, and an idle
    /// `PublishStream` an empty `PublishResponse` (default 60 s; Salesforce promises ≤ 270 s).
    pub fn keepalive(mut self, every: Duration) -> Self {
        self.keepalive = every.max(Duration::from_millis(1));
        self
    }

    /// How long a subscription stream owed nothing may go without a request before it ends
    /// (default 60 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a `PublishStream` may go without a request carrying events (default 70 s).
    pub fn publish_idle_timeout(mut self, timeout: Duration) -> Self {
        self.publish_idle_timeout = timeout;
        self
    }

    /// How long events are kept for replay (default 72 h), measured on the emulator's clock.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// At most this many events per response (default 100); credits beyond it are answered by
    /// further responses.
    pub fn max_events_per_response(mut self, max: usize) -> Self {
        self.max_events_per_response = max.max(1);
        self
    }

    /// A response stops adding events past this many payload bytes (default 3 MiB; a single
    /// larger event still goes alone).
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max.max(1);
        self
    }

    /// How long a managed stream gathers commits before answering the newest (default 200 ms).
    pub fn commit_coalesce(mut self, window: Duration) -> Self {
        self.commit_coalesce = window;
        self
    }

    /// Answer unknown topics with `PERMISSION_DENIED` (`…topic.meta.permission`) instead of
    /// `NOT_FOUND` (`…topic.not.found`); Salesforce sends either.
    pub fn unknown_topic_permission_denied(mut self, on: bool) -> Self {
        self.not_found_as_permission_denied = on;
        self
    }

    /// The org's delivery allocation: once this many events were delivered, subscription
    /// streams end with `…subscription.limit.exceeded` (default: unlimited).
    pub fn delivery_allocation(mut self, events: u64) -> Self {
        self.delivery_allocation = Some(events);
        self
    }

    /// The largest `PublishRequest` accepted (default 4 MiB); larger ones fail `UNAVAILABLE`.
    pub fn max_publish_request_bytes(mut self, max: usize) -> Self {
        self.max_publish_request_bytes = max;
        self
    }

    /// The largest event payload accepted (default 1 MiB); larger ones fail with `PUBLISH`.
    pub fn max_event_bytes(mut self, max: usize) -> Self {
        self.max_event_bytes = max;
        self
    }

    /// The topics that exist at start, replacing the default set
    /// ([`DEFAULT_TOPICS`](crate::DEFAULT_TOPICS)), each with its default fields.
    pub fn topics<I, S>(mut self, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.topics = topics.into_iter().map(|t| (t.into(), None)).collect();
        self
    }

    /// Adds a topic with these fields.
    pub fn topic(mut self, name: impl Into<String>, fields: Vec<Field>) -> Self {
        self.topics.push((name.into(), Some(fields)));
        self
    }

    /// Serves TLS (HTTP/2 via ALPN) with a self-signed certificate for `localhost` and
    /// `127.0.0.1` instead of plaintext h2c (default off).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Where the certificate PEM goes (default: `sfstream-pubsub-emulator-<port>.pem` in the
    /// temporary directory). Implies [`tls(true)`](Self::tls).
    pub fn tls_cert_path(mut self, path: impl AsRef<Path>) -> Self {
        self.tls = true;
        self.tls_cert_path = Some(path.as_ref().to_owned());
        self
    }

    /// Binds `127.0.0.1` and starts serving. Must be called inside a tokio runtime.
    pub async fn start(self) -> Result<PubSubEmulator, Error> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .await
            .map_err(Error::Bind)?;
        let addr = listener.local_addr().map_err(Error::Bind)?;
        let (tls, cert_path) = if self.tls {
            let path = self.tls_cert_path.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("sfstream-pubsub-emulator-{}.pem", addr.port()))
            });
            (Some(tls::setup(&path)?), Some(path))
        } else {
            (None, None)
        };
        let url = match tls {
            Some(_) => format!("https://localhost:{}", addr.port()),
            None => format!("http://127.0.0.1:{}", addr.port()),
        };
        let mut state = State::new(self.seed);
        for (name, fields) in &self.topics {
            state.create_topic(name, fields.as_deref(), None)?;
        }
        let (check, built_in): (Arc<dyn TokenCheck>, _) = match self.token_check {
            Some(check) => (check, None),
            None => {
                let tokens = Arc::new(BuiltInTokens::new(&self.access_token, &self.org_id));
                (Arc::clone(&tokens) as Arc<dyn TokenCheck>, Some(tokens))
            }
        };
        let clock = match self.clock {
            Some(c) => EmulatorClock::Injected(c),
            None => EmulatorClock::System(SystemClock::default()),
        };
        let settings = Settings {
            url,
            org_id: self.org_id,
            user_id: self.user_id,
            access_token: self.access_token,
            keepalive: self.keepalive,
            idle_timeout: self.idle_timeout,
            publish_idle_timeout: self.publish_idle_timeout,
            retention: self.retention,
            max_events_per_response: self.max_events_per_response,
            max_response_bytes: self.max_response_bytes,
            commit_coalesce: self.commit_coalesce,
            not_found_as_permission_denied: self.not_found_as_permission_denied,
            delivery_allocation: self.delivery_allocation,
            max_publish_request_bytes: self.max_publish_request_bytes,
            max_event_bytes: self.max_event_bytes,
            tls_cert_path: cert_path,
            tls_cert_pem: tls.as_ref().map(|t| t.cert_pem.clone()),
        };
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared::new(
            settings,
            state,
            clock,
            check,
            built_in,
            stopped.clone(),
        ));
        let router = server::router(Arc::clone(&shared));
        let acceptor = tls.map(|t| t.acceptor);
        let task = tokio::spawn(server::serve(listener, router, acceptor, stopped));
        Ok(PubSubEmulator {
            addr,
            control: Control { shared },
            stop,
            task: Some(task),
        })
    }
}

/// A running Pub/Sub emulator. Dropping it stops it too; [`shutdown`](Self::shutdown) also
/// waits for the listener to close.
#[derive(Debug)]
pub struct PubSubEmulator {
    addr: SocketAddr,
    control: Control,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl PubSubEmulator {
    /// A builder with the defaults.
    pub fn builder() -> PubSubEmulatorBuilder {
        PubSubEmulatorBuilder::default()
    }

    /// The gRPC endpoint (also the control API's base): `http://127.0.0.1:PORT`, or
    /// `https://localhost:PORT` with TLS.
    pub fn url(&self) -> &str {
        self.control.url()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that steers the emulator.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// The org id (18 characters): send it as `tenantid`.
    pub fn org_id(&self) -> &str {
        self.control.org_id()
    }

    /// The access token accepted from the start.
    pub fn access_token(&self) -> &str {
        self.control.access_token()
    }

    /// Where the TLS certificate PEM was written, with TLS on.
    pub fn tls_cert_path(&self) -> Option<&Path> {
        self.control.shared.settings.tls_cert_path.as_deref()
    }

    /// The TLS certificate PEM, with TLS on.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.control.shared.settings.tls_cert_pem.as_deref()
    }

    /// What a client needs, several lines of text (the binary prints it).
    pub fn banner(&self) -> String {
        let topics: Vec<String> = self.control.topics().into_iter().map(|t| t.name).collect();
        let mut text = format!(
            "sfstream Pub/Sub emulator listening on {url}\n\
             grpc_url:      {url}  (package eventbus.v1, service PubSub)\n\
             control_api:   {url}/_emulator/\n\
             accesstoken:   {token}\n\
             instanceurl:   any non-blank URL, e.g. {url}\n\
             tenantid:      {org}\n\
             topics:        {topics}\n",
            url = self.url(),
            token = self.access_token(),
            org = self.org_id(),
            topics = topics.join(", "),
        );
        if let Some(path) = self.tls_cert_path() {
            text.push_str(&format!("tls_cert:      {}\n", path.display()));
        }
        text
    }

    /// Stops accepting, ends every stream and connection, and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for PubSubEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
