//! A fake [`Runtime`] for deterministic tests of the driver, and a scripted Bayeux server.
//!
//! The runtime has a manual clock, runs every task on the test's thread until nothing can make
//! progress, runs blocking work in place, and holds each HTTP request until the test answers it.
//! [`Server`] answers them like Salesforce would: a handshake, subscriptions, and a long poll
//! held until the test publishes events (or the clock passes its hold).
#![allow(
    unreachable_pub,
    reason = "shared by several test crates; pub is how they reach it"
)]
#![allow(dead_code, reason = "each test file uses a different part of it")]
#![allow(
    clippy::disallowed_methods,
    reason = "the fake clock starts at an arbitrary instant; only differences matter"
)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant, SystemTime};

use futures_channel::oneshot;
use futures_util::future::{self, BoxFuture, FutureExt};
use http::{Request, Response};
use serde_json::{Value, json};
use sfstream_driver::{Client, ClientBuilder, Credentials, Runtime, Secret, TransportError};

/// How many rounds of polling a quiet system may take before a test is called stuck.
const MAX_ROUNDS: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Set when a task is woken; taken when it is polled.
struct Flag(AtomicBool);

impl Flag {
    fn new() -> Arc<Self> {
        Arc::new(Self(AtomicBool::new(true)))
    }
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct Task {
    future: BoxFuture<'static, ()>,
    flag: Arc<Flag>,
}

/// A request the driver sent, waiting for the test's answer.
pub struct Sent {
    pub request: Request<Vec<u8>>,
    reply: oneshot::Sender<Result<Response<Vec<u8>>, TransportError>>,
}

impl Sent {
    /// The request body as text.
    pub fn body(&self) -> String {
        String::from_utf8_lossy(self.request.body()).into_owned()
    }

    /// Fails with `error`. False if the driver no longer waits for it.
    pub fn fail(self, error: TransportError) -> bool {
        self.reply.send(Err(error)).is_ok()
    }

    /// Answers with status 200 and `body`. False if the driver no longer waits for it.
    pub fn answer(self, body: &Value) -> bool {
        let response = Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.to_string().into_bytes())
            .expect("a valid response");
        self.reply.send(Ok(response)).is_ok()
    }
}

struct Inner {
    base: Instant,
    wall: SystemTime,
    elapsed: Mutex<Duration>,
    timers: Mutex<Vec<(Instant, Waker)>>,
    tasks: Mutex<Vec<Task>>,
    spawned: Mutex<Vec<Task>>,
    sent: Mutex<VecDeque<Sent>>,
    blocking: Mutex<Vec<BlockingJob>>,
    /// Blocking work waits (a slow store, say) until the test lets it run.
    hold_blocking: AtomicBool,
}

type BlockingJob = (Box<dyn FnOnce() + Send>, oneshot::Sender<()>);

/// The fake runtime. Clones share one clock, one executor and one list of requests.
#[derive(Clone)]
pub struct FakeRuntime(Arc<Inner>);

impl FakeRuntime {
    pub fn new() -> Self {
        Self(Arc::new(Inner {
            base: Instant::now(),
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            elapsed: Mutex::new(Duration::ZERO),
            timers: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
            spawned: Mutex::new(Vec::new()),
            sent: Mutex::new(VecDeque::new()),
            blocking: Mutex::new(Vec::new()),
            hold_blocking: AtomicBool::new(false),
        }))
    }

    /// Moves the clock forward and wakes the timers that are due.
    pub fn advance(&self, by: Duration) {
        *lock(&self.0.elapsed) += by;
        let now = self.now();
        let due: Vec<Waker> = {
            let mut timers = lock(&self.0.timers);
            let (due, later): (Vec<_>, Vec<_>) = timers.drain(..).partition(|(at, _)| *at <= now);
            *timers = later;
            due.into_iter().map(|(_, w)| w).collect()
        };
        for w in due {
            w.wake();
        }
    }

    /// The requests sent and not answered yet, oldest first.
    pub fn take_sent(&self) -> Vec<Sent> {
        lock(&self.0.sent).drain(..).collect()
    }

    /// While `hold` is true, blocking work (the store's calls) waits.
    pub fn hold_blocking(&self, hold: bool) {
        self.0.hold_blocking.store(hold, Ordering::SeqCst);
    }

    /// How much blocking work waits.
    pub fn blocking_waiting(&self) -> usize {
        lock(&self.0.blocking).len()
    }

    /// How many background tasks are alive.
    pub fn tasks(&self) -> usize {
        lock(&self.0.tasks).len() + lock(&self.0.spawned).len()
    }

