//! Bulk mode: events serialised in advance into batches of bytes, so that answering a connect
//! writes prepared bytes as they are (no copy: see `bayeux::render_chunks`) and the client, not
//! the emulator, is the bottleneck.
//!
//! Bulk events get real, increasing replay ids and count as published, but they are delivered
//! only to the clients subscribed at publish time and are not kept for replay.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::channels::ChannelKind;
use crate::config::Settings;
use crate::error::Error;
use crate::events;
use crate::session::Queued;
use crate::state::State;
use crate::util;

/// What a bulk publish prepared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BulkPublished {
    /// Events published.
    pub count: usize,
    /// The first replay id (0 when `count` is 0).
    pub first_replay_id: i64,
    /// The last replay id (0 when `count` is 0).
    pub last_replay_id: i64,
    /// Clients the events were queued for.
    pub subscribers: usize,
    /// Batches queued per client (each at most the emulator's batch size).
    pub batches_per_client: usize,
    /// Serialised bytes queued per client.
    pub bytes_per_client: usize,
}

/// One prepared batch: the joined messages, how many, and the last replay id.
type Batch = (Bytes, usize, i64);

/// The constant parts of one bulk publish.
struct Template<'a> {
    kind: ChannelKind,
    channel_json: String,
    schema: &'a str,
    created: String,
    user_id: &'a str,
    record_id: String,
    entity: String,
    now_ms: u64,
    filler: String,
}

impl Template<'_> {
    /// Writes one event message.
    fn write(&self, out: &mut Vec<u8>, client_id: Option<&str>, id: i64, seq: u64, uuid: &str) {
        let Self {
            channel_json: ch,
            schema,
            created,
            user_id: user,
            record_id: rec,
            filler: fill,
            ..
        } = self;
        // Writing into a Vec cannot fail.
        let _ = match self.kind {
            ChannelKind::PushTopic => write!(
                out,
                r#"{{"clientId":"{}","data":{{"event":{{"createdDate":"{created}","replayId":{id},"type":"created"}},"sobject":{{"Id":"{rec}","Payload__c":"{fill}"}}}},"channel":{ch}}}"#,
                client_id.unwrap_or_default()
            ),
            ChannelKind::Generic => write!(
                out,
                r#"{{"clientId":"{}","data":{{"event":{{"createdDate":"{created}","replayId":{id}}},"payload":"{fill}"}},"channel":{ch}}}"#,
                client_id.unwrap_or_default()
            ),
            ChannelKind::PlatformEvent => write!(
                out,
                r#"{{"data":{{"schema":"{schema}","payload":{{"CreatedById":"{user}","CreatedDate":"{created}","Payload__c":"{fill}"}},"event":{{"EventUuid":"{uuid}","replayId":{id}}}}},"channel":{ch}}}"#
            ),
            ChannelKind::ChangeDataCapture => write!(
                out,
                r#"{{"data":{{"schema":"{schema}","payload":{{"ChangeEventHeader":{{"entityName":"{}","recordIds":["{rec}"],"changeType":"CREATE","changeOrigin":"com/salesforce/api/soap/64.0;client=sfstream-emulator","transactionKey":"{uuid}","sequenceNumber":1,"isTransactionEnd":true,"commitTimestamp":{},"commitNumber":{},"commitUser":"{user}","nulledFields":[],"diffFields":[],"changedFields":[]}},"Payload__c":"{fill}"}},"event":{{"replayId":{id}}}}},"channel":{ch}}}"#,
                self.entity,
                self.now_ms,
                events::commit_number(seq)
            ),
        };
    }
}

/// Serialises `ids` into batches of at most `max_batch` events.
fn batches(
    template: &Template<'_>,
    client_id: Option<&str>,
    ids: &[(i64, u64, String)],
    max_batch: usize,
) -> Vec<Batch> {
    let per_event = template.filler.len() + 400;
    ids.chunks(max_batch.max(1))
        .map(|chunk| {
            let mut buf = Vec::with_capacity(chunk.len() * per_event);
            for (i, (id, seq, uuid)) in chunk.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                template.write(&mut buf, client_id, *id, *seq, uuid);
            }
            let last = chunk.last().map_or(0, |(id, _, _)| *id);
            (Bytes::from(buf), chunk.len(), last)
        })
        .collect()
}

/// Publishes `n` generated events of about `payload_size` bytes of payload each.
pub(crate) fn publish(
    st: &mut State,
    settings: &Settings,
    name: &str,
    n: usize,
    payload_size: usize,
) -> Result<BulkPublished, Error> {
    st.require_channel(settings, name)?;
    let State {
        channels,
        rng,
        sessions,
        totals,
        ..
    } = st;
    let Some(channel) = channels.get_mut(name) else {
        return Err(Error::UnknownChannel(name.to_owned()));
    };
    let needs_uuid = matches!(
        channel.kind,
        ChannelKind::PlatformEvent | ChannelKind::ChangeDataCapture
    );
    let ids: Vec<(i64, u64, String)> = (0..n)
        .map(|_| {
            channel.published += 1;
            let uuid = if needs_uuid {
                util::uuid(rng)
            } else {
                String::new()
            };
            (channel.next_replay_id(rng), channel.published, uuid)
        })
        .collect();
    let now_ms = util::now_millis();
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let template = Template {
        kind: channel.kind,
        channel_json: serde_json::to_string(&*channel.name).unwrap_or_default(),
        schema: &channel.schema,
        created: util::timestamp(now_ms, true),
        user_id: &settings.user_id,
        record_id: events::record_id("001", rng),
        entity: events::cdc_entity(&channel.name),
        now_ms,
        filler: (0..payload_size)
            .map(|i| char::from(alphabet[i % alphabet.len()]))
            .collect(),
    };
    let subscribers: Vec<&String> = sessions
        .iter()
        .filter(|(_, s)| s.subscriptions.contains_key(name))
        .map(|(id, _)| id)
        .collect();
    let shared_batches = (!channel.kind.carries_client_id())
        .then(|| batches(&template, None, &ids, settings.max_batch));
    let mut summary = BulkPublished {
        count: n,
        first_replay_id: ids.first().map_or(0, |(id, _, _)| *id),
        last_replay_id: ids.last().map_or(0, |(id, _, _)| *id),
        subscribers: subscribers.len(),
        batches_per_client: 0,
        bytes_per_client: 0,
    };
    let per_client: Vec<(String, Vec<Batch>)> = subscribers
        .into_iter()
        .map(|id| {
            let list = match &shared_batches {
                Some(list) => list.clone(),
                None => batches(&template, Some(id), &ids, settings.max_batch),
            };
            (id.clone(), list)
        })
        .collect();
    for (id, list) in per_client {
        summary.batches_per_client = list.len();
        summary.bytes_per_client = list.iter().map(|(b, _, _)| b.len()).sum();
        if let Some(session) = sessions.get_mut(&id) {
            for (bytes, count, last_replay_id) in list {
                session.queue.push_back(Queued::Batch {
                    channel: Arc::clone(&channel.name),
                    bytes,
                    count,
                    last_replay_id,
                });
            }
            session.notify.notify_waiters();
        }
    }
    totals.events_published += n as u64;
    Ok(summary)
}
