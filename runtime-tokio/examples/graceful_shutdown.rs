//! Graceful shutdown on a signal: on Ctrl-C or SIGTERM (a service manager, Kubernetes), stop
//! taking events, finish and commit the batch in hand, then close, which sends
//! `/meta/disconnect` and makes sure every committed replay id is in the store. The next start
//! resumes right after the last processed event. A second signal, or a close that takes too
//! long, exits at once: the store keeps the ids saved so far, and the events after them come
//! again.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_USERNAME=… SF_PASSWORD=…   # password + security token
//! export SF_LOGIN_URL=https://login.salesforce.com   # or a sandbox / My Domain URL
//! cargo run -p sfstream-tokio --example graceful_shutdown -- /event/Order__e
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it processes")]

use std::time::Duration;

use sfstream_tokio::{Batch, CommitPolicy, FileStore};

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
}

/// Completes at the first Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The application's work.
async fn process(batch: &Batch) {
    for message in batch {
        println!("{} #{:?}", message.channel(), message.replay_id());
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/event/Order__e".into());
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
    client.subscribe(&channel).await?;
    client.open().await?;

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        // Only the wait for events is interrupted: a batch being processed is finished and
        // committed first.
        let batch = tokio::select! {
            biased;
            () = &mut shutdown => break,
            batch = client.receive_batch(100) => batch,
        };
        match batch {
            Ok(batch) => {
                process(&batch).await;
                client.commit(&batch)?;
            }
            Err(e) if e.is_connection_lost() => eprintln!("{e}"),
            Err(e) => return Err(e.into()),
        }
    }
    eprintln!("stopping: disconnecting and saving the last replay ids");
    tokio::select! {
        closed = tokio::time::timeout(Duration::from_secs(10), client.close()) => match closed {
            Ok(result) => result?,
            Err(_) => eprintln!("the disconnect took longer than 10 s; exiting anyway"),
        },
        _ = shutdown_signal() => eprintln!("second signal: exiting without waiting"),
    }
    Ok(())
}
