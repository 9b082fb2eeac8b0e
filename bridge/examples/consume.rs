//! Reads the events the bridge wrote: every subject of the stream, from the start, with the
//! bridge's headers. `cargo run -p sfstream-bridge --example consume -- nats://127.0.0.1:4223`
//!
//! A consumer that must see each event once keeps its own position (a durable consumer that
//! acknowledges, as here, or the stream sequence it last processed).

#![allow(clippy::print_stdout, reason = "an example prints what it reads")]

use futures_util::StreamExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "nats://127.0.0.1:4223".into());
    let client = async_nats::connect(url).await?;
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("SALESFORCE").await?;
    let consumer = stream
        .get_or_create_consumer(
            "example-reader",
            async_nats::jetstream::consumer::pull::Config {
                durable_name: Some("example-reader".into()),
                filter_subject: "salesforce.>".into(),
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        println!(
            "{} replay id {} ({}): {}",
            message.subject,
            header("Sfstream-Replay-Id"),
            header("Sfstream-Event-Kind"),
            String::from_utf8_lossy(&message.payload)
        );
        message.ack().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
