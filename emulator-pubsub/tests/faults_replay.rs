//! Faults on resume: a valid replay id reported corrupted, and duplicate delivery after a
//! reconnect (at-least-once); plus seeded chaos, which is reproducible.

mod common;

use common::*;
use sfstream_emulator_pubsub::proto::{ReplayPreset, TopicRequest};
use sfstream_emulator_pubsub::{Fault, PubSubEmulator};
use tonic::Code;

const T: &str = "/event/Order__e";

#[tokio::test]
async fn a_valid_id_can_be_reported_corrupted() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 2).unwrap();
    control.fail_next(1, Fault::CorruptedReplayId);
    let from = published[0].to_bytes();
    let status = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&from), 1),
    )
    .await
    .unwrap()
    .error()
    .await;
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "subscription.fetch.replayid.corrupted",
    );
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&from), 1),
    )
    .await
    .unwrap();
    assert_eq!(events(&mut sub, 1).await.len(), 1, "only once");
}

#[tokio::test]
async fn a_reconnect_can_bring_events_again() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 5).unwrap();
    control.fail_next(1, Fault::DuplicateDelivery { events: 2 });
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Custom, Some(&published[2].to_bytes()), 10),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 4).await;
    let ids: Vec<u64> = got.iter().map(|e| replay_u64(&e.replay_id)).collect();
    assert_eq!(
        ids,
        published[1..].iter().map(|r| r.0).collect::<Vec<_>>(),
        "events 2 and 3 again, then 4 and 5"
    );
    assert_eq!(control.stats().faults.get("duplicate_delivery"), Some(&1));
}

#[tokio::test]
async fn chaos_with_the_same_seed_fails_the_same_calls() {
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let (emulator, mut client) = start(PubSubEmulator::builder()).await;
        emulator.control().chaos(0.4, 17).unwrap();
        let mut run = Vec::new();
        for _ in 0..30 {
            let r = client
                .get_topic(auth(
                    &emulator,
                    TopicRequest {
                        topic_name: T.into(),
                    },
                ))
                .await;
            run.push(r.map(|_| ()).map_err(|s| s.code()));
        }
        emulator.control().stop_chaos();
        client
            .get_topic(auth(
                &emulator,
                TopicRequest {
                    topic_name: T.into(),
                },
            ))
            .await
            .unwrap();
        let failures = run.iter().filter(|r| r.is_err()).count();
        assert!((4..=22).contains(&failures), "{failures}");
        assert_eq!(
            emulator.control().stats().totals.faults_fired,
            failures as u64
        );
        outcomes.push(run);
    }
    assert_eq!(outcomes[0], outcomes[1]);
}
