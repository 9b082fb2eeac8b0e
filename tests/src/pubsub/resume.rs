//! Resuming: a stream the server ends with `UNAVAILABLE` mid-way, one it cuts after counting
//! events delivered that never reached the client, and one that goes silent (a half-open
//! connection, caught by the watchdog) are opened again after the last event received
//! (`CUSTOM`): every event arrives once, in order.

use std::time::Duration;

use sfstream_driver::pubsub::PubSubSessionEvent;
use sfstream_emulator_pubsub::{Fault, FaultTarget};

use super::{
    ORDERS, PubSubEmu, PubSubFlavor, PubSubSetup, assert_nothing_more, ids, receive_n,
    wait_for_report,
};

/// 300 events in responses of 20; after the first 50 are taken, `fault` hits the stream.
fn resumes_after(flavor: &impl PubSubFlavor, fault: Fault) {
    let emu = PubSubEmu::start_with(|b| b.max_events_per_response(20));
    let published = emu.publish(ORDERS, 300);
    let client = flavor.client(PubSubSetup::new(&emu));
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();

    let mut received = ids(&receive_n(&*client, 50));
    emu.control
        .fail_next_on(FaultTarget::Subscribe, 1, fault.clone());
    received.extend(ids(&receive_n(&*client, 250)));
    assert_eq!(
        received,
        published,
        "{} after {fault:?}: every event once, in order",
        flavor.name()
    );
    assert_nothing_more(&*client);
    assert_eq!(emu.faults_fired(fault.name()), 1, "{}", flavor.name());
    let stats = client.stats();
    assert!(
        stats.streams_opened >= 2,
        "{}: the stream was opened again: {stats:?}",
        flavor.name()
    );
    assert_eq!(stats.events_received, 300, "{}: {stats:?}", flavor.name());
    client.close().unwrap();
    if fault == Fault::CutAfterDelivery {
        let delivered = emu.topic_stats(ORDERS).delivered;
        assert!(
            delivered > 300,
            "{}: the server counted the cut events delivered, and delivered them again: {delivered}",
            flavor.name()
        );
    }
}

/// `UNAVAILABLE` in place of a response: the stream is opened again, nothing lost or repeated.
pub fn pubsub_resume_after_unavailable(flavor: &impl PubSubFlavor) {
    resumes_after(flavor, Fault::Unavailable);
}

/// Events counted delivered by the server, then the stream cut before they reached the client:
/// the client resumes after the last event it received and gets them: 0 lost.
pub fn pubsub_cut_after_delivery_loses_nothing(flavor: &impl PubSubFlavor) {
    resumes_after(flavor, Fault::CutAfterDelivery);
}

/// A stream that sends nothing at all (no event, no keepalive) and never ends is cancelled after
/// the watchdog and opened again after the last event received; nothing is lost.
pub fn pubsub_watchdog_reopens_a_silent_stream(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start_with(|b| {
        b.keepalive(Duration::from_millis(100))
            .max_events_per_response(10)
    });
    let client = flavor.client(PubSubSetup::new(&emu).watchdog(Some(Duration::from_millis(600))));
    let mut events = client.session_events();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let mut published = emu.publish(ORDERS, 20);
    let mut received = ids(&receive_n(&*client, 20));

    emu.control
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::Stall);
    published.extend(emu.publish(ORDERS, 30));
    received.extend(ids(&receive_n(&*client, 30)));
    assert_eq!(
        received,
        published,
        "{}: every event once, in order",
        flavor.name()
    );
    assert_nothing_more(&*client);

    let topic = wait_for_report(&mut *events, "the watchdog", |e| match e {
        PubSubSessionEvent::StreamSilent { topic, .. } => Some(topic),
        _ => None,
    });
    assert_eq!(topic, ORDERS);
    assert_eq!(client.stats().watchdog_fired, 1, "{}", flavor.name());
    assert_eq!(emu.faults_fired("stall"), 1, "{}", flavor.name());
    client.close().unwrap();
}
