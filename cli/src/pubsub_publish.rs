//! `sfstream publish --api pubsub TOPIC`: JSON objects in (one a line on stdin, or `--json`),
//! one result a line out: `{"line":N,"correlationKey":…,"replayId":"<base64>"}` or
//! `{"line":N,"error":"…"}`. A line that is not a JSON object is reported by its number and
//! skipped; the others are published all the same.

use serde::Serialize;
use sfstream_tokio::pubsub::{PubSubClient, PublishEvent};
use std::io::BufRead as _;

use tokio::sync::mpsc;

use crate::args::{Api, PublishArgs};
use crate::exit::{Exit, Failure};
use crate::output::write_stdout;
use crate::pubsub_common::{self, Endpoint};

/// One input's result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PublishResult<'a> {
    /// The input's line number on stdin, or the position of its `--json`.
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// How the inputs went, for the exit code.
#[derive(Default)]
struct Tally {
    not_objects: u64,
    refused: u64,
}

/// Runs `sfstream publish` over every input.
pub(crate) async fn run(args: PublishArgs) -> Result<(), Failure> {
    if args.api != Api::Pubsub {
        return Err(Failure::config(
            "publishing needs the Pub/Sub API: use --api pubsub",
        ));
    }
    let (builder, at) = pubsub_common::builder(&args.auth, &args.pubsub)?;
    let client = pubsub_common::build(builder, &at)?;
    let status = pubsub_common::print_status(&client);
    let opened = tokio::time::timeout(crate::listen::STARTUP_LIMIT, client.open()).await;
    match opened {
        Ok(r) => r.map_err(|e| pubsub_common::failure(&e, &at))?,
        Err(_) => {
            return Err(Failure::new(
                Exit::Unreachable,
                format!(
                    "could not authenticate within {:.0}s; check the login URL and the network",
                    crate::listen::STARTUP_LIMIT.as_secs_f64()
                ),
            ));
        }
    }
    let mut tally = Tally::default();
    let result = if args.json.is_empty() {
        from_stdin(&client, &args.topic, &at, &mut tally).await
    } else {
        let mut r = Ok(());
        for (i, text) in args.json.iter().enumerate() {
            r = publish_one(&client, &args.topic, &at, i as u64 + 1, text, &mut tally).await;
            if r.is_err() {
                break;
            }
        }
        r
    };
    let _ = client.close().await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), status).await;
    result?;
    if tally.not_objects > 0 {
        return Err(Failure::config(format!(
            "{} input(s) were not JSON objects (see the lines above); each line must be one \
             event's fields as a JSON object, e.g. {{\"OrderNumber__c\":\"A-1\"}}",
            tally.not_objects
        )));
    }
    if tally.refused > 0 {
        return Err(Failure::other(format!(
            "{} event(s) were not published (see their results)",
            tally.refused
        )));
    }
    Ok(())
}

/// Reads stdin's lines on a thread of their own (a read blocks), raw so that a line that is not
/// UTF-8 is reported by its number like any other bad line.
fn read_lines() -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            let mut raw = Vec::new();
            match input.read_until(b'\n', &mut raw) {
                Ok(0) => return,
                Ok(_) => {
                    if tx.blocking_send(Ok(raw)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    rx
}

/// Publishes each line of stdin; blank lines are skipped.
async fn from_stdin(
    client: &PubSubClient,
    topic: &str,
    at: &Endpoint,
    tally: &mut Tally,
) -> Result<(), Failure> {
    let mut lines = read_lines();
    let mut number = 0;
    while let Some(read) = lines.recv().await {
        let raw =
            read.map_err(|e| Failure::other(format!("reading standard input failed: {e}")))?;
        number += 1;
        let text = match std::str::from_utf8(&raw) {
            Ok(t) => t,
            Err(e) => {
                not_an_object(number, &format!("not UTF-8 ({e})"), tally)?;
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        publish_one(client, topic, at, number, text, tally).await?;
    }
    Ok(())
}

/// Publishes one input and prints its result. A failure of the whole call that retrying
/// cannot fix (a topic that cannot be published to, refused credentials) ends the run.
async fn publish_one(
    client: &PubSubClient,
    topic: &str,
    at: &Endpoint,
    line: u64,
    text: &str,
    tally: &mut Tally,
) -> Result<(), Failure> {
    let payload = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => v,
        Ok(_) => return not_an_object(line, "not a JSON object", tally),
        Err(e) => return not_an_object(line, &format!("not JSON ({e})"), tally),
    };
    match client
        .publish(topic, vec![PublishEvent::new(payload)])
        .await
    {
        Ok(outcomes) => {
            for o in &outcomes {
                let (replay_id, error) = match &o.result {
                    Ok(id) => (Some(id.to_base64()), None),
                    Err(e) => {
                        tally.refused += 1;
                        (None, Some(e.to_string()))
                    }
                };
                print(&PublishResult {
                    line,
                    correlation_key: Some(&o.correlation_key),
                    replay_id,
                    error,
                })?;
            }
            Ok(())
        }
        Err(e) => {
            let failure = pubsub_common::failure(&e, at);
            tally.refused += 1;
            print(&PublishResult {
                line,
                correlation_key: None,
                replay_id: None,
                error: Some(failure.message.clone()),
            })?;
            if failure.exit == Exit::Other {
                Ok(())
            } else {
                Err(failure)
            }
        }
    }
}

/// Reports an input that is not an event (on stderr and as its result line) and goes on.
fn not_an_object(line: u64, what: &str, tally: &mut Tally) -> Result<(), Failure> {
    tally.not_objects += 1;
    let error = format!(
        "line {line}: {what}: each input must be one event's fields as a JSON object, e.g. \
         {{\"OrderNumber__c\":\"A-1\"}}; nothing was published for it"
    );
    tracing::error!("{error}");
    print(&PublishResult {
        line,
        correlation_key: None,
        replay_id: None,
        error: Some(error),
    })
}

fn print(result: &PublishResult<'_>) -> Result<(), Failure> {
    let mut buf = serde_json::to_vec(result)
        .map_err(|e| Failure::other(format!("internal error: a result as JSON: {e}")))?;
    buf.push(b'\n');
    write_stdout(&buf).map_err(|e| Failure::other(format!("writing to stdout failed: {e}")))
}
