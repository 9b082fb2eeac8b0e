//! Blocking fan-out with durable commits: batches are split across worker threads, and a batch
//! is committed once every worker has processed its share. Press Enter to stop: the batch in
//! hand is finished and committed, then `close` sends `/meta/disconnect` and makes sure the
//! committed replay ids are in the store, so the next start resumes right after them.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_USERNAME=… SF_PASSWORD=…   # password + security token
//! export SF_LOGIN_URL=https://login.salesforce.com   # or a sandbox / My Domain URL
//! cargo run -p sfstream-blocking --example worker_threads -- /event/Order__e
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it processes")]

use std::sync::mpsc;
use std::thread;

use sfstream_blocking::{CommitPolicy, FileStore, Message};

const WORKERS: usize = 4;

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
}

/// A worker's share of a batch, and where to say it is done.
type Work = (Vec<Message>, mpsc::Sender<()>);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/event/Order__e".into());
    let client = sfstream_blocking::password_client(
        env("SF_CLIENT_ID")?,
        env("SF_CLIENT_SECRET")?,
        env("SF_USERNAME")?,
        env("SF_PASSWORD")?,
        env("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
    )
    .store(FileStore::open("replay-ids.json")?)
    .commit_policy(CommitPolicy::Manual)
    .build()?;
    client.subscribe(&channel)?;
    client.open()?;

    let workers: Vec<mpsc::Sender<Work>> = (0..WORKERS)
        .map(|n| {
            let (tx, rx) = mpsc::channel::<Work>();
            thread::spawn(move || {
                for (messages, done) in rx {
                    for m in &messages {
                        println!("worker {n}: {} #{:?}", m.channel(), m.replay_id());
                    }
                    let _ = done.send(());
                }
            });
            tx
        })
        .collect();

    // Enter stops the loop below: `close` ends the iteration once the batch in hand is done.
    let closer = client.clone();
    thread::spawn(move || {
        let _ = std::io::stdin().read_line(&mut String::new());
        if let Err(e) = closer.close() {
            eprintln!("close: {e}");
        }
    });

    for batch in client.batches(200) {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) if e.is_connection_lost() => {
                eprintln!("{e}");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let (done, finished) = mpsc::channel();
        let mut shares: Vec<Vec<Message>> = vec![Vec::new(); WORKERS];
        for (i, message) in batch.iter().enumerate() {
            // Round robin; partition by record instead where a record's events must stay in
            // order (see the tokio crate's fan_out example).
            shares[i % WORKERS].push(message.clone());
        }
        let mut sent = 0;
        for (share, worker) in shares.into_iter().zip(&workers) {
            if !share.is_empty() {
                worker.send((share, done.clone()))?;
                sent += 1;
            }
        }
        for _ in 0..sent {
            finished.recv()?;
        }
        // Every share processed: the whole batch is, too.
        client.commit(&batch)?;
    }
    client.close()?; // already closed by the Enter thread: returns at once
    Ok(())
}
