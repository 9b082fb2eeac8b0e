//! What the bridge learns about a Salesforce session: reconnects and re-fetches, counted from the
//! client's session events as they come. This is the one place that knows which events count.

use sfstream_tokio::SessionEvent;

/// Counters of one client, as the bridge reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionCounters {
    /// Bayeux sessions after the first: the session was started again.
    pub(crate) reconnects: u64,
    /// Channels fetched again by replay (after a broken long poll or a memory overflow).
    pub(crate) refetches: u64,
}

impl SessionCounters {
    /// What `event` adds to the counters (nothing for most events).
    pub(crate) fn of(event: &SessionEvent) -> Self {
        match event {
            SessionEvent::Handshaken {
                reconnect: true, ..
            } => Self {
                reconnects: 1,
                ..Self::default()
            },
            SessionEvent::Refetch { .. } => Self {
                refetches: 1,
                ..Self::default()
            },
            _ => Self::default(),
        }
    }

    /// Whether nothing was counted.
    pub(crate) fn is_zero(self) -> bool {
        self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use sfstream_tokio::{RefetchReason, ReplayFrom, SessionEvent};

    use super::SessionCounters;

    #[test]
    fn reconnects_and_refetches_are_counted_and_nothing_else() {
        let first = SessionEvent::Handshaken {
            client_id: "a".into(),
            reconnect: false,
        };
        let again = SessionEvent::Handshaken {
            client_id: "b".into(),
            reconnect: true,
        };
        let refetch = SessionEvent::Refetch {
            channel: "/event/X__e".into(),
            from: ReplayFrom::Id(4),
            reason: RefetchReason::MemoryBound { dropped: 3 },
        };
        assert!(SessionCounters::of(&first).is_zero());
        assert!(SessionCounters::of(&SessionEvent::Connected).is_zero());
        assert_eq!(SessionCounters::of(&again).reconnects, 1);
        assert_eq!(
            SessionCounters::of(&refetch),
            SessionCounters {
                reconnects: 0,
                refetches: 1
            }
        );
    }
}
