//! Client-credentials flow: a Connected App with a "Run As" user. Salesforce accepts it only on
//! the org's My Domain host.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_CLIENT_SECRET=… SF_LOGIN_URL=https://mydomain.my.salesforce.com
//! cargo run -p sfstream-tokio --example client_credentials -- /event/Order__e
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

use sfstream_tokio::ReplayFrom;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/event/Order__e".into());
    let var = |n: &str| std::env::var(n).map_err(|_| format!("set {n}"));
    // Replay everything still retained the first time (no stored id yet).
    let client = sfstream_tokio::client_credentials_client(
        var("SF_CLIENT_ID")?,
        var("SF_CLIENT_SECRET")?,
        var("SF_LOGIN_URL")?, // the org's My Domain URL
    )
    .replay(ReplayFrom::All)
    .build()?;
    client
        .scope(async |client| -> Result<(), sfstream_tokio::Error> {
            client.subscribe(&channel).await?;
            for _ in 0..10 {
                let m = client.receive().await?;
                println!("{:?} {:?}", m.replay_id(), m.event_uuid());
            }
            Ok(())
        })
        .await??;
    Ok(())
}