    /// Polls `fut` and every task until `fut` completes (`Some`) or nothing can make progress
    /// any more (`None`: everything waits for an answer, the clock or the test).
    pub fn poll_until_quiet<F: Future + Unpin>(&self, fut: &mut F) -> Option<F::Output> {
        let main = Flag::new();
        let main_waker = Waker::from(main.clone());
        for _ in 0..MAX_ROUNDS {
            let mut progressed = false;
            if main.take() {
                progressed = true;
                if let Poll::Ready(v) = fut.poll_unpin(&mut Context::from_waker(&main_waker)) {
                    return Some(v);
                }
            }
            let mut tasks = std::mem::take(&mut *lock(&self.0.tasks));
            tasks.append(&mut lock(&self.0.spawned));
            let mut kept = Vec::with_capacity(tasks.len());
            for mut task in tasks {
                if task.flag.take() {
                    progressed = true;
                    let waker = Waker::from(task.flag.clone());
                    if task
                        .future
                        .poll_unpin(&mut Context::from_waker(&waker))
                        .is_ready()
                    {
                        continue;
                    }
                }
                kept.push(task);
            }
            lock(&self.0.tasks).append(&mut kept);
            // Blocking work runs after the tasks of its round, as on a pool of its own.
            let jobs = if self.0.hold_blocking.load(Ordering::SeqCst) {
                Vec::new()
            } else {
                std::mem::take(&mut *lock(&self.0.blocking))
            };
            for (work, done) in jobs {
                progressed = true;
                work();
                let _ = done.send(());
            }
            if !progressed && lock(&self.0.spawned).is_empty() {
                return None;
            }
        }
        panic!("the tasks kept waking each other for {MAX_ROUNDS} rounds");
    }

    /// Runs `fut` to completion, letting `server` answer requests whenever everything waits.
    pub fn run<F: Future>(&self, server: &mut Server, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        for _ in 0..MAX_ROUNDS {
            if let Some(v) = self.poll_until_quiet(&mut fut) {
                return v;
            }
            assert!(
                server.serve(self) > 0,
                "stuck: every task waits and the server has nothing to answer"
            );
        }
        panic!("not done after the server answered {MAX_ROUNDS} times");
    }

    /// Lets every task run until all wait, without a future of the test's own.
    pub fn settle(&self) {
        let _ = self.poll_until_quiet(&mut future::pending::<()>());
    }

    /// Lets the tasks run and `server` answer until all wait for something else.
    pub fn settle_with(&self, server: &mut Server) {
        self.settle();
        while server.serve_pending(self) > 0 {
            self.settle();
        }
    }
}

impl Runtime for FakeRuntime {
    fn now(&self) -> Instant {
        self.0.base + *lock(&self.0.elapsed)
    }

    fn wall_clock(&self) -> SystemTime {
        self.0.wall + *lock(&self.0.elapsed)
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let rt = self.clone();
        Box::pin(future::poll_fn(move |cx| {
            if rt.now() >= deadline {
                return Poll::Ready(());
            }
            lock(&rt.0.timers).push((deadline, cx.waker().clone()));
            Poll::Pending
        }))
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        lock(&self.0.spawned).push(Task {
            future: task,
            flag: Flag::new(),
        });
    }

    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send + 'static>) -> BoxFuture<'static, ()> {
        let (done, finished) = oneshot::channel();
        lock(&self.0.blocking).push((work, done));
        Box::pin(finished.map(|_| ()))
    }

    fn send(
        &self,
        request: Request<Vec<u8>>,
        _deadline: Instant,
        _max_body: usize,
    ) -> BoxFuture<'static, Result<Response<Vec<u8>>, TransportError>> {
        let (reply, answer) = oneshot::channel();
        lock(&self.0.sent).push_back(Sent { request, reply });
        Box::pin(async move {
            answer.await.unwrap_or_else(|_| {
                Err(TransportError::Connect(
                    "the test dropped the request".into(),
                ))
            })
        })
    }
}

pub const CLIENT_ID: &str = "fake-client-1";

/// A client of the fake runtime with a ready access token (no token request) and a fixed seed.
pub fn builder(rt: &FakeRuntime) -> ClientBuilder<FakeRuntime> {
    ClientBuilder::new(
        rt.clone(),
        Credentials::AccessToken {
            access_token: Secret::new("00D!fake"),
            instance_url: "https://fake.my.salesforce.com".into(),
        },
    )
    .seed(7)
}

/// The channel the tests subscribe to.
pub const ORDERS: &str = "/event/Order__e";

