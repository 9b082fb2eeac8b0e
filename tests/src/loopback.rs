//! Loopback HTTP/1.1 servers for the tests of HTTP clients: an origin ([`Server`]) and a proxy
//! ([`TestProxy`]), a thread per connection each. The origin answers each request by a function
//! of its target and reports what happened as events a test can await; the proxy forwards or
//! tunnels and keeps the heads it saw.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use async_channel::{Receiver, Sender};

/// What the origin saw, numbering connections from 0 in the order accepted.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A request's head and body arrived.
    Request {
        /// The connection it came on.
        conn: usize,
        /// Its request target.
        target: String,
    },
    /// The connection ended: the client closed it, or the origin did (`close_after_reply`).
    Closed {
        /// The connection.
        conn: usize,
    },
}

type Reply = dyn Fn(&str) -> Vec<u8> + Send + Sync;

/// An origin on a loopback port.
pub struct Server {
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
    pub fn start(reply: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let (tx, events) = async_channel::unbounded();
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
    pub fn close_after_reply(&self) {
        self.state.close_after_reply.store(true, Ordering::SeqCst);
    }

    /// Writes `bytes` on each new connection and closes it, reading nothing.
    pub fn answer_raw(&self, bytes: &[u8]) {
        *self.state.raw.lock().expect("not poisoned") = Some(bytes.to_vec());
    }

    /// `127.0.0.1:port`.
    pub fn authority(&self) -> String {
        self.address.to_string()
    }

    /// The `http` URL of `path` on this origin.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// The heads of the requests received so far, in order.
    pub fn heads(&self) -> Vec<String> {
        self.state.heads.lock().expect("not poisoned").clone()
    }

    /// Waits for an event that `wanted` accepts, skipping others; panics after 10 s.
    pub async fn until(&self, wanted: impl Fn(&Event) -> bool) {
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
pub fn read_head(reader: &mut impl BufRead) -> Option<String> {
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
pub fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A GET request of `url` with an empty body.
pub fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).expect("a request")
}

/// A loopback port nothing listens on (bound, then released).
pub fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

/// A proxy on loopback: for `CONNECT` it opens the tunnel (or refuses with 407), for anything
/// else it passes the connection on to the request's host. It keeps the first head of each
/// connection (later requests pass through unseen; hyper writes header names in lower case).
pub struct TestProxy {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    /// A proxy that opens tunnels, or refuses each with 407 when `refuse` is true.
    pub fn start(refuse: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || {
                    let _ = relay(client, &seen, refuse);
                });
            }
        });
        Self { port, heads }
    }

    /// The proxy's URL, with the credentials `user` / `p@ss`.
    pub fn url(&self) -> String {
        format!("http://user:p%40ss@127.0.0.1:{}", self.port)
    }

    /// The first head of each connection, in the order they came.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("not poisoned").clone()
    }
}

fn relay(client: TcpStream, seen: &Mutex<Vec<String>>, refuse: bool) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let head = read_head(&mut reader).ok_or(io::ErrorKind::UnexpectedEof)?;
    seen.lock().expect("not poisoned").push(head.clone());
    let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut upstream = if head.starts_with("CONNECT ") {
        if refuse {
            let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
            return (&client).write_all(answer);
        }
        let upstream = TcpStream::connect(&target)?;
        (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        upstream
    } else {
        let authority = target.trim_start_matches("http://").split('/').next();
        let mut upstream = TcpStream::connect(authority.unwrap_or_default())?;
        upstream.write_all(head.as_bytes())?;
        upstream
    };
    // Both ways until either side closes; the reader hands on what it buffered first.
    let mut upstream_reader = upstream.try_clone()?;
    let mut client_writer = client;
    let back = thread::spawn(move || {
        let _ = io::copy(&mut upstream_reader, &mut client_writer);
        let _ = client_writer.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut reader, &mut upstream);
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = back.join();
    Ok(())
}
