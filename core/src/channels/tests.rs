//! The registry's rules, one test each (see the module docs).

use super::*;

const E: &str = "/event/E__e";

/// A registry with `E` subscribed and confirmed, starting at `start`.
fn subscribed(start: ReplayFrom) -> Channels {
    let mut c = Channels::default();
    c.add(E, start);
    c.start_subscribe(E, true).unwrap();
    c.confirm(E);
    c
}

#[test]
fn an_overflow_sets_aside_every_later_event_and_the_refetch_replays_behind_a_gate() {
    let mut c = subscribed(ReplayFrom::Id(10));
    assert_eq!(c.admit(E, Some(11), false, true), Admission::Accept);
    assert_eq!(c.admit(E, Some(12), true, true), Admission::SetAside);
    assert_eq!(
        c.admit(E, Some(13), false, true),
        Admission::SetAside,
        "room again, but the run must stay unbroken"
    );
    assert!(c.wants_refetch());
    assert_eq!(c.start_refetches(), [E]);
    assert!(!c.wants_refetch(), "its unsubscribe is under way");
    assert_eq!(c.confirmed().collect::<Vec<_>>(), [E]);
    assert_eq!(c.admit(E, Some(14), false, true), Admission::SetAside);
    assert_eq!(
        c.resubscribe_after_refetch(E),
        Some(Refetch {
            from: ReplayFrom::Id(11),
            dropped: 2
        })
    );
    assert_eq!(
        c.admit(E, Some(14), false, true),
        Admission::Stale,
        "queued before the unsubscribe, from past the gap"
    );
    assert_eq!(
        c.admit(E, None, false, true),
        Admission::Stale,
        "no id: cannot be the replay"
    );
    assert_eq!(c.admit(E, Some(12), false, true), Admission::Accept);
    assert_eq!(c.admit(E, Some(14), false, true), Admission::Accept);
    assert!(!c.wants_refetch());
}

#[test]
fn an_event_that_cannot_come_again_is_kept_over_the_bound() {
    // Started from "new" with nothing accepted: no replay point to fetch it from.
    let mut c = subscribed(ReplayFrom::New);
    assert_eq!(c.admit(E, Some(1), true, true), Admission::Accept);
    // Without a replay id.
    let mut c = subscribed(ReplayFrom::All);
    assert_eq!(c.admit(E, None, true, true), Admission::Accept);
    assert!(!c.wants_refetch());
    // Plain Bayeux: no replay at all.
    let mut c = subscribed(ReplayFrom::All);
    assert_eq!(c.admit(E, Some(1), true, false), Admission::Accept);
    // A channel nobody asked for: delivered all the same.
    assert_eq!(
        c.admit("/event/Other__e", Some(1), true, true),
        Admission::Accept
    );
}

#[test]
fn no_gate_at_or_below_the_replay_start() {
    let mut c = subscribed(ReplayFrom::All);
    assert_eq!(c.admit(E, Some(20), false, true), Admission::Accept);
    // A server that delivered the channel's ids out of order.
    assert_eq!(c.admit(E, Some(15), true, true), Admission::SetAside);
    assert_eq!(c.start_refetches(), [E]);
    let refetch = c.resubscribe_after_refetch(E).unwrap();
    assert_eq!(refetch.from, ReplayFrom::Id(20));
    assert_eq!(
        c.admit(E, Some(30), false, true),
        Admission::Accept,
        "a gate at 15 would never open"
    );
}

#[test]
fn a_rejected_replay_id_falls_back_once_per_subscription() {
    let mut c = subscribed(ReplayFrom::Id(5));
    c.commit(E, 7).unwrap();
    assert_eq!(
        c.fall_back(E, Some(ReplayFallback::New)),
        Fallback::Applied(ReplayFrom::New)
    );
    assert_eq!(c.committed(E), None, "the stale position is forgotten");
    assert_eq!(c.next_checkpoint(), None, "and never stored");
    assert_eq!(
        c.start_subscribe(E, true).map(|r| r.from),
        Some(ReplayFrom::New)
    );
    assert_eq!(
        c.fall_back(E, Some(ReplayFallback::New)),
        Fallback::Failed,
        "rejected again before a confirmation"
    );
    assert!(!c.contains(E));
    assert_eq!(c.fall_back(E, Some(ReplayFallback::New)), Fallback::Unknown);

    let mut c = subscribed(ReplayFrom::Id(5));
    assert_eq!(
        c.fall_back(E, None),
        Fallback::Failed,
        "no fallback configured"
    );

    let mut c = subscribed(ReplayFrom::Id(5));
    let all = Some(ReplayFallback::All);
    assert_eq!(c.fall_back(E, all), Fallback::Applied(ReplayFrom::All));
    c.confirm(E);
    assert_eq!(
        c.fall_back(E, all),
        Fallback::Applied(ReplayFrom::All),
        "a confirmed subscription may fall back again"
    );
}

