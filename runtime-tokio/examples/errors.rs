//! Matching on error kinds: a channel that failed is reported and the others go on; refused
//! credentials or a client stopped by a failure end the program; Ctrl-C closes within 5 s and
//! says what was not stored in time.
//!
//! ```sh
//! export SF_ACCESS_TOKEN=… SF_INSTANCE_URL=https://mydomain.my.salesforce.com
//! cargo run -p sfstream-tokio --example errors -- /event/Order__e /event/No_Such__e
//! ```
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example prints what it receives and what failed"
)]

use std::time::Duration;

use sfstream_tokio::{Client, CommitPolicy, Credentials, ErrorKind, Secret};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |n: &str| std::env::var(n).map_err(|_| format!("set {n}"));
    let credentials = Credentials::AccessToken {
        access_token: Secret::new(var("SF_ACCESS_TOKEN")?),
        instance_url: var("SF_INSTANCE_URL")?,
    };
    let client = sfstream_tokio::builder(credentials)
        .commit_policy(CommitPolicy::Manual)
        .build()?;
    for channel in std::env::args().skip(1) {
        client.subscribe(&channel).await?;
    }
    if let Err(e) = client.open().await {
        match e.kind() {
            // One channel failed; the client goes on with the others.
            ErrorKind::Channel | ErrorKind::Permission | ErrorKind::Replay => {
                eprintln!("{} failed: {e}", e.channel().unwrap_or("a channel"));
            }
            ErrorKind::ConnectionLost => eprintln!("unreachable, still trying: {e}"),
            _ => return Err(e.into()), // refused credentials, a bad configuration
        }
    }
    tokio::select! {
        result = receive(&client) => result?,
        _ = tokio::signal::ctrl_c() => {}
    }
    match client.close_within(Duration::from_secs(5)).await {
        Err(e) if e.kind() == ErrorKind::CloseTimedOut => eprintln!("{e}"),
        other => other?,
    }
    Ok(())
}

async fn receive(client: &Client) -> Result<(), sfstream_tokio::Error> {
    loop {
        match client.receive().await {
            Ok(message) => {
                println!("{}", message.raw_json());
                client.commit(&message)?;
            }
            Err(e) if e.kind() == ErrorKind::ClosedByUser => return Ok(()),
            // Stopped by a failure (returned once before): `closed_cause()` is that failure.
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => eprintln!("{e}"), // connection lost, a resubscription failed
        }
    }
}
