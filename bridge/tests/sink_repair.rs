//! What putting a channel back in order rests on, against real servers (2.9 and current):
//! reading a subject after a sequence from the leader; on the current server, removing a copy
//! stored after a lost write (twice is fine), the duplicate window still remembering the removed
//! copy's message id (so the copy written again needs an id of its own), and a stale fence being
//! refused; on 2.9, removal is not used, because removing a subject's last message makes the
//! whole subject look empty.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use sfstream_bridge::{JetStreamSink, Record, Sink, SinkError};

const ORG: &str = "00D000000000001";
const CHANNEL: &str = "/event/Order__e";

fn record(replay_id: i64) -> Record {
    Record::new(
        ORG,
        CHANNEL,
        replay_id,
        Bytes::from(format!("{{\"id\":{replay_id}}}")),
    )
}

async fn run(version: Version) {
    let nats = Nats::single(version, true);
    let config = parse(&format!(
        "[nats]\nservers = {:?}\n[stream]\nname = \"SF\"\nsubject_prefix = \"sf\"\n\
         duplicate_window = \"2m\"\n[[connection]]\nname = \"acme\"\norg_id = \"{ORG}\"\n\
         auth = \"access_token\"\nlogin_url = \"https://acme.my.salesforce.com\"\n\
         access_token_file = \"/etc/hostname\"\n[[connection.channel]]\nname = \"{CHANNEL}\"\n",
        nats.urls()
    ));
    let client = nats.client().await;
    let sink = JetStreamSink::new(
        client.clone(),
        config.stream.clone(),
        Duration::from_secs(2),
    );
    sink.prepare().await.expect("stream created");

    let first = sink.publish(&record(1), 0).await.expect("stored");
    // Event 2's write is lost; event 3, the next write of the window, is stored.
    let third = sink
        .send(&record(3), None)
        .await
        .expect("sent")
        .await
        .expect("stored");
    let after = sink
        .stored_after(ORG, CHANNEL, first.fence, 10)
        .await
        .expect("read from the leader");
    assert_eq!(
        after
            .iter()
            .map(|p| (p.replay_id, p.fence))
            .collect::<Vec<_>>(),
        [(Some(3), third.fence)]
    );
    assert_eq!(sink.removes(), version == Version::Current);
    if version == Version::Debian {
        // Why not: the earlier message's position is gone with the removed last one.
        sink.remove(third.fence).await.expect("removed");
        let position = sink.position(ORG, CHANNEL).await.expect("read");
        assert_eq!(
            position.replay_id, None,
            "2.9.10 forgets event 1 as the position"
        );
        return;
    }
    sink.remove(third.fence).await.expect("removed");
    sink.remove(third.fence)
        .await
        .expect("removing again is fine");
    assert!(
        sink.stored_after(ORG, CHANNEL, first.fence, 10)
            .await
            .expect("read")
            .is_empty()
    );

    let second = sink.publish(&record(2), first.fence).await.expect("stored");
    let again = sink
        .publish(&record(3), second.fence)
        .await
        .expect("answered");
    assert!(
        again.duplicate,
        "{version:?}: the duplicate window remembers the removed copy's id"
    );
    let mut rewritten = record(3);
    rewritten.replaces = Some(third.fence);
    let third = sink
        .publish(&rewritten, second.fence)
        .await
        .expect("stored under an id of its own");
    assert!(!third.duplicate);
    match sink.publish(&record(4), second.fence).await {
        Err(SinkError::Fenced { expected, .. }) => assert_eq!(expected, second.fence),
        other => panic!("a stale fence must be refused: {other:?}"),
    }

    let stored = read_stream(&client, "SF").await;
    let subject = sfstream_bridge::subject::event_subject("sf", ORG, CHANNEL).expect("subject");
    let ids: Vec<(i64, String)> = stored[&subject]
        .iter()
        .map(|s| (s.replay_id, s.msg_id.clone()))
        .collect();
    assert_eq!(
        ids,
        [
            (1, format!("{ORG}:{CHANNEL}:1")),
            (2, format!("{ORG}:{CHANNEL}:2")),
            (3, format!("{ORG}:{CHANNEL}:3:{}", after[0].fence)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_2_9() {
    run(Version::Debian).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_current() {
    run(Version::Current).await;
}
