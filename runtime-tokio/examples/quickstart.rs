//! Quickstart: password flow, a durable file store, Platform Events committed once processed.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_USERNAME=… SF_PASSWORD=…   # password + security token
//! export SF_LOGIN_URL=https://login.salesforce.com   # or a sandbox / My Domain URL
//! cargo run -p sfstream-tokio --example quickstart -- /event/Order__e
//! ```
//!
//! Against the local emulator: run `cargo run -p sfstream-cli -- emulator` and paste the
//! `export` lines it prints.
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

use futures_util::StreamExt;
use sfstream_tokio::{CommitPolicy, FileStore, ReplayFallback};

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
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
        // LoginUrl::Production, LoginUrl::Sandbox, or a My Domain or emulator URL.
        env("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
    )
    // Replay ids live in this file: a restart resumes after the last event processed here.
    .store(FileStore::open("replay-ids.json")?)
    // A replay id is stored once `commit` says its event is processed (the automatic default
    // commits as `receive` returns it, before processing: a crash would lose those in hand).
    .commit_policy(CommitPolicy::Manual)
    // If the stored id has left the retention window, replay everything still retained.
    .replay_fallback(Some(ReplayFallback::All))
    .build()?;
    client.subscribe(&channel).await?;
    client.open().await?;
    eprintln!("streaming {channel}; Ctrl-C to stop");

    let mut messages = client.stream();
    loop {
        tokio::select! {
            next = messages.next() => match next {
                Some(Ok(message)) => {
                    println!("{} #{:?}: {}", message.channel(), message.replay_id(), message.raw_json());
                    // Processed (printed): store its replay id. After a crash, at most the
                    // events processed since the last stored commit come again.
                    client.commit(&message)?;
                }
                // The connection has been down for the connection timeout; the client keeps trying.
                Some(Err(e)) if e.is_connection_lost() => eprintln!("{e}"),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    // Sends /meta/disconnect and makes sure the last replay id is in the file.
    client.close().await?;
    Ok(())
}
