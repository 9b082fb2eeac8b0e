//! Property tests: any bytes or any JSON from the network, as any reply, never panic and never
//! lose committed state.
mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use sfstream_core::RequestKind;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-z/:_0-9 ]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("/meta/connect"),
            Just("/meta/handshake"),
            Just("/meta/subscribe"),
            Just("/meta/disconnect"),
            Just("/event/A__e"),
            Just("403::Unknown client")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("channel".to_owned()),
                    Just("successful".to_owned()),
                    Just("error".to_owned()),
                    Just("data".to_owned()),
                    Just("event".to_owned()),
                    Just("replayId".to_owned()),
                    Just("advice".to_owned()),
                    Just("clientId".to_owned()),
                    Just("id".to_owned()),
                    Just("ext".to_owned()),
                    Just("reconnect".to_owned()),
                    Just("timeout".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A connected session whose channel has committed id 42.
fn committed_session() -> Scenario {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(&poll, json!([event_msg("/event/A__e", 42), connect_ok()]));
    let _ = sc.messages();
    assert_eq!(sc.s.committed("/event/A__e"), Some(42));
    sc
}

/// Answers whatever is outstanding with `body`, a few rounds, advancing time.
fn feed(sc: &mut Scenario, status: u16, body: &[u8]) {
    for _ in 0..4 {
        sc.pump();
        let Some(t) = sc.sent.pop_front() else {
            sc.advance(60_000);
            continue;
        };
        sc.reply_raw(&t, status, body.to_vec());
        let _ = sc.messages();
        assert!(
            sc.s.committed("/event/A__e").is_none_or(|c| c >= 42),
            "committed id went backwards"
        );
        assert_eq!(sc.s.pending(), 0);
        assert_eq!(
            sc.s.pending_bytes(),
            0,
            "the queue's byte count follows its messages"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in prop_oneof![Just(200u16), 100u16..600]) {
        let mut sc = committed_session();
        feed(&mut sc, status, &body);
    }

    #[test]
    fn arbitrary_json_never_panics(v in arb_json(), status in prop_oneof![Just(200u16), Just(401u16), Just(500u16)]) {
        let mut sc = committed_session();
        let body = serde_json::to_vec(&v).unwrap();
        feed(&mut sc, status, &body);
        let wrapped = serde_json::to_vec(&json!([v, connect_ok()])).unwrap();
        feed(&mut sc, 200, &wrapped);
    }

    #[test]
    fn arbitrary_json_during_the_handshake_never_panics(v in arb_json()) {
        let mut sc = Scenario::new(token_config());
        sc.s.subscribe("/event/A__e", Some(sfstream_core::ReplayFrom::Id(42)), sc.now).unwrap();
        sc.s.open(sc.now).unwrap();
        let body = serde_json::to_vec(&json!([v])).unwrap();
        feed(&mut sc, 200, &body);
    }
}
