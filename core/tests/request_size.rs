//! Requests stay within Salesforce's 32,768-byte body limit: many subscriptions are split.
mod common;

use common::*;
use sfstream_core::RequestKind;
use sfstream_core::bayeux::MAX_REQUEST_BYTES;

#[test]
fn many_subscriptions_are_split_into_requests_under_the_limit() {
    let mut sc = Scenario::new(token_config());
    let names: Vec<String> = (0..600)
        .map(|i| format!("/event/Some_Rather_Long_Event_Name_{i:04}__e"))
        .collect();
    for n in &names {
        sc.s.subscribe(n, None, sc.now).unwrap();
    }
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok(CLIENT);
    sc.next(RequestKind::Connect);
    let mut subscribed = 0;
    let mut requests = 0;
    while subscribed < names.len() {
        let t = sc.next(RequestKind::Control);
        assert!(
            t.request.body().len() <= MAX_REQUEST_BYTES,
            "{} bytes",
            t.request.body().len()
        );
        subscribed += Scenario::body(&t).as_array().unwrap().len();
        requests += 1;
        sc.reply_ok(&t);
    }
    assert!(requests > 1);
    assert_eq!(sc.s.subscriptions().len(), names.len());
}
