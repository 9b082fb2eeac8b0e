//! Shared by the security checks (`security.rs`, `redirects.rs`, `trace_logs.rs`): the runtimes
//! under test and a way to drive any of them, the emulator with known credentials, a runtime
//! wrapper that records what went over the wire, small loopback servers, and a capture of
//! everything logged.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses a different part; pub is how they reach it"
)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use serde_json::Value;
use sfstream_core::oauth::LoginUrl;
use sfstream_core::{Message, TransportError};
use sfstream_driver::{Client, ClientBuilder, Error, Runtime};
use sfstream_emulator::{Control, Emulator, EmulatorBuilder};

pub const JWT_PUBLIC: &str = include_str!("../../../emulator/tests/data/jwt-test-public.pem");
pub const JWT_PRIVATE: &str = include_str!("../../../emulator/tests/data/jwt-test-private.pem");
pub const JWT_OTHER_PRIVATE: &str =
    include_str!("../../../emulator/tests/data/jwt-other-private.pem");

pub const CLIENT_ID: &str = "sec-consumer-key";
pub const CLIENT_SECRET: &str = "cs-7Hq2CLIENTSECRETxZ9aLm4";
pub const USERNAME: &str = "sec-user@example.com";
pub const PASSWORD: &str = "pw-9Kd4PASSWORDvNq8Rt2";
pub const SECURITY_TOKEN: &str = "st-3Lm8SECTOKENqPw5Zs";
pub const REFRESH_TOKEN: &str = "rt-5Vb1REFRESHTOKENwY3uJ6";
pub const PREISSUED_TOKEN: &str = "at-2Xc6PREISSUEDjR7pL0a";
pub const ORDERS: &str = "/event/Order__e";
/// The name of the emulator's threads: what they log is the server's, not the client's.
pub const EMULATOR_THREADS: &str = "sfstream-emulator";

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ----- the runtimes under test ----------------------------------------------------------------

/// How a test waits for a client's futures: inside a tokio runtime for the tokio client, with
/// a plain `block_on` for the others (their timers and HTTP need no executor of the caller's).
pub enum Exec {
    Tokio(tokio::runtime::Runtime),
    Plain,
}

impl Exec {
    pub fn tokio() -> Self {
        Self::Tokio(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the client"),
        )
    }

    /// Inside the tokio runtime, for code that creates a tokio client outside `block_on`.
    pub fn enter(&self) -> Option<tokio::runtime::EnterGuard<'_>> {
        match self {
            Self::Tokio(rt) => Some(rt.enter()),
            Self::Plain => None,
        }
    }

    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        match self {
            Self::Tokio(rt) => rt.block_on(f),
            Self::Plain => async_std::task::block_on(f),
        }
    }

    pub fn build<R: Runtime>(&self, builder: ClientBuilder<R>) -> Client<R> {
        let _guard = self.enter();
        builder.build().expect("a valid configuration")
    }

    /// The next message or error, or `None` after `wait`.
    pub fn receive_timeout<R: Runtime>(
        &self,
        client: &Client<R>,
        wait: Duration,
    ) -> Option<Result<Message, Error>> {
        match self {
            Self::Tokio(rt) => rt
                .block_on(async { tokio::time::timeout(wait, client.receive()).await })
                .ok(),
            Self::Plain => {
                async_std::task::block_on(async_std::future::timeout(wait, client.receive())).ok()
            }
        }
    }

    /// Receives until `n` messages came; panics after 20 s or on an error other than a lost
    /// connection.
    pub fn receive_n<R: Runtime>(&self, client: &Client<R>, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut got = 0;
        while got < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "only {got} of {n} messages arrived");
            match self.receive_timeout(client, left) {
                Some(Ok(_)) => got += 1,
                Some(Err(e)) if e.is_connection_lost() => {}
                Some(Err(e)) => panic!("receive: {e}"),
                None => {}
            }
        }
    }
}

