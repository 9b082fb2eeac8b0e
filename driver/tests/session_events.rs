//! Session events reach every subscriber in order, from the session's start to its end; a lost
//! session is reported with the reconnect that follows; an outage past the connection timeout is
//! reported lost, then restored; a subscriber that does not read never holds the session back,
//! and learns how many events it missed.

mod support;

use futures_util::StreamExt as _;
use sfstream_driver::{ReplayFrom, SESSION_EVENTS_BUFFER, SessionEvent, SessionEvents};
use support::{CLIENT_ID, FakeRuntime, ORDERS, Server, builder};

/// Every event waiting for `events`, without waiting; whether the stream has ended.
fn drain(rt: &FakeRuntime, events: &mut SessionEvents) -> (Vec<SessionEvent>, bool) {
    let mut got = Vec::new();
    loop {
        match rt.poll_until_quiet(&mut events.next()) {
            Some(Some(e)) => got.push(e),
            Some(None) => return (got, true),
            None => return (got, false),
        }
    }
}

fn names(events: &[SessionEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let debug = format!("{e:?}");
            debug
                .split([' ', '(', '{'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_subscriber_sees_the_session_from_open_to_close_and_then_the_end() {
    let rt = FakeRuntime::new();
    let client = builder(&rt).build().unwrap();
    let mut events = client.session_events();
    let mut server = Server::default();
    rt.run(&mut server, client.subscribe(ORDERS)).unwrap();
    rt.run(&mut server, client.open()).unwrap();
    let (got, ended) = drain(&rt, &mut events);
    assert!(!ended);
    assert!(
        matches!(&got[0], SessionEvent::Authenticated { instance_url, .. } if instance_url == "https://fake.my.salesforce.com"),
        "{got:?}"
    );
    assert!(
        matches!(&got[1], SessionEvent::Handshaken { client_id, reconnect: false } if client_id == CLIENT_ID),
        "{got:?}"
    );
    assert!(
        got.iter().any(|e| matches!(e, SessionEvent::Subscribed { channel, replay_from: ReplayFrom::New } if channel == ORDERS)),
        "{got:?}"
    );
    assert!(
        got.iter().any(|e| matches!(e, SessionEvent::Connected)),
        "{got:?}"
    );
    assert_eq!(
        got.iter()
            .filter_map(SessionEvent::channel)
            .collect::<Vec<_>>(),
        [ORDERS]
    );

    rt.run(&mut server, client.close()).unwrap();
    let (got, ended) = drain(&rt, &mut events);
    assert!(
        matches!(got.last(), Some(SessionEvent::Closed { error: None })),
        "{got:?}"
    );
    assert!(ended, "the stream ends after Closed");
    assert!(events.is_ended());
    let mut late = client.session_events();
    assert_eq!(
        rt.poll_until_quiet(&mut late.next()).map(|e| e.is_none()),
        Some(true),
        "a subscriber of a closed client ends at once"
    );
}

#[test]
fn a_lost_session_is_reported_with_the_reconnect_that_follows() {
    let rt = FakeRuntime::new();
    let client = builder(&rt).build().unwrap();
    let mut server = Server::default();
    rt.run(&mut server, client.subscribe(ORDERS)).unwrap();
    rt.run(&mut server, client.open()).unwrap();
    let mut events = client.session_events();
    let mut other = client.session_events();
    rt.settle_with(&mut server);

    assert_eq!(server.drop_session(), 1, "a long poll was held");
    rt.settle_with(&mut server);
    let (got, _) = drain(&rt, &mut events);
    let order = names(&got);
    let at = |name: &str| order.iter().position(|n| n == name);
    assert!(
        at("SessionLost") < at("Reconnecting") && at("Reconnecting") < at("Handshaken"),
        "{got:?}"
    );
    assert!(
        matches!(&got[at("SessionLost").unwrap()], SessionEvent::SessionLost { reason } if reason.to_string().contains("Unknown client")),
        "{got:?}"
    );
    assert!(
        got.iter().any(|e| matches!(
            e,
            SessionEvent::Handshaken {
                reconnect: true,
                ..
            }
        )),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|e| matches!(e, SessionEvent::Subscribed { channel, .. } if channel == ORDERS)),
        "resubscribed on the new session: {got:?}"
    );
    let (also, _) = drain(&rt, &mut other);
    assert_eq!(
        names(&also),
        order,
        "every subscriber gets every event, in order"
    );
    let stats = client.stats();
    assert_eq!((stats.sessions, stats.reconnects), (2, 1));
    assert!(stats.sessions_lost >= 1);
}

#[test]
fn a_subscriber_that_does_not_read_lags_and_never_holds_the_session() {
    let rt = FakeRuntime::new();
    let client = builder(&rt).build().unwrap();
    let mut server = Server::default();
    rt.run(&mut server, client.open()).unwrap();
    let mut idle = client.session_events();
    let mut reader = client.session_events();
    let cycles = SESSION_EVENTS_BUFFER; // two events each
    let mut read = Vec::new();
    for _ in 0..cycles {
        // The session goes on while `idle` reads nothing.
        rt.run(&mut server, client.subscribe(ORDERS)).unwrap();
        rt.run(&mut server, client.unsubscribe(ORDERS)).unwrap();
        read.extend(drain(&rt, &mut reader).0);
    }
    assert_eq!(
        read.len(),
        2 * cycles,
        "a reader that keeps up misses nothing"
    );
    assert!(
        !read
            .iter()
            .any(|e| matches!(e, SessionEvent::Lagged { .. }))
    );

    let (late, ended) = drain(&rt, &mut idle);
    assert!(!ended);
    let missed = 2 * cycles - SESSION_EVENTS_BUFFER;
    assert!(
        matches!(late[0], SessionEvent::Lagged { missed: m } if m == missed as u64),
        "{:?}",
        &late[..2]
    );
    assert_eq!(
        late.len(),
        1 + SESSION_EVENTS_BUFFER,
        "the buffer holds the newest events"
    );
    assert!(
        matches!(late.last(), Some(SessionEvent::Unsubscribed { channel }) if channel == ORDERS)
    );
    assert!(idle.try_next().is_none(), "nothing more waits");
}

#[test]
fn the_events_end_when_the_client_is_dropped_unopened() {
    let rt = FakeRuntime::new();
    let client = builder(&rt).build().unwrap();
    let mut events = client.session_events();
    assert!(
        rt.poll_until_quiet(&mut events.next()).is_none(),
        "nothing happened yet: the subscriber waits"
    );
    drop(client);
    assert_eq!(
        rt.poll_until_quiet(&mut events.next()).map(|e| e.is_none()),
        Some(true),
        "the client is gone: the events end"
    );
}

#[test]
fn an_outage_past_the_connection_timeout_is_reported_lost_then_restored() {
    let rt = FakeRuntime::new();
    let client = builder(&rt)
        .connection_timeout(Some(std::time::Duration::from_secs(1)))
        .build()
        .unwrap();
    let mut server = Server::default();
    rt.run(&mut server, client.subscribe(ORDERS)).unwrap();
    rt.run(&mut server, client.open()).unwrap();
    let mut events = client.session_events();
    rt.settle_with(&mut server);

    let mut lost = None;
    let mut refused = 0;
    for _ in 0..40 {
        // Every long poll the client sends meets a refused connection.
        refused += server.refuse_long_poll();
        rt.settle();
        rt.advance(std::time::Duration::from_millis(400));
        rt.settle_with(&mut server);
        let (got, _) = drain(&rt, &mut events);
        lost = got.iter().find_map(|e| match e {
            SessionEvent::ConnectionLost { outage } => Some(*outage),
            _ => None,
        });
        assert!(
            !got.iter()
                .any(|e| matches!(e, SessionEvent::SessionLost { .. })),
            "a refused connection keeps the session: {got:?}"
        );
        if lost.is_some() {
            break;
        }
    }
    let lost = lost.unwrap_or_else(|| panic!("the outage reported ({refused} polls refused)"));
    assert!(refused >= 2, "{refused}");
    assert!(
        lost >= std::time::Duration::from_secs(1),
        "reported once it lasted the timeout: {lost:?}"
    );
    assert!(
        rt.poll_until_quiet(&mut Box::pin(client.receive()))
            .is_some_and(|r| r.is_err_and(|e| e.is_connection_lost())),
        "receive reports it too"
    );

    // The server is back: the next long poll is answered.
    let mut answered = 0;
    for _ in 0..40 {
        answered += server.answer_long_poll();
        if answered > 0 {
            break;
        }
        rt.advance(std::time::Duration::from_millis(400));
        rt.settle_with(&mut server);
    }
    assert_eq!(answered, 1, "a long poll went out again");
    rt.settle_with(&mut server);
    let (got, _) = drain(&rt, &mut events);
    assert!(
        got.iter()
            .any(|e| matches!(e, SessionEvent::ConnectionRestored)),
        "{got:?}"
    );
}
