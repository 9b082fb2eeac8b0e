//! Bulk mode: pre-serialised batches, delivered correctly.

mod common;

use common::{Bayeux, events, replay_ids};
use sfstream_emulator::ChannelKind;

#[tokio::test]
async fn bulk_events_arrive_in_batches_with_increasing_ids() {
    for (ch, kind) in [
        ("/event/Order__e", ChannelKind::PlatformEvent),
        ("/topic/AccountUpdates", ChannelKind::PushTopic),
        ("/u/notifications", ChannelKind::Generic),
        ("/data/ChangeEvents", ChannelKind::ChangeDataCapture),
    ] {
        let emu = common::fast().max_batch(100).start().await.expect("start");
        let mut b = Bayeux::ready(emu.base_url(), &[(ch, None)]).await;
        let summary = emu.control().publish_bulk(ch, 250, 1000).expect("bulk");
        assert_eq!(summary.count, 250);
        assert_eq!(summary.batches_per_client, 3);
        assert!(summary.bytes_per_client > 250 * 1000);
        let mut ids = Vec::new();
        let mut sizes = Vec::new();
        for _ in 0..3 {
            let reply = b.connect().await;
            assert_eq!(
                reply.last().map(|r| &r["channel"]),
                Some(&"/meta/connect".into())
            );
            let evs = events(&reply);
            sizes.push(evs.len());
            for e in &evs {
                assert_eq!(e["channel"], ch);
                let carries = e.get("clientId").is_some();
                assert_eq!(
                    carries,
                    matches!(kind, ChannelKind::PushTopic | ChannelKind::Generic),
                    "{ch}"
                );
                if carries {
                    assert_eq!(e["clientId"].as_str(), b.client_id.as_deref());
                }
            }
            ids.extend(replay_ids(&reply));
        }
        assert_eq!(sizes, vec![100, 100, 50], "{ch}");
        assert!(ids.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(ids.first().copied(), Some(summary.first_replay_id));
        assert_eq!(ids.last().copied(), Some(summary.last_replay_id));
        let stats = emu.control().stats();
        let client = &stats.clients[b.client_id.as_deref().unwrap_or_default()];
        assert_eq!(client.delivered, 250);
        assert_eq!(client.last_replay_ids[ch], summary.last_replay_id);
        assert_eq!(stats.totals.events_published, 250);
    }
}

#[tokio::test]
async fn bulk_events_are_not_retained_but_later_ids_keep_increasing() {
    let emu = common::start().await;
    let ch = "/event/Order__e";
    let summary = emu.control().publish_bulk(ch, 5, 10).expect("bulk");
    assert_eq!(summary.subscribers, 0);
    let next = emu.control().publish_generated(ch, 1).expect("publish");
    assert!(next[0] > summary.last_replay_id);
    let mut b = Bayeux::ready(emu.base_url(), &[(ch, Some(-2))]).await;
    assert_eq!(replay_ids(&b.connect().await), next);
    let bad = b.subscribe(ch, Some(summary.last_replay_id)).await;
    assert_eq!(bad["successful"], false);
}