/// One `#[test]` per runtime and HTTP backend, each calling `$check(name, &Exec, runtime)`.
#[allow(unused_macros, reason = "not every test file checks every runtime")]
macro_rules! per_runtime {
    ($check:ident) => {
        mod $check {
            use super::support::Exec;

            #[test]
            fn tokio() {
                super::$check("tokio", &Exec::tokio(), sfstream_tokio::Tokio::new);
            }

            #[test]
            fn blocking() {
                super::$check("blocking", &Exec::Plain, sfstream_blocking::Blocking::new);
            }

            #[test]
            fn async_std_hyper() {
                super::$check(
                    "async-std/hyper",
                    &Exec::Plain,
                    sfstream_async_std::AsyncStd::hyper,
                );
            }

            #[test]
            fn async_std_isahc() {
                super::$check(
                    "async-std/isahc",
                    &Exec::Plain,
                    sfstream_async_std::AsyncStd::isahc,
                );
            }

            #[cfg(feature = "surf")]
            #[test]
            fn async_std_surf() {
                super::$check(
                    "async-std/surf",
                    &Exec::Plain,
                    sfstream_async_std::AsyncStd::surf,
                );
            }
        }
    };
}
#[allow(unused_imports, reason = "not every test file checks every runtime")]
pub(crate) use per_runtime;

// ----- the emulator ---------------------------------------------------------------------------

/// The emulator with this file's credentials, on a runtime of its own whose threads are named
/// [`EMULATOR_THREADS`].
pub struct Emu {
    pub control: Control,
    pub base_url: String,
    rt: Option<tokio::runtime::Runtime>,
    emulator: Option<Emulator>,
}

impl Emu {
    pub fn start(configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(EMULATOR_THREADS)
            .enable_all()
            .build()
            .expect("a runtime for the emulator");
        let mut credentials = sfstream_emulator::Credentials::default();
        credentials.client_id = CLIENT_ID.into();
        credentials.client_secret = CLIENT_SECRET.into();
        credentials.username = USERNAME.into();
        credentials.password = PASSWORD.into();
        credentials.security_token = SECURITY_TOKEN.into();
        credentials.refresh_token = REFRESH_TOKEN.into();
        credentials.access_token = PREISSUED_TOKEN.into();
        let builder = Emulator::builder()
            .long_poll_timeout(Duration::from_millis(400))
            .reconnect_deadline(Duration::from_secs(3))
            .credentials(credentials)
            .jwt_public_key_pem(JWT_PUBLIC);
        let emulator = rt
            .block_on(configure(builder).start())
            .expect("the emulator starts");
        Self {
            control: emulator.control(),
            base_url: emulator.base_url().to_owned(),
            rt: Some(rt),
            emulator: Some(emulator),
        }
    }

    pub fn login(&self) -> LoginUrl {
        LoginUrl::Custom(self.base_url.clone())
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let (Some(rt), Some(emu)) = (self.rt.take(), self.emulator.take()) {
            rt.block_on(emu.shutdown());
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

// ----- a runtime that records every exchange -------------------------------------------------

#[derive(Debug, Default)]
pub struct Recorded {
    pub requests: usize,
    pub max_request_body: usize,
    /// Bodies of requests carrying more than one Bayeux message.
    pub batches: usize,
    /// Hosts the client sent requests to.
    pub hosts: Vec<String>,
    /// Access and refresh tokens from token responses.
    pub tokens: Vec<String>,
    /// Every credential that went out: the values of token request forms (but the grant type,
    /// client id and username), and the `Authorization` and `Cookie` header values.
    pub sent_secrets: Vec<String>,
}

/// A runtime, plus a record of what went over the wire.
#[derive(Clone)]
pub struct Recording<R> {
    inner: R,
    pub log: Arc<Mutex<Recorded>>,
}

impl<R: Runtime> Recording<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            log: Arc::default(),
        }
    }
}

