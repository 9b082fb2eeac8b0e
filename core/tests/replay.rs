//! Replay bookkeeping: the committed id per channel, automatic and manual commits, never moving
//! backwards, exact 64-bit ids, resubscription from the committed id.
mod common;

use common::*;
use serde_json::json;
use sfstream_core::{CommitPolicy, Event, ReplayFrom, RequestKind};

fn checkpoints(events: &[Event]) -> Vec<(String, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Checkpoint { channel, replay_id } => Some((channel.clone(), *replay_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn automatic_commit_happens_when_the_application_takes_the_message() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
            event_msg("/event/A__e", 5),
            event_msg("/event/A__e", 9),
            connect_ok()
        ]),
    );
    sc.take_events();
    assert_eq!(
        sc.s.committed("/event/A__e"),
        None,
        "nothing taken, nothing committed"
    );
    let _ = sc.s.poll_message();
    sc.pump();
    assert_eq!(
        checkpoints(&sc.take_events()),
        vec![("/event/A__e".into(), 5)]
    );
    let _ = sc.s.poll_message();
    sc.pump();
    assert_eq!(
        checkpoints(&sc.take_events()),
        vec![("/event/A__e".into(), 9)]
    );
}

#[test]
fn checkpoints_coalesce_per_channel() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    let batch: Vec<_> = (1..=20)
        .map(|i| event_msg("/event/A__e", i))
        .chain([connect_ok()])
        .collect();
    sc.reply(&poll, serde_json::Value::Array(batch));
    sc.take_events();
    while sc.s.poll_message().is_some() {}
    sc.pump();
    assert_eq!(
        checkpoints(&sc.take_events()),
        vec![("/event/A__e".into(), 20)]
    );
}

#[test]
fn manual_commit_and_never_backwards() {
    let mut config = token_config();
    config.commit = CommitPolicy::Manual;
    let mut sc = Scenario::connected(config, &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
            event_msg("/event/A__e", 100),
            event_msg("/event/A__e", 90),
            connect_ok()
        ]),
    );
    let got = sc.messages();
    sc.take_events();
    assert_eq!(
        sc.s.committed("/event/A__e"),
        None,
        "manual: taking is not committing"
    );
    sc.s.commit_message(&got[0]).unwrap();
    sc.s.commit_message(&got[1]).unwrap();
    sc.pump();
    assert_eq!(
        sc.s.committed("/event/A__e"),
        Some(100),
        "an older replayed event never moves it back"
    );
    assert_eq!(
        checkpoints(&sc.take_events()),
        vec![("/event/A__e".into(), 100)]
    );
    assert!(sc.s.commit("/event/Nope__e", 1).is_err());
}

#[test]
fn resubscribe_after_rehandshake_starts_from_the_committed_id() {
    let mut config = token_config();
    config.commit = CommitPolicy::Manual;
    let mut sc = Scenario::connected(config, &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
            event_msg("/event/A__e", 3),
            event_msg("/event/A__e", 4),
            event_msg("/event/A__e", 5),
            connect_ok()
        ]),
    );
    let got = sc.messages();
    sc.s.commit_message(&got[0]).unwrap();
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([{"channel": "/meta/connect", "successful": false, "error": "403::Unknown client"}]),
    );
    sc.handshake_ok("client-2");
    sc.next(RequestKind::Connect);
    let sub = Scenario::body(&sc.next(RequestKind::Control));
    assert_eq!(sub[0]["ext"]["replay"]["/event/A__e"], 3);
}

#[test]
fn ids_above_2_pow_53_stay_exact() {
    let big: i64 = 9_007_199_254_740_993;
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe("/data/ChangeEvents", Some(ReplayFrom::Id(big)), sc.now)
        .unwrap();
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok(CLIENT);
    let poll = sc.next(RequestKind::Connect);
    let sub = sc.next(RequestKind::Control);
    assert!(String::from_utf8_lossy(sub.request.body()).contains("9007199254740993"));
    sc.reply_ok(&sub);
    let body = format!(
        r#"[{{"channel":"/data/ChangeEvents","data":{{"payload":{{"ChangeEventHeader":{{"commitNumber":18446744073709551615,"commitTimestamp":1501010206653}}}},"event":{{"replayId":{}}}}}}},{{"channel":"/meta/connect","successful":true,"id":"{}"}}]"#,
        big + 2,
        Scenario::body(&poll)[0]["id"].as_str().unwrap()
    );
    sc.reply_raw(&poll, 200, body.into_bytes());
    let m = sc.messages().remove(0);
    assert_eq!(m.replay_id(), Some(big + 2));
    assert_eq!(
        m.change_event_header().unwrap().commit_number,
        Some(u64::MAX)
    );
    assert_eq!(sc.s.committed("/data/ChangeEvents"), Some(big + 2));
}

#[test]
fn an_event_with_a_broken_replay_id_is_delivered_and_reported() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
        {"channel": "/event/A__e", "data": {"payload": {}, "event": {"replayId": 1.5}}},
        event_msg("/event/A__e", 7), connect_ok()]),
    );
    let got = sc.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].replay_id(), None);
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::Error(err) if err.to_string().contains("not an integer")))
    );
    assert_eq!(sc.s.committed("/event/A__e"), Some(7));
}
