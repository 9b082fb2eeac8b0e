//! Bulk-mode throughput: one client long-polls pre-serialised batches as fast as it can.
//!
//! ```sh
//! cargo run --release -p sfstream-emulator --example bulk_bench -- \
//!     [--events 200000] [--rounds 5] [--payload-size 1000] [--batch 1000]
//! ```
//!
//! Each round queues `--events` events for the client with `publish_bulk` (timed separately:
//! that is the pre-serialisation), then the client drains them with back-to-back connects over
//! one keep-alive HTTP/1.1 connection, counting events by their `"replayId":` keys and checking
//! the last id. Not a test: it asserts nothing about speed.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sfstream_emulator::Emulator;

const CHANNEL: &str = "/event/Order__e";

struct Options {
    events: usize,
    rounds: usize,
    payload_size: usize,
    batch: usize,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        events: 200_000,
        rounds: 5,
        payload_size: 1000,
        batch: 1000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or(format!("{flag} needs a number"))?;
        match flag.as_str() {
            "--events" => o.events = value,
            "--rounds" => o.rounds = value,
            "--payload-size" => o.payload_size = value,
            "--batch" => o.batch = value,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(o)
}

/// The number after the last `"replayId":` of a body.
fn last_replay_id(body: &[u8]) -> Option<i64> {
    let key = b"\"replayId\":";
    let at = memchr::memmem::rfind(body, key)? + key.len();
    let digits: Vec<u8> = body[at..]
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

async fn post(http: &reqwest::Client, url: &str, cookies: &str, body: &Value) -> reqwest::Response {
    http.post(url)
        .header("Authorization", "Bearer emulator-access-token")
        .header("Content-Type", "application/json")
        .header("Cookie", cookies)
        .body(body.to_string())
        .send()
        .await
        .expect("request")
}

#[tokio::main]
async fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            std::process::exit(2);
        }
    };
    let emulator = Emulator::builder()
        .long_poll_timeout(Duration::from_secs(5))
        .max_batch(o.batch)
        .start()
        .await
        .expect("start");
    let control = emulator.control();
    let url = format!("{}/cometd/64.0", emulator.base_url());
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    let hs = post(
        &http,
        &url,
        "",
        &json!([{"channel": "/meta/handshake", "id": "1"}]),
    )
    .await;
    let cookies: Vec<String> = hs
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next().map(str::to_owned))
        .collect();
    let cookies = cookies.join("; ");
    let reply: Value = hs.json().await.expect("handshake");
    let client_id = reply[0]["clientId"].as_str().expect("client id").to_owned();
    let connect = json!([{"channel": "/meta/connect", "clientId": client_id,
                          "connectionType": "long-polling", "id": "c"}]);
    post(&http, &url, &cookies, &connect).await;
    let sub = json!([{"channel": "/meta/subscribe", "clientId": client_id,
                      "subscription": CHANNEL, "id": "s"}]);
    post(&http, &url, &cookies, &sub).await;

    let key = memchr::memmem::Finder::new(b"\"replayId\":");
    let (mut total_events, mut total_bytes) = (0usize, 0usize);
    let mut drain_time = Duration::ZERO;
    let mut prepare_time = Duration::ZERO;
    let mut out = std::io::stdout();
    for round in 0..o.rounds {
        let started = Instant::now();
        let summary = control
            .publish_bulk(CHANNEL, o.events, o.payload_size)
            .expect("bulk");
        prepare_time += started.elapsed();
        let started = Instant::now();
        let (mut got, mut bytes, mut last) = (0usize, 0usize, None);
        while got < o.events {
            let body = post(&http, &url, &cookies, &connect)
                .await
                .bytes()
                .await
                .expect("body");
            got += key.find_iter(&body).count();
            bytes += body.len();
            last = last_replay_id(&body).or(last);
        }
        let elapsed = started.elapsed();
        assert_eq!(got, o.events, "event count");
        assert_eq!(last, Some(summary.last_replay_id), "last replay id");
        drain_time += elapsed;
        total_events += got;
        total_bytes += bytes;
        let _ = writeln!(
            out,
            "round {round}: {got} events, {:.1} MB in {:.3} s = {:.0} events/s",
            bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            got as f64 / elapsed.as_secs_f64()
        );
    }
    let secs = drain_time.as_secs_f64();
    let _ = writeln!(
        out,
        "delivered {total_events} events ({:.0} bytes each on the wire) in {secs:.3} s: \
         {:.0} events/s, {:.0} MB/s; pre-serialisation {:.0} events/s",
        total_bytes as f64 / total_events.max(1) as f64,
        total_events as f64 / secs,
        total_bytes as f64 / 1e6 / secs,
        total_events as f64 / prepare_time.as_secs_f64()
    );
    emulator.shutdown().await;
}
