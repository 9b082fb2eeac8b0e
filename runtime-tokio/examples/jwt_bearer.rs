//! JWT bearer flow (server-to-server, no password): a Connected App with a certificate, the
//! user pre-authorized, and the matching private key in a PEM file.
//!
//! ```sh
//! export SF_CLIENT_ID=… SF_USERNAME=… SF_JWT_KEY_FILE=server.key
//! export SF_LOGIN_URL=https://login.salesforce.com   # or https://test.salesforce.com
//! cargo run -p sfstream-tokio --example jwt_bearer -- /data/ChangeEvents
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/data/ChangeEvents".into());
    let var = |n: &str| std::env::var(n).map_err(|_| format!("set {n}"));
    let pem = std::fs::read_to_string(var("SF_JWT_KEY_FILE")?)?;
    // The key is checked here: a wrong file fails now, with a message saying why.
    let key = sfstream_tokio::jwt_key_from_pem(&pem)?;
    let client = sfstream_tokio::jwt_bearer_client(
        var("SF_CLIENT_ID")?,
        var("SF_USERNAME")?,
        key,
        var("SF_LOGIN_URL").unwrap_or_else(|_| "https://login.salesforce.com".into()),
    )
    .build()?;
    client.subscribe(&channel).await?;
    client.open().await?;
    // Change events: the header says what changed; commitNumber stays exact above 2^53.
    loop {
        let message = client.receive().await?;
        if let Some(header) = message.change_event_header() {
            println!(
                "{:?} {:?} {:?}",
                header.change_type, header.entity_name, header.record_ids
            );
        }
    }
}
