//! No duration setting, and no duration the server advises, can overflow: every combination
//! either is refused by `Session::new` with a message naming the setting, or runs a session
//! through failures and timeouts without a panic.
mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use serde_json::json;
use sfstream_core::{Config, Event, RequestKind, TransportError};

fn arb_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        Just(Duration::from_secs(u64::MAX)),
        Just(Duration::from_millis(1)),
        Just(Duration::from_secs(39)),
        Just(Duration::from_secs(40)),
        (0u64..100_000).prop_map(Duration::from_millis),
        any::<u64>().prop_map(Duration::from_secs),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
    ]
}

/// Every duration of the configuration.
#[derive(Debug, Clone)]
struct Durations {
    long_poll_margin: Duration,
    request_timeout: Duration,
    connection_timeout: Option<Duration>,
    retry_initial: Duration,
    retry_max: Duration,
    retry_max_for_limits: Duration,
    max_poll_delay: Duration,
}

fn arb_durations() -> impl Strategy<Value = Durations> {
    (
        arb_duration(),
        arb_duration(),
        prop::option::of(arb_duration()),
        arb_duration(),
        arb_duration(),
        arb_duration(),
        arb_duration(),
    )
        .prop_map(|(a, b, c, d, e, f, g)| Durations {
            long_poll_margin: a,
            request_timeout: b,
            connection_timeout: c,
            retry_initial: d,
            retry_max: e,
            retry_max_for_limits: f,
            max_poll_delay: g,
        })
}

fn config(d: &Durations) -> Config {
    let mut c = token_config();
    c.long_poll_margin = d.long_poll_margin;
    c.request_timeout = d.request_timeout;
    c.connection_timeout = d.connection_timeout;
    c.retry.initial = d.retry_initial;
    c.retry.max = d.retry_max;
    c.retry.max_for_limits = d.retry_max_for_limits;
    c.max_poll_delay = d.max_poll_delay;
    c.max_pending = 2;
    c
}

/// Moves time to the session's next wake-up, by at most a day at a time.
fn step_time(sc: &mut Scenario) {
    let wake = sc.s.poll_timeout();
    let cap = sc.now + Duration::from_secs(86_400);
    sc.now = match wake {
        Some(t) if t > sc.now && t < cap => t,
        Some(t) if t <= sc.now => sc.now,
        _ => cap,
    };
    sc.s.handle_timeout(sc.now);
    sc.pump();
}

/// Answers whatever is out with a mix of successes, failures and extreme advice.
fn run(sc: &mut Scenario, rounds: usize, pick: &[u8]) {
    for round in 0..rounds {
        sc.pump();
        let choice = pick.get(round).copied().unwrap_or(0) % 6;
        let Some(t) = sc.sent.pop_front() else {
            step_time(sc);
            continue;
        };
        let started = sc.now;
        match (t.kind, choice) {
            (_, 0) => sc.fail(&t, TransportError::Timeout),
            (_, 1) => sc.fail(&t, TransportError::Connect("refused".into())),
            (RequestKind::Handshake, _) => sc.reply(
                &t,
                json!([{"channel": "/meta/handshake", "successful": true, "clientId": CLIENT,
                        "advice": {"timeout": u64::MAX, "interval": u64::MAX, "maxInterval": u64::MAX}}]),
            ),
            (RequestKind::Connect, 2) => sc.reply(
                &t,
                json!([event_msg("/event/A__e", round as i64 + 1), event_msg("/event/A__e", round as i64 + 2),
                       event_msg("/event/A__e", round as i64 + 3),
                       {"channel": "/meta/connect", "successful": true,
                        "advice": {"timeout": 1e300, "interval": 0, "reconnect": "retry"}}]),
            ),
            (RequestKind::Connect, 3) => sc.reply(
                &t,
                json!([{"channel": "/meta/connect", "successful": false,
                        "error": "503::Server is too busy.  Please try your request again later."}]),
            ),
            (_, 4) => sc.reply_raw(&t, 500, b"down".to_vec()),
            _ => sc.reply_ok(&t),
        }
        assert!(sc.now >= started);
        if round % 3 == 0 {
            let _ = sc.messages();
        }
        step_time(sc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_duration_setting_overflows(d in arb_durations(), pick in prop::collection::vec(any::<u8>(), 30)) {
        let start = Scenario::new(token_config()).now;
        match sfstream_core::Session::new(config(&d), start, std::time::SystemTime::UNIX_EPOCH) {
            Err(e) => {
                let text = e.to_string();
                prop_assert!(
                    text.contains("max_poll_delay") || text.contains("initial delay"),
                    "refused with an unclear message: {text}"
                );
            }
            Ok(_) => {
                let mut sc = Scenario::new(config(&d));
                sc.s.subscribe("/event/A__e", Some(sfstream_core::ReplayFrom::Id(1)), sc.now).unwrap();
                sc.s.open(sc.now).unwrap();
                run(&mut sc, 30, &pick);
                sc.s.close(sc.now);
                sc.pump();
                if let Some(t) = sc.sent.pop_front() {
                    sc.fail(&t, TransportError::Timeout);
                }
                prop_assert!(sc.events.iter().any(|e| matches!(e, Event::Disconnected(_))) || sc.s.is_closed());
            }
        }
    }
}
