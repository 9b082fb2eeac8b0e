//! Refresh-token flow: a token obtained once through the web-server flow is exchanged for
//! access tokens whenever Salesforce refuses the current one.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_REFRESH_TOKEN=… SF_LOGIN_URL=https://login.salesforce.com
//! cargo run -p sfstream-tokio --example refresh_token -- /topic/AccountUpdates
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

use sfstream_tokio::{CommitPolicy, Credentials, LoginUrl, MemoryStore, Secret};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/topic/AccountUpdates".into());
    let var = |n: &str| std::env::var(n).map_err(|_| format!("set {n}"));
    let credentials = Credentials::RefreshToken {
        client_id: var("SF_CLIENT_ID")?,
        client_secret: Secret::new(var("SF_CLIENT_SECRET")?),
        refresh_token: Secret::new(var("SF_REFRESH_TOKEN")?),
        login: LoginUrl::Custom(
            var("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
        ),
    };
    // Manual commits: an event counts as processed only after `commit`.
    let client = sfstream_tokio::builder(credentials)
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
            message.deserialize::<serde_json::Value>().ok()
        );
        client.commit(&message)?;
    }
}
