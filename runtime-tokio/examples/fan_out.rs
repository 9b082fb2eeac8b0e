//! Fan-out to workers: each batch is split across a pool of tasks, events of one record always
//! to the same worker (so a record's changes stay in order), and the batch is committed once
//! every worker has processed its share. A worker that fails leaves the batch uncommitted, so
//! its events come again after a restart.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_USERNAME=… SF_PASSWORD=…   # password + security token
//! export SF_LOGIN_URL=https://login.salesforce.com   # or a sandbox / My Domain URL
//! cargo run -p sfstream-tokio --example fan_out -- /data/ChangeEvents
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it processes")]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use sfstream_tokio::{CommitPolicy, FileStore, Message};
use tokio::sync::{mpsc, oneshot};

const WORKERS: usize = 4;

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
}

/// A worker's share of a batch, and where to say it is done.
struct Work {
    messages: Vec<Message>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The worker for a message: by its record (a change event's first record id), else by its
/// channel, so that the events of one record are processed in order by one worker.
fn worker_of(message: &Message) -> usize {
    let mut hasher = DefaultHasher::new();
    match message
        .change_event_header()
        .and_then(|h| h.record_ids.into_iter().next())
    {
        Some(record) => record.hash(&mut hasher),
        None => message.channel().hash(&mut hasher),
    }
    (hasher.finish() % WORKERS as u64) as usize
}

async fn worker(n: usize, mut work: mpsc::Receiver<Work>) {
    while let Some(Work { messages, done }) = work.recv().await {
        for message in &messages {
            // The application's work, e.g. a call to another service.
            println!(
                "worker {n}: {} #{:?}",
                message.channel(),
                message.replay_id()
            );
        }
        let _ = done.send(Ok(()));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/data/ChangeEvents".into());
    let client = sfstream_tokio::password_client(
        env("SF_CLIENT_ID")?,
        env("SF_CLIENT_SECRET")?,
        env("SF_USERNAME")?,
        env("SF_PASSWORD")?,
        env("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
    )
    .store(FileStore::open("replay-ids.json")?)
    .commit_policy(CommitPolicy::Manual)
    .build()?;
    let workers: Vec<mpsc::Sender<Work>> = (0..WORKERS)
        .map(|n| {
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(worker(n, rx));
            tx
        })
        .collect();
    client.subscribe(&channel).await?;
    client.open().await?;

    loop {
        let batch = tokio::select! {
            batch = client.receive_batch(200) => batch,
            _ = tokio::signal::ctrl_c() => break,
        };
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) if e.is_connection_lost() => {
                eprintln!("{e}");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut shares: Vec<Vec<Message>> = vec![Vec::new(); WORKERS];
        for message in &batch {
            shares[worker_of(message)].push(message.clone());
        }
        let mut pending = Vec::new();
        for (share, worker) in shares.into_iter().zip(&workers) {
            if share.is_empty() {
                continue;
            }
            let (done, finished) = oneshot::channel();
            worker
                .send(Work {
                    messages: share,
                    done,
                })
                .await?;
            pending.push(finished);
        }
        let mut all_done = true;
        for finished in pending {
            match finished.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    eprintln!("a worker failed: {e}");
                    all_done = false;
                }
                Err(_) => all_done = false,
            }
        }
        if !all_done {
            // Not committed: the batch comes again after a restart.
            return Err("a worker failed; stopping without committing its batch".into());
        }
        // Every worker is done with its share: the whole batch is processed.
        client.commit(&batch)?;
    }
    client.close().await?;
    Ok(())
}
