//! Threads kept for blocking work (HTTP exchanges, replay store calls, decoding half of a large
//! response):
//! started when work waits and no thread is free, reused while work keeps coming, ended after
//! ten idle seconds. Starting a thread per call costs about what the second core saves.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a thread waits for work before it ends.
const IDLE: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Pool {
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock: a poisoned lock only means a panic between two plain
        // field updates, which leaves the state usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(Pool::default)
}

/// Runs `job` on a pool thread. `Err` when no thread is free and none could be started; the
/// job is then dropped (its result channel, if any, reports the cancellation).
pub(crate) fn run(job: Job) -> std::io::Result<()> {
    let pool = pool();
    let mut state = pool.lock();
    state.jobs.push_back(job);
    if state.jobs.len() <= state.idle {
        pool.work.notify_one();
        return Ok(());
    }
    drop(state);
    let started = thread::Builder::new()
        .name("sfstream-blocking".to_owned())
        .spawn(move || worker(pool));
    if let Err(e) = started {
        let mut state = pool.lock();
        // Leave the job to a running thread if there is one; otherwise give it up.
        if state.idle == 0 {
            state.jobs.pop_back();
        }
        return Err(e);
    }
    Ok(())
}

fn worker(pool: &'static Pool) {
    let mut state = pool.lock();
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            job();
            state = pool.lock();
            continue;
        }
        state.idle += 1;
        let (guard, wait) = pool
            .work
            .wait_timeout(state, IDLE)
            .unwrap_or_else(|p| p.into_inner());
        state = guard;
        state.idle -= 1;
        if wait.timed_out() && state.jobs.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn every_job_runs_and_threads_are_reused() {
        let (tx, rx) = mpsc::channel();
        for i in 0..50 {
            let tx = tx.clone();
            run(Box::new(move || {
                let _ = tx.send((i, thread::current().id()));
            }))
            .expect("a pool thread");
        }
        let mut done: Vec<_> = (0..50)
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(10))
                    .expect("the job ran")
            })
            .collect();
        let mut threads: Vec<_> = done.iter().map(|(_, t)| *t).collect();
        threads.sort_by_key(|t| format!("{t:?}"));
        threads.dedup();
        assert!(threads.len() < 50, "threads are reused: {}", threads.len());
        done.sort_by_key(|(i, _)| *i);
        assert!(done.iter().map(|(i, _)| *i).eq(0..50));
    }

    #[test]
    fn a_long_job_does_not_hold_up_the_next() {
        let (hold_tx, hold_rx) = mpsc::channel::<()>();
        run(Box::new(move || {
            let _ = hold_rx.recv_timeout(Duration::from_secs(10));
        }))
        .expect("a pool thread");
        let (tx, rx) = mpsc::channel();
        run(Box::new(move || {
            let _ = tx.send(());
        }))
        .expect("a pool thread");
        assert!(
            rx.recv_timeout(Duration::from_secs(5)).is_ok(),
            "ran beside the held job"
        );
        drop(hold_tx);
    }
}
