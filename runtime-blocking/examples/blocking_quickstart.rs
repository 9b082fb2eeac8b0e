//! Quickstart, blocking: password flow, a durable file store, an iterator of Platform Events,
//! and `close` from another thread (press Enter to stop).
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_USERNAME=… SF_PASSWORD=…   # password + security token
//! export SF_LOGIN_URL=https://login.salesforce.com   # or a sandbox / My Domain URL
//! cargo run -p sfstream-blocking --example blocking_quickstart -- /event/Order__e
//! ```
//!
//! Against the local emulator: run `cargo run -p sfstream-cli -- emulator` and paste the
//! `export` lines it prints.
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

use sfstream_blocking::{CommitPolicy, FileStore, ReplayFallback};

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/event/Order__e".into());
    let client = sfstream_blocking::password_client(
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
    client.subscribe(&channel)?;
    client.open()?;
    eprintln!("streaming {channel}; press Enter to stop");

    // Clones share the session: closing one ends the iteration below, even mid long poll.
    let closer = client.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_line(&mut String::new());
        // Sends /meta/disconnect and makes sure the last replay id is in the file.
        if let Err(e) = closer.close() {
            eprintln!("close: {e}");
        }
    });

    for message in &client {
        match message {
            Ok(m) => {
                println!("{} #{:?}: {}", m.channel(), m.replay_id(), m.raw_json());
                // Processed (printed): store its replay id.
                client.commit(&m)?;
            }
            // The connection has been down for the connection timeout; the client keeps trying.
            Err(e) if e.is_connection_lost() => eprintln!("{e}"),
            Err(e) => return Err(e.into()),
        }
    }
    client.close()?; // already closed by the other thread: returns at once
    Ok(())
}
