//! A ready access token (from the Salesforce CLI, say) and its instance URL. If Salesforce
//! refuses the token, the client cannot renew it and stops with a message saying so.
//!
//! ```sh
//! export SF_ACCESS_TOKEN=… SF_INSTANCE_URL=https://mydomain.my.salesforce.com
//! cargo run -p sfstream-tokio --example access_token -- /u/notifications
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/u/notifications".into());
    let var = |n: &str| std::env::var(n).map_err(|_| format!("set {n}"));
    let client =
        sfstream_tokio::access_token_client(var("SF_ACCESS_TOKEN")?, var("SF_INSTANCE_URL")?)
            .build()?;
    client.subscribe(&channel).await?;
    client.open().await?;
    loop {
        let message = client.receive().await?;
        // Generic streaming payloads are plain strings.
        println!("{}", message.payload::<String>().unwrap_or_default());
    }
}
