//! `ManagedSubscribe` (beta): the subscription is named by id or developer name (not both),
//! RUN/STOP, one active stream, resume after the last commit, `defaultReplay` and
//! `errorRecoveryReplay`, no commit in the first request, coalesced commit answers, commit
//! errors in-band.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use sfstream_emulator_pubsub::proto::{CommitReplayRequest, ErrorCode, ManagedFetchRequest};
use sfstream_emulator_pubsub::{ManagedState, PubSubEmulator, PubSubEmulatorBuilder, ReplayStart};
use tonic::Code;

const T: &str = "/event/Order__e";

fn by_name(name: &str, n: i32) -> ManagedFetchRequest {
    ManagedFetchRequest {
        developer_name: name.into(),
        num_requested: n,
        ..Default::default()
    }
}

fn commit(id: &str, replay: &[u8]) -> ManagedFetchRequest {
    ManagedFetchRequest {
        commit_replay_id_request: Some(CommitReplayRequest {
            commit_request_id: id.into(),
            replay_id: Bytes::copy_from_slice(replay),
        }),
        ..Default::default()
    }
}

fn builder() -> PubSubEmulatorBuilder {
    PubSubEmulator::builder().commit_coalesce(Duration::from_millis(150))
}

#[tokio::test]
async fn naming_rules_and_the_first_request() {
    let (emulator, mut client) = start(builder()).await;
    let id = emulator
        .control()
        .create_managed_subscription("Orders", T, ReplayStart::Latest, ReplayStart::Latest)
        .unwrap();
    assert!(id.starts_with("18x") && id.len() == 18, "{id}");
    let both = ManagedFetchRequest {
        subscription_id: id.clone(),
        developer_name: "Orders".into(),
        num_requested: 1,
        ..Default::default()
    };
    let neither = ManagedFetchRequest {
        num_requested: 1,
        ..Default::default()
    };
    for first in [both, neither] {
        let status = managed(&mut client, &emulator, first)
            .await
            .unwrap()
            .error()
            .await;
        assert_salesforce_error(
            &status,
            Code::InvalidArgument,
            "managed.subscription.id.or.developer.name.empty",
        );
    }
    let status = managed(&mut client, &emulator, by_name("Nope", 1))
        .await
        .unwrap()
        .error()
        .await;
    assert_salesforce_error(
        &status,
        Code::NotFound,
        "managed.subscription.developer.name.not.found",
    );
    let first_commit = ManagedFetchRequest {
        num_requested: 1,
        ..by_name("Orders", 1)
    };
    let first_commit = ManagedFetchRequest {
        commit_replay_id_request: commit("c", &[0; 8]).commit_replay_id_request,
        ..first_commit
    };
    let status = managed(&mut client, &emulator, first_commit)
        .await
        .unwrap()
        .error()
        .await;
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "managed.subscription.fetch.request.commit.request.restricted",
    );
    // By id, and num_requested 0 is legal.
    let by_id = ManagedFetchRequest {
        subscription_id: id,
        num_requested: 0,
        ..Default::default()
    };
    let mut stream = managed(&mut client, &emulator, by_id).await.unwrap();
    stream.assert_quiet(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn one_active_stream_and_stop_ends_it() {
    let (emulator, mut client) = start(builder()).await;
    let control = emulator.control();
    control
        .create_managed_subscription("Orders", T, ReplayStart::Latest, ReplayStart::Latest)
        .unwrap();
    let mut first = managed(&mut client, &emulator, by_name("Orders", 5))
        .await
        .unwrap();
    first.assert_quiet(Duration::from_millis(100)).await;
    let status = managed(&mut client, &emulator, by_name("Orders", 5))
        .await
        .unwrap()
        .error()
        .await;
    assert_salesforce_error(
        &status,
        Code::FailedPrecondition,
        "managed.subscription.already.active",
    );
    assert!(control.managed_subscriptions()[0].active);
    control
        .set_managed_state("Orders", ManagedState::Stop)
        .unwrap();
    let status = first.error().await;
    assert_salesforce_error(
        &status,
        Code::FailedPrecondition,
        "managed.subscription.config.stopped",
    );
    let status = managed(&mut client, &emulator, by_name("Orders", 5))
        .await
        .unwrap()
        .error()
        .await;
    assert_salesforce_error(
        &status,
        Code::FailedPrecondition,
        "managed.subscription.config.stopped",
    );
    control
        .set_managed_state("Orders", ManagedState::Run)
        .unwrap();
    let mut again = managed(&mut client, &emulator, by_name("Orders", 5))
        .await
        .unwrap();
    control.publish_generated(T, 1).unwrap();
    assert_eq!(again.message().await.events.len(), 1);
}

#[tokio::test]
async fn commits_are_coalesced_and_a_new_stream_resumes_after_the_last() {
    let (emulator, mut client) = start(builder()).await;
    let control = emulator.control();
    control
        .create_managed_subscription("Orders", T, ReplayStart::Earliest, ReplayStart::Earliest)
        .unwrap();
    let published = control.publish_generated(T, 6).unwrap();
    let mut stream = managed(&mut client, &emulator, by_name("Orders", 4))
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        got.extend(stream.message().await.events);
    }
    assert_eq!(
        replay_u64(&got[0].replay_id),
        published[0].0,
        "defaultReplay EARLIEST"
    );
    stream.send(commit("c1", &got[1].replay_id)).await;
    stream.send(commit("c2", &got[3].replay_id)).await;
    let answer = stream.message().await;
    let c = answer.commit_response.expect("a commit answer");
    assert_eq!(
        c.commit_request_id, "c2",
        "one answer for the newest commit"
    );
    assert_eq!(c.replay_id, got[3].replay_id);
    assert!(c.error.is_none() && c.process_time > 0);
    stream.assert_quiet(Duration::from_millis(300)).await;
    drop(stream);
    // The cursor lives on the server: a new stream starts after the commit.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut stream = managed(&mut client, &emulator, by_name("Orders", 10))
        .await
        .unwrap();
    let next = stream.message().await;
    assert_eq!(replay_u64(&next.events[0].replay_id), published[4].0);
    assert_eq!(
        control.managed_subscriptions()[0]
            .committed_replay_id
            .as_deref(),
        Some(published[3].to_base64().as_str())
    );
}

