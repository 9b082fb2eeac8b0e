//! Where a channel subscribed without an explicit start resumes, given the ids a store kept
//! (`Session::resume_from_store`): its own id, else that of its unfiltered name, else the store's
//! constant, else the configured default; an explicit start always wins. Decided for channels
//! subscribed before the ids were given too.
mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;
use sfstream_core::{ReplayFrom, RequestKind};

const A: &str = "/event/A__e";
const B: &str = "/event/B__e";
const FILTERED: &str = "/data/AccountChangeEvent?Name=x";
const UNFILTERED: &str = "/data/AccountChangeEvent";

fn stored(ids: &[(&str, i64)]) -> BTreeMap<String, i64> {
    ids.iter().map(|(c, id)| ((*c).to_owned(), *id)).collect()
}

/// Opens `sc`, handshakes, and returns the replay id each channel's subscription asked for.
fn subscribed_from(sc: &mut Scenario) -> BTreeMap<String, Value> {
    sc.s.open(sc.now).unwrap();
    sc.pump();
    sc.handshake_ok("c1");
    let _poll = sc.next(RequestKind::Connect);
    let subs = sc.next(RequestKind::Control);
    Scenario::body(&subs)
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let channel = m["subscription"].as_str().unwrap().to_owned();
            let key = channel.split('?').next().unwrap().to_owned();
            (channel, m["ext"]["replay"][key].clone())
        })
        .collect()
}

#[test]
fn stored_ids_decide_channels_subscribed_before_and_after_they_are_given() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe(A, None, sc.now).unwrap();
    sc.s.resume_from_store(stored(&[(A, 10), (B, 20)]), None)
        .unwrap();
    sc.s.subscribe(B, None, sc.now).unwrap();
    let from = subscribed_from(&mut sc);
    assert_eq!(from[A], 10);
    assert_eq!(from[B], 20);
}

#[test]
fn an_explicit_start_wins_over_the_store() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe(A, Some(ReplayFrom::All), sc.now).unwrap();
    sc.s.subscribe(B, None, sc.now).unwrap();
    sc.s.unsubscribe(B, sc.now).unwrap();
    // Subscribed again with an explicit start: no longer decided by the store.
    sc.s.subscribe(B, Some(ReplayFrom::Id(3)), sc.now).unwrap();
    sc.s.resume_from_store(stored(&[(A, 10), (B, 20)]), Some(99))
        .unwrap();
    let from = subscribed_from(&mut sc);
    assert_eq!(from[A], -2);
    assert_eq!(from[B], 3);
}

#[test]
fn a_filtered_channel_falls_back_on_its_unfiltered_name_then_the_constant() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe(FILTERED, None, sc.now).unwrap();
    sc.s.subscribe(B, None, sc.now).unwrap();
    sc.s.resume_from_store(stored(&[(UNFILTERED, 7)]), Some(5))
        .unwrap();
    let from = subscribed_from(&mut sc);
    assert_eq!(from[FILTERED], 7);
    assert_eq!(from[B], 5, "the store's constant");
}

#[test]
fn without_a_stored_id_the_configured_default_applies() {
    let mut config = token_config();
    config.replay = ReplayFrom::All;
    let mut sc = Scenario::new(config);
    sc.s.subscribe(A, None, sc.now).unwrap();
    sc.s.resume_from_store(stored(&[(B, 20)]), None).unwrap();
    let from = subscribed_from(&mut sc);
    assert_eq!(from[A], -2);
}

#[test]
fn a_negative_stored_id_and_ids_given_after_open_are_refused() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe(A, None, sc.now).unwrap();
    let err =
        sc.s.resume_from_store(stored(&[(A, -5)]), None)
            .unwrap_err();
    assert!(
        err.to_string().contains("replay id -5 is negative"),
        "{err}"
    );

    let mut sc = Scenario::new(token_config());
    sc.s.open(sc.now).unwrap();
    let err =
        sc.s.resume_from_store(stored(&[(A, 10)]), None)
            .unwrap_err();
    assert!(
        err.to_string().contains("before the session opens"),
        "{err}"
    );
}
