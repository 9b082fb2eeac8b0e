//! Quickstart: password flow, a durable file store, a stream of Platform Events.
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
use sfstream_tokio::{Credentials, FileStore, LoginUrl, ReplayFallback, Secret};

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the comment at the top of this example)").into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/event/Order__e".into());
    let credentials = Credentials::Password {
        client_id: env("SF_CLIENT_ID")?,
        client_secret: Secret::new(env("SF_CLIENT_SECRET")?),
        username: env("SF_USERNAME")?,
        password: Secret::new(env("SF_PASSWORD")?),
        login: LoginUrl::Custom(
            env("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
        ),
    };
    let client = sfstream_tokio::builder(credentials)
        // Replay ids live in this file: a restart resumes after the last event processed here.
        .store(FileStore::open("replay-ids.json")?)
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
                Some(Ok(message)) => println!("{} #{:?}: {}", message.channel(), message.replay_id(), message.raw_json()),
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