/// A client built from `builder`, subscribed to [`ORDERS`] and open, and its server.
pub fn open_on_orders(
    rt: &FakeRuntime,
    builder: ClientBuilder<FakeRuntime>,
) -> (Client<FakeRuntime>, Server) {
    let client = builder.build().expect("a valid configuration");
    let mut server = Server::default();
    rt.run(&mut server, client.subscribe(ORDERS))
        .expect("subscribed before open");
    rt.run(&mut server, client.open()).expect("open");
    (client, server)
}

/// An event as Salesforce sends it.
pub fn event(channel: &str, replay_id: i64) -> Value {
    json!({"channel": channel, "data": {"schema": "s", "payload": {"N": replay_id},
        "event": {"replayId": replay_id}}})
}

/// Answers requests as Salesforce does, and records what was asked.
#[derive(Default)]
pub struct Server {
    /// Events to hand to the next long poll.
    pub queued: Vec<Value>,
    /// The long poll the server holds, waiting for events.
    held: Option<Sent>,
    /// Every request body, in the order the server saw them.
    pub bodies: Vec<String>,
}

impl Server {
    /// Queues an event for the next long poll.
    pub fn publish(&mut self, channel: &str, replay_id: i64) {
        self.queued.push(event(channel, replay_id));
    }

    /// Answers every request waiting, and the held long poll if events wait. Returns how many
    /// requests it answered.
    pub fn serve(&mut self, rt: &FakeRuntime) -> usize {
        self.answer(rt, true)
    }

    /// Like [`Server::serve`], but a long poll with nothing to hand over stays held.
    pub fn serve_pending(&mut self, rt: &FakeRuntime) -> usize {
        self.answer(rt, false)
    }

    fn answer(&mut self, rt: &FakeRuntime, end_empty_hold: bool) -> usize {
        let mut answered = 0;
        for sent in rt.take_sent() {
            let body = sent.body();
            self.bodies.push(body.clone());
            let messages: Vec<Value> = serde_json::from_str(&body).expect("a Bayeux batch");
            let first = &messages[0];
            match first["channel"].as_str().unwrap_or_default() {
                "/meta/handshake" => {
                    sent.answer(&json!([{"channel": "/meta/handshake", "successful": true,
                        "clientId": CLIENT_ID, "version": "1.0",
                        "ext": {"replay": true, "payload.format": true}}]));
                    answered += 1;
                }
                "/meta/connect" => {
                    assert!(self.held.is_none(), "two long polls at once");
                    self.held = Some(sent);
                }
                _ => {
                    let replies: Vec<Value> = messages
                        .iter()
                        .map(|m| {
                            json!({"channel": m["channel"], "id": m["id"], "successful": true,
                                "clientId": CLIENT_ID, "subscription": m["subscription"]})
                        })
                        .collect();
                    sent.answer(&Value::Array(replies));
                    answered += 1;
                }
            }
        }
        if !self.queued.is_empty() || (answered == 0 && end_empty_hold) {
            answered += self.answer_long_poll();
        }
        answered
    }

    /// Answers the held long poll with the queued events (none: the hold ended). 1 if one was held.
    pub fn answer_long_poll(&mut self) -> usize {
        let Some(poll) = self.held.take() else {
            return 0;
        };
        let mut batch: Vec<Value> = std::mem::take(&mut self.queued);
        batch.push(
            json!({"channel": "/meta/connect", "successful": true, "clientId": CLIENT_ID,
            "advice": {"interval": 0, "timeout": 110_000, "reconnect": "retry"}}),
        );
        poll.answer(&Value::Array(batch));
        1
    }

    /// Fails the held long poll as a refused connection does (before the request left). 1 if
    /// one was held.
    pub fn refuse_long_poll(&mut self) -> usize {
        let Some(poll) = self.held.take() else {
            return 0;
        };
        poll.fail(TransportError::Connect("connection refused".into()));
        1
    }

    /// Forgets the Bayeux session, as Salesforce does after a server restart: the held long
    /// poll is answered `403::Unknown client` with handshake advice. 1 if one was held.
    pub fn drop_session(&mut self) -> usize {
        let Some(poll) = self.held.take() else {
            return 0;
        };
        poll.answer(&json!([{"channel": "/meta/connect", "successful": false,
            "error": "403::Unknown client", "advice": {"reconnect": "handshake"}}]));
        1
    }

    /// The request bodies that carried a message on `channel` (`/meta/subscribe`, say).
    pub fn bodies_on(&self, channel: &str) -> Vec<String> {
        let needle = format!(r#""channel":"{channel}""#);
        self.bodies
            .iter()
            .filter(|b| b.contains(&needle))
            .cloned()
            .collect()
    }
}
