//! Idle connections, kept per origin. A connection travels inside the exchange that uses it and
//! comes back here only once the response body has been read to its end; an exchange that is
//! dropped (a deadline passed, a long poll cancelled) drops its connection with it, so no later
//! request can read the answer meant for the cancelled one.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_global_executor::Task;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;

use crate::origin::Origin;

/// Idle connections kept per origin.
const MAX_IDLE_PER_ORIGIN: usize = 4;
/// An idle connection older than this is not reused: servers close idle connections, and one
/// closed while nobody was reading may not have been noticed yet.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A connection: the handle that sends requests and the task that runs it. Dropping it cancels
/// the task, which closes the socket.
pub(crate) struct Conn {
    pub(crate) sender: SendRequest<Full<Bytes>>,
    pub(crate) _task: Task<()>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<Origin, Vec<Idle>>>,
}

impl Pool {
    /// The newest idle connection to `origin` that is still open.
    pub(crate) fn checkout(&self, origin: &Origin) -> Option<Conn> {
        let mut idle = self.idle();
        let conns = idle.get_mut(origin)?;
        while let Some(Idle { conn, since }) = conns.pop() {
            if !conn.sender.is_closed() && since.elapsed() < IDLE_TIMEOUT {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps `conn` for the next request to `origin`, dropping the oldest past the bound.
    pub(crate) fn checkin(&self, origin: Origin, conn: Conn) {
        let mut idle = self.idle();
        let conns = idle.entry(origin).or_default();
        conns.retain(|idle| !idle.conn.sender.is_closed());
        conns.push(Idle {
            conn,
            since: Instant::now(),
        });
        if conns.len() > MAX_IDLE_PER_ORIGIN {
            conns.remove(0);
        }
    }

    /// How many idle connections to `origin` the pool holds.
    pub(crate) fn idle_count(&self, origin: &Origin) -> usize {
        self.idle().get(origin).map_or(0, Vec::len)
    }

    fn idle(&self) -> MutexGuard<'_, HashMap<Origin, Vec<Idle>>> {
        // The map stays consistent whatever panicked while holding it.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