impl<R: Runtime> Runtime for Recording<R> {
    fn now(&self) -> Instant {
        self.inner.now()
    }
    fn wall_clock(&self) -> SystemTime {
        self.inner.wall_clock()
    }
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self.inner.sleep_until(deadline)
    }
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.inner.spawn(task);
    }
    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send + 'static>) -> BoxFuture<'static, ()> {
        self.inner.spawn_blocking(work)
    }
    fn send(
        &self,
        request: Request<Vec<u8>>,
        deadline: Instant,
        max_body: usize,
    ) -> BoxFuture<'static, Result<Response<Vec<u8>>, TransportError>> {
        let is_token = request.uri().path().ends_with("/oauth2/token");
        {
            let mut log = lock(&self.log);
            log.requests += 1;
            log.max_request_body = log.max_request_body.max(request.body().len());
            if let Ok(Value::Array(messages)) = serde_json::from_slice(request.body()) {
                if messages.len() > 1 {
                    log.batches += 1;
                }
            }
            log.hosts
                .push(request.uri().host().unwrap_or_default().to_owned());
            if is_token {
                let body = String::from_utf8_lossy(request.body()).into_owned();
                for pair in body.split('&') {
                    if let Some((key, value)) = pair.split_once('=') {
                        if !["grant_type", "client_id", "username"].contains(&key) {
                            log.sent_secrets.push(value.to_owned());
                        }
                    }
                }
            }
            for name in ["authorization", "cookie"] {
                for value in request.headers().get_all(name) {
                    let value = value.to_str().unwrap_or_default();
                    log.sent_secrets
                        .push(value.trim_start_matches("Bearer ").to_owned());
                }
            }
        }
        let log = self.log.clone();
        let exchange = self.inner.send(request, deadline, max_body);
        Box::pin(async move {
            let outcome = exchange.await;
            if let (true, Ok(response)) = (is_token, &outcome) {
                if let Ok(body) = serde_json::from_slice::<Value>(response.body()) {
                    let mut log = lock(&log);
                    for key in ["access_token", "refresh_token"] {
                        if let Some(t) = body[key].as_str() {
                            log.tokens.push(t.to_owned());
                        }
                    }
                }
            }
            outcome
        })
    }
}

// ----- small loopback servers -----------------------------------------------------------------

/// A loopback HTTP server on a thread: reads each request's head and body, and answers with
/// `respond(head, stream)`, which returns how many body bytes it wrote. Every connection it
/// accepted is counted, and every request head kept. Serves at most 50 connections; stops when
/// dropped.
pub struct FakeServer {
    pub port: u16,
    pub ip: &'static str,
    pub stop: Arc<AtomicBool>,
    pub written: Arc<Mutex<Vec<usize>>>,
    pub heads: Arc<Mutex<Vec<String>>>,
    pub connections: Arc<Mutex<usize>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(respond: impl Fn(&str, &mut TcpStream) -> usize + Send + 'static) -> Self {
        Self::start_on("127.0.0.1", respond)
    }

    /// On another loopback address (`127.0.0.2`, say): another host as far as URLs go.
    pub fn start_on(
        ip: &'static str,
        respond: impl Fn(&str, &mut TcpStream) -> usize + Send + 'static,
    ) -> Self {
        let listener = TcpListener::bind((ip, 0)).expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let thread = {
            let (stop, written, heads, connections) = (
                stop.clone(),
                written.clone(),
                heads.clone(),
                connections.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) && *lock(&connections) < 50 {
                    let Ok((stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    *lock(&connections) += 1;
                    stream.set_nonblocking(false).expect("blocking");
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut head = String::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        head.push_str(&line);
                    }
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body);
                    lock(&heads).push(head.clone());
                    let mut stream = stream;
                    let n = respond(&head, &mut stream);
                    lock(&written).push(n);
                }
            })
        };
        Self {
            port,
            ip,
            stop,
            written,
            heads,
            connections,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}", self.ip, self.port)
    }

    pub fn connections(&self) -> usize {
        *lock(&self.connections)
    }

    pub fn heads(&self) -> Vec<String> {
        lock(&self.heads).clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ----- capturing tracing output ---------------------------------------------------------------

/// Everything logged at any level by any thread but the emulator's, since the first call. The
/// subscriber is an ordinary `tracing_subscriber::fmt` one, which also takes the `log` records
/// of crates that use `log` (ureq, async-h1).
pub fn captured() -> &'static Mutex<Vec<u8>> {
    static BUFFER: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .with_ansi(false)
            .with_thread_names(true)
            .with_writer(move || Capture(buffer))
            .try_init()
            .expect("this test binary installs the only subscriber");
        buffer
    })
}

struct Capture(&'static Mutex<Vec<u8>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if std::thread::current().name() != Some(EMULATOR_THREADS) {
            lock(self.0).extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn captured_text() -> String {
    String::from_utf8_lossy(&lock(captured())).into_owned()
}

/// The secret's pieces a log could hold even when it splits the secret across lines (a hex dump
/// shows 16 bytes a row): every run of 12 characters. A token's org id prefix (up to `!`) is
/// no secret, and is left out.
pub fn fragments(secret: &str) -> Vec<String> {
    let secret = secret.rsplit_once('!').map_or(secret, |(_, s)| s);
    let chars: Vec<char> = secret.chars().collect();
    assert!(chars.len() >= 16, "a secret long enough to check: {secret}");
    chars
        .windows(12)
        .map(|w| w.iter().collect::<String>())
        .collect()
}
