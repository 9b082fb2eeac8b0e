//! Pub/Sub credit accounting: `pending_num_requested` is the authority. Requests the server has
//! not counted yet (a response crossed them) are added to its figure, never counted twice, and a
//! server that drops credit is believed.
mod pubsub_common;

use pubsub_common::*;

#[test]
fn a_keepalive_that_crossed_the_first_request_does_not_double_the_credit() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    // Sent before the server read the request: it owes nothing yet.
    sc.send(call, &keepalive(5, 0));
    assert_eq!(sc.s.outstanding(TOPIC), Some(100));
    assert_eq!(sc.call(call).fetch_requests().len(), 1, "no second request");
    // Now it has counted it.
    sc.send(call, &keepalive(5, 100));
    assert_eq!(sc.s.outstanding(TOPIC), Some(100));
    assert_eq!(sc.call(call).fetch_requests().len(), 1);
}

#[test]
fn top_ups_that_crossed_a_response_are_counted_once() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=60, 40));
    assert_eq!(sc.take(60).len(), 60);
    // Each quarter of the window taken asks for it again: 25 at 25 taken, 25 at 50.
    let asked: Vec<i32> = sc
        .call(call)
        .fetch_requests()
        .iter()
        .map(|r| r.num_requested)
        .collect();
    assert_eq!(asked, vec![100, 25, 25]);
    assert_eq!(sc.s.outstanding(TOPIC), Some(90));
    // The server sent 10 before it read the two requests: it says 30.
    sc.send(call, &batch(61..=70, 30));
    assert_eq!(
        sc.s.outstanding(TOPIC),
        Some(80),
        "30 owed + 50 not yet counted"
    );
    // Then it counts them: 30 + 50 - 5.
    sc.send(call, &batch(71..=75, 75));
    assert_eq!(sc.s.outstanding(TOPIC), Some(75));
    assert_eq!(sc.s.buffered(TOPIC), Some(15));
    assert_eq!(
        sc.call(call).fetch_requests().len(),
        3,
        "held 15 + owed 75 leaves 10, below a quarter of the window"
    );
}

#[test]
fn the_servers_figure_wins_when_it_drops_credit() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &keepalive(1, 100));
    // A local counter would still say 100 owed, and wait forever.
    sc.send(call, &keepalive(1, 0));
    assert_eq!(sc.call(call).fetch_requests().len(), 2);
    assert_eq!(sc.call(call).fetch_requests()[1].num_requested, 100);
    assert_eq!(sc.s.outstanding(TOPIC), Some(100));
}

#[test]
fn a_server_that_sends_more_than_it_owed_loses_nothing() {
    let mut sc = PubSubScenario::started(config().max_pending(10), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=15, 0));
    assert_eq!(sc.s.outstanding(TOPIC), Some(0));
    assert_eq!(numbers(&sc.take(100)), (1..=15).collect::<Vec<_>>());
}

#[test]
fn a_negative_pending_reads_as_nothing_owed() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &keepalive(1, 100));
    sc.send(call, &keepalive(1, -7));
    assert_eq!(
        sc.s.outstanding(TOPIC),
        Some(100),
        "asked again for the whole window"
    );
    let requests = sc.call(call).fetch_requests();
    assert_eq!(requests.last().unwrap().num_requested, 100);
}

/// From the `pubsub_session` fuzz target's first run (the finding was in the target's own
/// bookkeeping): a server that claims more than 100 owed gets no request until its figure drops,
/// and then only what the window leaves.
#[test]
fn a_server_claiming_more_than_the_cap_gets_nothing_until_its_figure_drops() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=3, 101));
    assert_eq!(sc.s.outstanding(TOPIC), Some(101));
    sc.send(call, &batch(4..=9, 64));
    let requests = sc.call(call).fetch_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].num_requested, 27, "100 - 9 held - 64 owed");
    assert!(64 + requests[1].num_requested <= 100);
}
