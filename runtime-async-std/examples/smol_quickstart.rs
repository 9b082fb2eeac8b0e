//! Quickstart on smol (async-std works the same: `async_std::task::block_on`): password flow,
//! a durable file store, a stream of Platform Events; press Enter to stop.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_USERNAME=… SF_PASSWORD=…   # password + security token
//! export SF_LOGIN_URL=https://login.salesforce.com   # or a sandbox / My Domain URL
//! cargo run -p sfstream-async-std --example smol_quickstart -- /event/Order__e
//! ```
//!
//! Against the local emulator: run `cargo run -p sfstream-cli -- emulator` and paste the
//! `export` lines it prints.
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

use futures_lite::{AsyncBufReadExt, StreamExt, future};
use sfstream_async_std::{CommitPolicy, FileStore, ReplayFallback};

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/event/Order__e".into());
    let client = sfstream_async_std::password_client(
        env("SF_CLIENT_ID")?,
        env("SF_CLIENT_SECRET")?,
        env("SF_USERNAME")?,
        env("SF_PASSWORD")?,
        // LoginUrl::Production, LoginUrl::Sandbox, or a My Domain or emulator URL.
        env("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
    )
    // Replay ids live in this file: a restart resumes after the last event processed here.
    .store(FileStore::open("replay-ids.json")?)
    // If the stored id has left the retention window, replay everything still retained.
    .replay_fallback(Some(ReplayFallback::All))
    // A replay id is stored once `commit` says its event is processed (the automatic default
    // commits as a message is taken, before processing: a crash would lose those in hand).
    .commit_policy(CommitPolicy::Manual)
    .build()?;
    client.subscribe(&channel).await?;
    client.open().await?;
    eprintln!("streaming {channel}; press Enter to stop");

    let print = async {
        let mut messages = client.stream();
        while let Some(message) = messages.next().await {
            match message {
                Ok(m) => {
                    println!("{} #{:?}: {}", m.channel(), m.replay_id(), m.raw_json());
                    // Processed (printed): store its replay id.
                    client.commit(&m)?;
                }
                // The connection has been down for the connection timeout; the client keeps trying.
                Err(e) if e.is_connection_lost() => eprintln!("{e}"),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    let enter = async {
        let mut stdin = futures_lite::io::BufReader::new(smol::Unblock::new(std::io::stdin()));
        let _ = stdin.read_line(&mut String::new()).await;
        Ok(())
    };
    future::or(print, enter).await?;
    // Sends /meta/disconnect and makes sure the last replay id is in the file.
    client.close().await?;
    Ok(())
}
