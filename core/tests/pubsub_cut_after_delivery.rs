//! A stream cut after the server counted events delivered (the response carrying them is lost
//! in a reset or a cut mid-message): the session resumes after the last event it *accepted*,
//! so the server sends the lost ones again and none is lost.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::pubsub::frame::encode_message;
use sfstream_core::pubsub::proto::FetchRequest;
use sfstream_core::pubsub::{CallKind, ReplayId};

/// A server whose topic holds events `1..=last` that cuts its `cut_every`-th response in the
/// middle, after counting its events as delivered, then resets the stream.
fn run(last: u64, per_response: u64, cut_every: u64, take: usize) -> (Vec<u64>, u64) {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let mut received = Vec::new();
    let mut lost_on_the_wire = 0;
    let mut responses = 0;
    for _ in 0..10_000 {
        sc.advance(2_000); // past any backoff
        let Some(call) = sc.try_stream(TOPIC) else {
            continue;
        };
        if !sc.call(call).accepted {
            sc.accept(call);
        }
        let requests: Vec<FetchRequest> = sc.call(call).fetch_requests();
        let first = requests[0].clone();
        let start = if first.replay_preset == 2 {
            ReplayId::new(first.replay_id).as_u64().unwrap() + 1
        } else {
            1
        };
        // The server's view of this stream: what it sent (cut or not) and what it is owed.
        let sent_before: u64 = sc.call(call).read as u64;
        let requested: i64 = requests.iter().map(|r| i64::from(r.num_requested)).sum();
        let next = start + sent_before;
        let owed = requested - sent_before as i64;
        if owed <= 0 || next > last {
            received.extend(numbers(&sc.take(take)));
            if received.len() as u64 >= last {
                break;
            }
            continue;
        }
        let n = (owed as u64).min(per_response).min(last - next + 1);
        let ids: Vec<u64> = (next..next + n).collect();
        sc.calls.get_mut(&call).unwrap().read += n as usize;
        responses += 1;
        let response = batch(ids, (owed - n as i64) as i32);
        if responses % cut_every == 0 {
            // Counted as delivered, but only half the bytes reach the client.
            let wire = encode_message(&response).unwrap();
            sc.data(call, &wire[..wire.len() / 2]);
            sc.reset(call, 0);
            lost_on_the_wire += n;
        } else {
            sc.send(call, &response);
        }
        received.extend(numbers(&sc.take(take)));
        if received.len() as u64 >= last {
            break;
        }
    }
    let live = sc.live(CallKind::Subscribe);
    assert!(
        live.len() <= 1,
        "{:#?}",
        live.iter()
            .map(|c| (c, sc.call(*c).fetch_requests()))
            .collect::<Vec<_>>()
    );
    (received, lost_on_the_wire)
}

#[test]
fn events_lost_in_a_cut_response_come_again() {
    for (per_response, cut_every, take) in [(10, 3, 7), (1, 5, 1), (25, 2, 100), (100, 4, 13)] {
        let (received, lost) = run(500, per_response, cut_every, take);
        assert!(lost > 0, "the scenario cut responses");
        assert_eq!(
            received,
            (1..=500).collect::<Vec<_>>(),
            "every event once, in order (per_response {per_response}, cut_every {cut_every})"
        );
    }
}

#[test]
fn a_stream_that_failed_after_whole_messages_keeps_them() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=5, 95));
    // The events arrived whole; the trailers then say UNAVAILABLE.
    sc.end(call, 14, None);
    sc.advance(1_000);
    let next = sc.stream(TOPIC);
    assert_eq!(
        ReplayId::new(sc.call(next).first_fetch().replay_id),
        ReplayId::from_u64(5)
    );
    assert_eq!(numbers(&sc.take(10)), vec![1, 2, 3, 4, 5]);
}