#[tokio::test]
async fn a_bad_commit_is_answered_in_band_and_the_stream_goes_on() {
    let (emulator, mut client) = start(builder()).await;
    let control = emulator.control();
    control
        .create_managed_subscription("Orders", T, ReplayStart::Latest, ReplayStart::Latest)
        .unwrap();
    let mut stream = managed(&mut client, &emulator, by_name("Orders", 5))
        .await
        .unwrap();
    stream.send(commit("bad", &[9, 9, 9])).await;
    let answer = stream
        .message()
        .await
        .commit_response
        .expect("a commit answer");
    assert_eq!(answer.commit_request_id, "bad");
    assert_eq!(answer.error.unwrap().code, i32::from(ErrorCode::Commit));
    control.publish_generated(T, 1).unwrap();
    assert_eq!(stream.message().await.events.len(), 1, "still streaming");
}

#[tokio::test]
async fn an_expired_commit_falls_back_to_error_recovery_replay() {
    let (emulator, mut client) = start(builder()).await;
    let control = emulator.control();
    control
        .create_managed_subscription("Latest", T, ReplayStart::Earliest, ReplayStart::Latest)
        .unwrap();
    control
        .create_managed_subscription("Earliest", T, ReplayStart::Latest, ReplayStart::Earliest)
        .unwrap();
    let published = control.publish_generated(T, 3).unwrap();
    for name in ["Latest", "Earliest"] {
        let mut stream = managed(&mut client, &emulator, by_name(name, 0))
            .await
            .unwrap();
        stream.send(commit("c", &published[0].to_bytes())).await;
        assert!(
            stream
                .message()
                .await
                .commit_response
                .unwrap()
                .error
                .is_none()
        );
    }
    control.reset_replay_ids(T).unwrap(); // the committed ids are unknown now
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut latest = managed(&mut client, &emulator, by_name("Latest", 10))
        .await
        .unwrap();
    latest.assert_quiet(Duration::from_millis(150)).await;
    let mut earliest = managed(&mut client, &emulator, by_name("Earliest", 10))
        .await
        .unwrap();
    let mut n = 0;
    while n < 3 {
        n += earliest.message().await.events.len();
    }
    let fresh = control.publish_generated(T, 1).unwrap();
    let r = latest.message().await;
    assert_eq!(replay_u64(&r.events[0].replay_id), fresh[0].0);
}
