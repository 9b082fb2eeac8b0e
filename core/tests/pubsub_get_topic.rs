//! `GetTopic`: the application asks about a topic and gets its permissions and current schema id,
//! or why not.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::pubsub::proto::TopicInfo;
use sfstream_core::pubsub::{CallKind, PubSubErrorClass, PubSubEvent};

#[test]
fn topic_information_comes_as_an_event() {
    let mut sc = PubSubScenario::started(config(), &[]);
    sc.s.get_topic("/data/AccountChangeEvent", sc.now).unwrap();
    let get = sc.live(CallKind::GetTopic)[0];
    assert_eq!(sc.topic_request(get).topic_name, "/data/AccountChangeEvent");
    let head = &sc.call(get).head;
    assert_eq!(head.uri().path(), "/eventbus.v1.PubSub/GetTopic");
    assert_eq!(head.headers()["tenantid"], "00DEM0000000001");
    let info = TopicInfo {
        topic_name: "/data/AccountChangeEvent".into(),
        tenant_guid: "00DEM0000000001".into(),
        can_publish: false,
        can_subscribe: true,
        schema_id: "acct-1".into(),
        rpc_id: "r".into(),
    };
    sc.accept(get);
    sc.send(get, &info);
    sc.end(get, 0, None);
    let got = sc.events.iter().find_map(|e| match e {
        PubSubEvent::TopicInfo { topic, info } => Some((topic.clone(), info.clone())),
        _ => None,
    });
    assert_eq!(got, Some(("/data/AccountChangeEvent".into(), info)));
    assert_eq!(sc.s.stats().topic_requests, 1);
}

#[test]
fn a_topic_that_does_not_exist_is_reported() {
    let mut sc = PubSubScenario::started(config(), &[]);
    sc.s.get_topic("/event/Nope__e", sc.now).unwrap();
    let get = sc.live(CallKind::GetTopic)[0];
    sc.refuse(get, 5, Some("topic.not.found"));
    let class = sc.events.iter().find_map(|e| match e {
        PubSubEvent::TopicInfoFailed { topic, error } if topic == "/event/Nope__e" => error.class(),
        _ => None,
    });
    assert_eq!(class, Some(PubSubErrorClass::Topic));
}

#[test]
fn a_get_topic_before_open_goes_once_a_token_is_there() {
    let mut sc = PubSubScenario::new(config());
    sc.s.get_topic(TOPIC, sc.now).unwrap();
    assert!(sc.live(CallKind::GetTopic).is_empty());
    sc.s.open(sc.now).unwrap();
    assert_eq!(sc.live(CallKind::GetTopic).len(), 1);
}

#[test]
fn an_answer_without_ok_is_not_taken() {
    let mut sc = PubSubScenario::started(config(), &[]);
    sc.s.get_topic(TOPIC, sc.now).unwrap();
    let get = sc.live(CallKind::GetTopic)[0];
    sc.accept(get);
    sc.send(get, &TopicInfo::default());
    sc.end(get, 13, None);
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::TopicInfoFailed { .. }))
    );
    assert!(
        !sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::TopicInfo { .. }))
    );
}
