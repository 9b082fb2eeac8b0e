//! Pub/Sub session events on tokio: a stream the server cuts is reported lost, retried and
//! restored, in that order; a subscriber that falls behind is told how many it missed; a replay
//! fallback to the latest events is reported as a gap; the events end with `Closed`.

mod pubsub_common;

use pubsub_common::*;
use sfstream_emulator_pubsub::{Fault, FaultTarget, PubSubEmulator};
use sfstream_tokio::SESSION_EVENTS_BUFFER;
use sfstream_tokio::pubsub::{
    MemoryStore, PubSubReplayFrom, PubSubSessionEvent, PubSubSessionEvents, ReplayFallback,
    ReplayStore,
};

/// Every event until the stream ends.
async fn drain(events: &mut PubSubSessionEvents) -> Vec<PubSubSessionEvent> {
    within("the end of the session events", async {
        let mut out = Vec::new();
        while let Some(e) = events.recv().await {
            out.push(e);
        }
        out
    })
    .await
}

fn name(e: &PubSubSessionEvent) -> &'static str {
    match e {
        PubSubSessionEvent::Authenticated { .. } => "authenticated",
        PubSubSessionEvent::StreamOpened { .. } => "opened",
        PubSubSessionEvent::StreamLost { .. } => "lost",
        PubSubSessionEvent::Reconnecting { .. } => "reconnecting",
        PubSubSessionEvent::StreamRestored { .. } => "restored",
        PubSubSessionEvent::Unsubscribed { .. } => "unsubscribed",
        PubSubSessionEvent::Closed { .. } => "closed",
        PubSubSessionEvent::Lagged { .. } => "lagged",
        _ => "other",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_stream_is_lost_then_reconnecting_then_restored_and_nothing_is_lost() {
    let emulator = start(PubSubEmulator::builder()).await;
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    let mut events = client.session_events();
    within("open", client.open()).await.unwrap();
    emulator.control().publish_generated(ORDERS, 5).unwrap();
    receive_n(&client, 5).await;

    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::CutAfterDelivery);
    emulator.control().publish_generated(ORDERS, 5).unwrap();
    let after = receive_n(&client, 5).await;
    assert_eq!(after.len(), 5, "the cut events come again by replay");
    within("close", client.close()).await.unwrap();

    let all = drain(&mut events).await;
    let names: Vec<&str> = all.iter().map(name).collect();
    assert_eq!(
        names,
        [
            "authenticated",
            "opened",
            "lost",
            "reconnecting",
            "restored",
            "closed"
        ],
        "{all:?}"
    );
    assert!(all[1..5].iter().all(|e| e.topic() == Some(ORDERS)));
    assert!(matches!(
        all.last(),
        Some(PubSubSessionEvent::Closed { error: None })
    ));
    assert!(events.is_ended());
    assert_eq!(
        emulator.control().stats().faults.get("cut_after_delivery"),
        Some(&1)
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_falls_behind_is_told_how_many_it_missed() {
    let emulator = start(PubSubEmulator::builder()).await;
    let client = builder(&emulator).build().unwrap();
    let mut lagging = client.session_events();
    let mut keeping_up = client.session_events();
    let reader = tokio::spawn(async move { drain(&mut keeping_up).await });
    within("open", client.open()).await.unwrap();
    // Two events a round (opened, unsubscribed): more than the buffer holds.
    let rounds = SESSION_EVENTS_BUFFER / 2 + 20;
    for _ in 0..rounds {
        within("subscribe", client.subscribe(ORDERS)).await.unwrap();
        client.unsubscribe(ORDERS).unwrap();
    }
    within("close", client.close()).await.unwrap();

    let all = reader.await.unwrap();
    assert!(
        all.iter()
            .all(|e| !matches!(e, PubSubSessionEvent::Lagged { .. })),
        "a subscriber that keeps up misses nothing"
    );
    assert!(all.len() > SESSION_EVENTS_BUFFER, "{} events", all.len());
    let seen = drain(&mut lagging).await;
    let Some(PubSubSessionEvent::Lagged { missed }) = seen.first() else {
        panic!("the lagging subscriber is told first: {:?}", seen.first());
    };
    assert_eq!(
        seen.len() - 1,
        SESSION_EVENTS_BUFFER,
        "the buffer's events follow"
    );
    assert_eq!(
        *missed as usize + SESSION_EVENTS_BUFFER,
        all.len(),
        "missed and kept make up every event"
    );
    assert_eq!(name(&seen[seen.len() - 1]), "closed");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_to_the_latest_events_is_a_gap() {
    let emulator = start(PubSubEmulator::builder()).await;
    let published = emulator.control().publish_generated(ORDERS, 3).unwrap();
    let store = std::sync::Arc::new(MemoryStore::new());
    store.save_topic(ORDERS, &published[0].to_bytes()).unwrap();
    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::CorruptedReplayId);
    let client = builder(&emulator)
        .store(store)
        .replay_fallback(Some(ReplayFallback::New))
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    let mut events = client.session_events();
    within("open", client.open()).await.unwrap();
    let mut all = Vec::new();
    within("the fallback", async {
        while let Some(e) = events.recv().await {
            let restored = matches!(e, PubSubSessionEvent::StreamRestored { .. });
            all.push(e);
            if restored {
                return;
            }
        }
    })
    .await;
    within("close", client.close()).await.unwrap();
    all.extend(drain(&mut events).await);
    let names: Vec<&str> = all.iter().map(name).collect();
    assert_eq!(
        names,
        ["authenticated", "opened", "other", "restored", "closed"],
        "{all:?}"
    );
    let gaps: Vec<&PubSubSessionEvent> = all.iter().filter(|e| e.is_gap()).collect();
    assert_eq!(gaps.len(), 1, "{all:?}");
    let PubSubSessionEvent::ReplayFallback {
        topic,
        rejected,
        using,
        ..
    } = gaps[0]
    else {
        panic!("a gap is a replay fallback: {:?}", gaps[0]);
    };
    assert_eq!(topic, ORDERS);
    assert_eq!(
        rejected.as_ref().map(|id| id.as_bytes().to_vec()),
        Some(published[0].to_bytes().to_vec())
    );
    assert_eq!(*using, PubSubReplayFrom::Latest);
    emulator.shutdown().await;
}