#[test]
fn checkpoints_coalesce_per_channel_and_never_move_back() {
    let mut c = Channels::default();
    c.add("/a", ReplayFrom::New);
    c.add("/b", ReplayFrom::New);
    c.commit("/a", 3).unwrap();
    c.commit("/a", 5).unwrap();
    c.commit("/b", 1).unwrap();
    c.commit("/a", 4).unwrap();
    assert!(c.has_checkpoints());
    assert_eq!(c.next_checkpoint(), Some(("/a".into(), 5)));
    assert_eq!(c.next_checkpoint(), Some(("/b".into(), 1)));
    assert_eq!(c.next_checkpoint(), None);
    c.delivered("/a", 6, true);
    c.delivered("/a", 7, false);
    c.delivered("/a", 2, true);
    assert_eq!(c.committed("/a"), Some(6));
    assert_eq!(c.next_checkpoint(), Some(("/a".into(), 6)));
    assert!(!c.has_checkpoints());
    assert_eq!(c.commit("/nope", 1), None);
}

#[test]
fn a_new_session_resumes_each_channel_from_its_resume_point() {
    let mut c = subscribed(ReplayFrom::New);
    assert_eq!(c.admit(E, Some(5), false, true), Admission::Accept);
    c.wait_all();
    let keep = Resume {
        from: ReplayFrom::Id(5),
        drop_queued: false,
    };
    assert_eq!(
        c.start_subscribe(E, true),
        Some(keep),
        "from \"new\": after what the queue holds"
    );
    c.commit(E, 3).unwrap();
    assert_eq!(
        c.start_subscribe(E, true),
        Some(Resume {
            from: ReplayFrom::Id(3),
            drop_queued: true
        }),
        "from the committed id; the replay brings the queue again"
    );
    assert_eq!(
        c.resume_all_after_accepted(),
        [(E.to_owned(), ReplayFrom::Id(3))],
        "the accepted id restarted at the replay point"
    );
    assert_eq!(c.admit(E, Some(4), false, true), Admission::Accept);
    assert_eq!(
        c.start_subscribe(E, true),
        Some(Resume {
            from: ReplayFrom::Id(4),
            drop_queued: false
        }),
        "after a broken long poll: after the last accepted id, keeping the queue"
    );
    assert_eq!(
        c.start_subscribe(E, true),
        Some(Resume {
            from: ReplayFrom::Id(3),
            drop_queued: true
        }),
        "a broken long poll's resume point holds for one subscription only"
    );
    assert_eq!(
        c.start_subscribe(E, false).map(|r| r.drop_queued),
        Some(false),
        "without replay nothing comes again: the queue is kept"
    );
}

#[test]
fn a_broken_long_poll_resumes_after_the_last_accepted_id_keeping_the_queue() {
    let mut c = subscribed(ReplayFrom::Id(1));
    assert_eq!(c.admit(E, Some(8), false, true), Admission::Accept);
    c.commit(E, 2).unwrap();
    assert_eq!(
        c.resume_all_after_accepted(),
        [(E.to_owned(), ReplayFrom::Id(8))]
    );
    assert_eq!(
        c.start_subscribe(E, true),
        Some(Resume {
            from: ReplayFrom::Id(8),
            drop_queued: false
        })
    );
}

#[test]
fn a_lost_session_puts_every_channel_back_to_waiting() {
    let mut c = subscribed(ReplayFrom::New);
    c.add("/b", ReplayFrom::New);
    assert_eq!(c.confirmed().collect::<Vec<_>>(), [E]);
    c.wait_all();
    assert!(c.statuses().all(|(_, s)| s == Status::Waiting));
    assert_eq!(c.confirmed().count(), 0);
    c.start_subscribe("/b", true).unwrap();
    c.wait("/b");
    assert_eq!(c.remove("/b"), Some(Status::Waiting));
    assert_eq!(c.remove("/b"), None);
}
