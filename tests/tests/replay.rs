//! The real client driven by a transcript (`testing::replay_client`) on every runtime: an
//! application's own code meets recorded traffic without a server, and a test of it fails when
//! the code misbehaves.

use std::time::Duration;

use sfstream_driver::testing::Replay;
use sfstream_tests::{Emu, fast, scratch_dir};

const ORDERS: &str = "/event/Order__e";
const TRANSCRIPT: &str = include_str!("data/orders_replay.json");

/// The application under test: takes `n` orders and returns their amounts.
async fn amounts(
    client: &sfstream_tokio::Client,
    channel: &str,
    n: usize,
) -> Result<Vec<f64>, String> {
    client.subscribe(channel).await.map_err(|e| e.to_string())?;
    client.open().await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while out.len() < n {
        let m = client.receive().await.map_err(|e| e.to_string())?;
        let payload: serde_json::Value = m.payload().map_err(|e| e.to_string())?;
        out.push(
            payload["Amount__c"]
                .as_f64()
                .ok_or("an order without Amount__c")?,
        );
    }
    client.close().await.map_err(|e| e.to_string())?;
    Ok(out)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_tokio_client_takes_the_recorded_events() {
    let replay = Replay::from_json(TRANSCRIPT).unwrap();
    let rt = tokio_rt();
    let got = rt.block_on(async {
        let client = sfstream_tokio::testing::replay_client(replay.clone())
            .build()
            .unwrap();
        amounts(&client, ORDERS, 2).await
    });
    assert_eq!(got, Ok(vec![42.0, 5.0]));
    replay.verify().unwrap();
}

#[test]
fn the_blocking_client_takes_the_recorded_events() {
    let replay = Replay::from_json(TRANSCRIPT).unwrap();
    let client = sfstream_blocking::testing::replay_client(replay.clone())
        .build()
        .unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let ids: Vec<i64> = (&client)
        .into_iter()
        .take(2)
        .map(|m| m.unwrap().replay_id().unwrap())
        .collect();
    client.close().unwrap();
    assert_eq!(ids, [7, 8]);
    replay.verify().unwrap();
}

#[test]
fn the_async_std_client_takes_the_recorded_events() {
    let replay = Replay::from_json(TRANSCRIPT).unwrap();
    let ids = futures_lite::future::block_on(async {
        let client = sfstream_async_std::testing::replay_client(replay.clone())
            .build()
            .unwrap();
        client.subscribe(ORDERS).await.unwrap();
        client.open().await.unwrap();
        let a = client.receive().await.unwrap().replay_id();
        let b = client.receive().await.unwrap().replay_id();
        client.close().await.unwrap();
        [a, b]
    });
    assert_eq!(ids, [Some(7), Some(8)]);
    replay.verify().unwrap();
}

/// An application that subscribes to the wrong channel: its requests differ from the
/// recording, nothing answers them, and `verify` names the difference.
#[test]
fn an_application_subscribing_elsewhere_is_caught() {
    let replay = Replay::from_json(TRANSCRIPT).unwrap();
    let rt = tokio_rt();
    let outcome = rt.block_on(async {
        let client = sfstream_tokio::testing::replay_client(replay.clone())
            .build()
            .unwrap();
        tokio::time::timeout(
            Duration::from_secs(2),
            amounts(&client, "/event/Refund__e", 2),
        )
        .await
    });
    assert!(
        outcome.is_err(),
        "the application should not get its orders: {outcome:?}"
    );
    let problem = replay.verify().unwrap_err();
    assert!(problem.contains("/event/Refund__e"), "{problem}");
}

/// An application that expects a field the recorded events lack fails its test.
#[test]
fn an_application_expecting_another_message_fails() {
    let transcript = TRANSCRIPT.replace("\"Amount__c\": 5", "\"Total__c\": 5");
    let replay = Replay::from_json(&transcript).unwrap();
    let rt = tokio_rt();
    let got = rt.block_on(async {
        let client = sfstream_tokio::testing::replay_client(replay)
            .build()
            .unwrap();
        amounts(&client, ORDERS, 2).await
    });
    assert_eq!(got, Err("an order without Amount__c".to_owned()));
}

/// A session recorded against the emulator (with a lost Bayeux session on the way) replays
/// through a fresh client: the same events, every recorded request made.
#[test]
fn a_recorded_session_replays_through_the_client() {
    let emu = Emu::start();
    let path = scratch_dir("replay").join("session.json");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let live: Vec<i64> = rt.block_on(async {
        let client = sfstream_tokio::ClientBuilder::with_config(
            sfstream_tokio::Tokio::new(),
            fast(sfstream_core::Config::salesforce(emu.password())),
        )
        .record(&path)
        .build()
        .unwrap();
        client.subscribe(ORDERS).await.unwrap();
        client.open().await.unwrap();
        let mut ids = Vec::new();
        emu.publish(ORDERS, 2);
        for _ in 0..2 {
            ids.push(client.receive().await.unwrap().replay_id().unwrap());
        }
        emu.control
            .drop_sessions(sfstream_emulator::DropAdvice::Handshake);
        emu.publish(ORDERS, 2);
        for _ in 0..2 {
            ids.push(client.receive().await.unwrap().replay_id().unwrap());
        }
        client.close().await.unwrap();
        ids
    });
    drop(emu);
    let replay = Replay::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let replayed: Vec<i64> = rt.block_on(async {
        let client = sfstream_tokio::testing::replay_client(replay.clone())
            .build()
            .unwrap();
        client.subscribe(ORDERS).await.unwrap();
        client.open().await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..live.len() {
            ids.push(client.receive().await.unwrap().replay_id().unwrap());
        }
        client.close().await.unwrap();
        ids
    });
    assert_eq!(replayed, live);
    replay.verify().unwrap();
}
