//! A loopback HTTP/1.1 origin for the tests: a thread per connection, each request answered by
//! a function of its target, and what happened reported as events the test can await.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use smol::channel::{Receiver, Sender};

/// What the origin saw, numbering connections from 0 in the order accepted.
#[derive(Debug)]
pub(super) enum Event {
    Request {
        conn: usize,
        target: String,
    },
    /// The connection ended: the client closed it, or the origin did (`close_after_reply`).
    Closed {
        conn: usize,
    },
}

type Reply = dyn Fn(&str) -> Vec<u8> + Send + Sync;

pub(super) struct Server {
    address: SocketAddr,
    state: Arc<State>,
    events: Receiver<Event>,
}

struct State {
    accepted: AtomicUsize,
    heads: Mutex<Vec<String>>,
    close_after_reply: AtomicBool,
    raw: Mutex<Option<Vec<u8>>>,
    reply: Box<Reply>,
    events: Sender<Event>,
}

impl Server {
    /// Answers each request with `reply(target)`, a whole HTTP response.
    pub(super) fn start(reply: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let (tx, events) = smol::channel::unbounded();
        let state = Arc::new(State {
            accepted: AtomicUsize::new(0),
            heads: Mutex::new(Vec::new()),
            close_after_reply: AtomicBool::new(false),
            raw: Mutex::new(None),
            reply: Box::new(reply),
            events: tx,
        });
        let shared = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let conn = shared.accepted.fetch_add(1, Ordering::SeqCst);
                let state = shared.clone();
                thread::spawn(move || serve(stream, conn, &state));
            }
        });
        Self {
            address,
            state,
            events,
        }
    }

    /// Closes each connection after its first answer.
    pub(super) fn close_after_reply(&self) {
        self.state.close_after_reply.store(true, Ordering::SeqCst);
    }

    /// Writes `bytes` on each new connection and closes it, reading nothing.
    pub(super) fn answer_raw(&self, bytes: &[u8]) {
        *self.state.raw.lock().expect("not poisoned") = Some(bytes.to_vec());
    }

    pub(super) fn authority(&self) -> String {
        self.address.to_string()
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub(super) fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// The heads of the requests received so far, in order.
    pub(super) fn heads(&self) -> Vec<String> {
        self.state.heads.lock().expect("not poisoned").clone()
    }

    /// Waits for an event that `wanted` accepts, skipping others; panics after 10 s.
    pub(super) async fn until(&self, wanted: impl Fn(&Event) -> bool) {
        let events = async {
            while let Ok(event) = self.events.recv().await {
                if wanted(&event) {
                    return;
                }
            }
            panic!("the server's event channel closed");
        };
        futures_lite::future::or(events, async {
            async_io::Timer::after(Duration::from_secs(10)).await;
            panic!("the awaited event did not happen");
        })
        .await;
    }
}

fn serve(stream: TcpStream, conn: usize, state: &State) {
    let raw = state.raw.lock().expect("not poisoned").clone();
    if let Some(raw) = raw {
        let _ = (&stream).write_all(&raw);
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut writer = stream;
    while let Some(head) = read_head(&mut reader) {
        let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
        if let Some(n) = content_length(&head) {
            let mut body = vec![0; n];
            if reader.read_exact(&mut body).is_err() {
                break;
            }
        }
        state.heads.lock().expect("not poisoned").push(head);
        let _ = state.events.send_blocking(Event::Request {
            conn,
            target: target.clone(),
        });
        let answer = (state.reply)(&target);
        if writer.write_all(&answer).is_err() || state.close_after_reply.load(Ordering::SeqCst) {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    let _ = state.events.send_blocking(Event::Closed { conn });
}

/// A request's or response's head, through its empty line; `None` at the end of the stream.
pub(super) fn read_head(reader: &mut impl BufRead) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            return Some(head);
        }
    }
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

/// A 200 answer with `body`.
pub(super) fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub(super) fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).expect("a request")
}

/// A loopback port nothing listens on (bound, then released).
pub(super) fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}
