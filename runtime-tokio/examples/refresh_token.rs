//! Refresh-token flow: a token obtained once through the web-server flow is exchanged for
//! access tokens whenever Salesforce refuses the current one.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_REFRESH_TOKEN=… SF_LOGIN_URL=https://login.salesforce.com
//! cargo run -p sfstream-tokio --example refresh_token -- /topic/AccountUpdates
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

use sfstream_tokio::{CommitPolicy, MemoryStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/topic/AccountUpdates".into());
    let var = |n: &str| std::env::var(n).map_err(|_| format!("set {n}"));
    // Manual commits: an event counts as processed only after `commit`.
    let client = sfstream_tokio::refresh_token_client(
        var("SF_CLIENT_ID")?,
        var("SF_CLIENT_SECRET")?,
        var("SF_REFRESH_TOKEN")?,
        var("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
    )
    .commit_policy(CommitPolicy::Manual)
    .store(MemoryStore::new())
    .build()?;
    client.subscribe(&channel).await?;
    client.open().await?;
    loop {
        let message = client.receive().await?;
        println!(
            "{:?} {:?}",
            message.pushtopic_event_type(),
            message.payload::<serde_json::Value>().ok()
        );
        client.commit(&message)?;
    }
}
