//! The JetStream sink: connecting, creating or checking the stream, publishing with fencing,
//! and reading a channel's position from the stream leader.
//!
//! Facts this relies on (measured against nats-server 2.9.10 and 2.14.6):
//! - a publish with `Nats-Msg-Id` that the server already stored within the duplicate window
//!   is acknowledged as a duplicate, with the first copy's sequence, so a timed-out publish is
//!   simply sent again, unchanged, until an answer comes (fail-overs pause publishing 4–9 s,
//!   and 2.9 sometimes elects no leader until the lost node returns);
//! - `Nats-Expected-Last-Subject-Sequence` makes the leader refuse a write from a stale view
//!   (error 10071), on both versions; 0 means "the subject is empty";
//! - `STREAM.MSG.GET` is answered by the stream leader, whereas direct gets and R1 consumers can
//!   land on a replica that is behind, so positions are read with the former;
//! - shrinking `duplicate_window` on a live replicated stream makes replicas disagree, so an
//!   existing stream is checked and, if incompatible, refused, never updated.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, DeleteMessageErrorKind, LastRawMessageErrorKind};
use async_nats::jetstream::{self, Context};

use crate::config::{Storage, StreamSettings};
use crate::sink::{Ack, Position, Record, Sink, SinkError, Stored};
use crate::subject;

/// Events into one JetStream stream. Clones share the connection.
#[derive(Clone)]
pub struct JetStreamSink {
    js: Context,
    client: async_nats::Client,
    settings: StreamSettings,
}

impl std::fmt::Debug for JetStreamSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamSink")
            .field("stream", &self.settings.name)
            .finish_non_exhaustive()
    }
}

impl JetStreamSink {
    /// A sink over a connected client. `ack_timeout` bounds each wait for an acknowledgement.
    #[must_use]
    pub fn new(
        client: async_nats::Client,
        settings: StreamSettings,
        ack_timeout: Duration,
    ) -> Self {
        let mut js = jetstream::new(client.clone());
        js.set_timeout(ack_timeout);
        Self {
            js,
            client,
            settings,
        }
    }

    /// The JetStream context (for the lease and membership buckets).
    #[must_use]
    pub fn context(&self) -> &Context {
        &self.js
    }

    /// The stream's settings.
    #[must_use]
    pub fn settings(&self) -> &StreamSettings {
        &self.settings
    }

    /// The subject of a channel's events.
    #[must_use]
    pub fn subject(&self, org_id: &str, channel: &str) -> Option<String> {
        subject::event_subject(&self.settings.subject_prefix, org_id, channel)
    }

    fn desired(&self) -> stream::Config {
        let s = &self.settings;
        stream::Config {
            name: s.name.clone(),
            subjects: vec![s.subjects()],
            retention: stream::RetentionPolicy::Limits,
            max_age: s.max_age.unwrap_or_default(),
            max_bytes: s
                .max_bytes
                .map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX)),
            max_messages: -1,
            max_messages_per_subject: -1,
            duplicate_window: s.duplicate_window,
            num_replicas: s.replicas,
            storage: match s.storage {
                Storage::File => stream::StorageType::File,
                Storage::Memory => stream::StorageType::Memory,
            },
            discard: stream::DiscardPolicy::Old,
            description: Some("Salesforce events, written by sfstream bridge".into()),
            ..Default::default()
        }
    }
}

/// Checks an existing stream's settings against what the bridge needs; `Err` says what is wrong
/// and what to do. Nothing is ever changed on a live stream.
pub fn check_stream(existing: &stream::Config, wanted: &StreamSettings) -> Result<(), String> {
    let name = &existing.name;
    let subjects = wanted.subjects();
    if !existing
        .subjects
        .iter()
        .any(|s| subject_covers(s, &subjects))
    {
        return Err(format!(
            "stream {name} exists with subjects {:?}, which do not cover {subjects}; add {subjects} \
             to it (nats stream edit {name} --subjects …) or set stream.subject_prefix / \
             stream.name to another stream",
            existing.subjects
        ));
    }
    if existing.retention != stream::RetentionPolicy::Limits {
        return Err(format!(
            "stream {name} exists with {:?} retention; the bridge needs limits retention (each \
             channel's position is the last message of its subject, which other policies delete)",
            existing.retention
        ));
    }
    if existing.num_replicas.max(1) != wanted.replicas {
        return Err(format!(
            "stream {name} exists with {} replica(s), the configuration asks for {}; set \
             stream.replicas = {} or change the stream with `nats stream edit {name} --replicas {}` \
             while no bridge runs",
            existing.num_replicas.max(1),
            wanted.replicas,
            existing.num_replicas.max(1),
            wanted.replicas
        ));
    }
    if existing.duplicate_window < wanted.duplicate_window {
        return Err(format!(
            "stream {name} exists with a duplicate window of {}, shorter than the {} the \
             configuration needs; the bridge never changes the window of a live stream (shrinking \
             it makes replicas disagree): lengthen it yourself with `nats stream edit {name} \
             --dupe-window {}`, or lower stream.duplicate_window",
            humantime::format_duration(existing.duplicate_window),
            humantime::format_duration(wanted.duplicate_window),
            humantime::format_duration(wanted.duplicate_window)
        ));
    }
    if existing.no_ack {
        return Err(format!(
            "stream {name} exists with no_ack: publishes are never acknowledged, so no position \
             could ever be committed; use a stream with acknowledgements"
        ));
    }
    if existing.sealed || existing.mirror.is_some() {
        return Err(format!(
            "stream {name} is sealed or a mirror and takes no publishes; point stream.name at a \
             writable stream"
        ));
    }
    if existing.max_messages_per_subject == 0 {
        return Err(format!(
            "stream {name} keeps no message per subject; the bridge needs at least the last one"
        ));
    }
    Ok(())
}

/// Whether stream subject `pattern` covers every subject of `wanted` (`prefix.>`).
fn subject_covers(pattern: &str, wanted: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let w: Vec<&str> = wanted.split('.').collect();
    for (i, token) in p.iter().enumerate() {
        match *token {
            ">" => return true,
            "*" if i < w.len() && w[i] != ">" => {}
            t if i < w.len() && t == w[i] => {
                if t == ">" {
                    return true;
                }
            }
            _ => return false,
        }
    }
    p.len() == w.len()
}

fn unavailable(e: impl std::fmt::Display) -> SinkError {
    SinkError::Unavailable(e.to_string())
}

impl Sink for JetStreamSink {
    async fn prepare(&self) -> Result<(), SinkError> {
        let wanted = self.desired();
        match self.js.get_stream(&self.settings.name).await {
            Ok(mut existing) => {
                let info = existing.info().await.map_err(unavailable)?;
                check_stream(&info.config, &self.settings).map_err(SinkError::Config)?;
                tracing::info!(
                    stream = %self.settings.name,
                    replicas = info.config.num_replicas,
                    duplicate_window = %humantime::format_duration(info.config.duplicate_window),
                    "stream checked"
                );
                Ok(())
            }
            Err(e)
                if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(je)
                    if je.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                match self.js.create_stream(wanted).await {
                    Ok(_) => {
                        tracing::info!(stream = %self.settings.name, subjects = %self.settings.subjects(),
                            replicas = self.settings.replicas, "stream created");
                        Ok(())
                    }
                    Err(e) => {
                        let text = e.to_string();
                        if text.contains("insufficient resources") || text.contains("replicas") {
                            Err(SinkError::Config(format!(
                                "cannot create stream {}: {text}; the cluster needs at least \
                                 stream.replicas = {} JetStream servers",
                                self.settings.name, self.settings.replicas
                            )))
                        } else if text.contains("subjects overlap") {
                            Err(SinkError::Config(format!(
                                "cannot create stream {}: another stream already takes {}; set \
                                 stream.name to that stream or choose another stream.subject_prefix",
                                self.settings.name,
                                self.settings.subjects()
                            )))
                        } else {
                            Err(unavailable(text))
                        }
                    }
                }
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn position(&self, org_id: &str, channel: &str) -> Result<Position, SinkError> {
        let Some(subject) = self.subject(org_id, channel) else {
            return Err(SinkError::Config(format!("{channel} cannot be a subject")));
        };
        let stream = self
            .js
            .get_stream_no_info(&self.settings.name)
            .await
            .map_err(unavailable)?;
        // STREAM.MSG.GET: answered by the leader, never by a replica that may lag.
        match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(message) => {
                let replay_id = message
                    .headers
                    .get(subject::REPLAY_ID)
                    .and_then(|v| v.as_str().parse::<i64>().ok());
                if replay_id.is_none() {
                    return Err(SinkError::Config(format!(
                        "the last message of {subject} (sequence {}) has no {} header: something \
                         other than the bridge writes this subject; keep {}.> for the bridge",
                        message.sequence,
                        subject::REPLAY_ID,
                        self.settings.subject_prefix
                    )));
                }
                Ok(Position {
                    replay_id,
                    fence: message.sequence,
                })
            }
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(Position::empty()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn publish(&self, record: &Record, fence: u64) -> Result<Stored, SinkError> {
        self.send(record, Some(fence)).await?.await
    }

    async fn send(&self, record: &Record, fence: Option<u64>) -> Result<Ack, SinkError> {
        let Some(subject) = self.subject(&record.org_id, &record.channel) else {
            return Err(SinkError::Config(format!(
                "{} cannot be a subject",
                record.channel
            )));
        };
        let mut headers = HeaderMap::new();
        headers.insert(subject::CHANNEL, &*record.channel);
        headers.insert(subject::ORG_ID, &*record.org_id);
        headers.insert(subject::REPLAY_ID, record.replay_id.to_string().as_str());
        headers.insert(subject::EVENT_KIND, record.kind);
        if let Some(date) = &record.created_date {
            headers.insert(subject::CREATED_DATE, date.as_str());
        }
        let mut msg_id = subject::msg_id(&record.org_id, &record.channel, record.replay_id);
        if let Some(removed) = record.replaces {
            // The server's duplicate window still remembers the removed copy's id.
            msg_id = format!("{msg_id}:{removed}");
        }
        let mut message = PublishMessage::build()
            .headers(headers)
            .message_id(msg_id)
            .payload(record.body.clone());
        if let Some(fence) = fence {
            message = message.expected_last_subject_sequence(fence);
        }
        let max_payload = self.client.server_info().max_payload;
        let (replay_id, channel, size) =
            (record.replay_id, record.channel.clone(), record.body.len());
        let fenced_subject = subject.clone();
        let map = move |e: jetstream::context::PublishError| match e.kind() {
            PublishErrorKind::WrongLastSequence => SinkError::Fenced {
                subject: fenced_subject.clone(),
                expected: fence.unwrap_or_default(),
            },
            PublishErrorKind::MaxPayloadExceeded => SinkError::Rejected(format!(
                "event {replay_id} of {channel} is {size} bytes, more than the NATS server's \
                 max_payload of {max_payload} bytes; raise max_payload in the server \
                 configuration (the event waits until then)"
            )),
            _ => unavailable(e),
        };
        let ack_future = self.js.send_publish(subject, message).await.map_err(&map)?;
        Ok(Box::pin(async move {
            let ack = ack_future.await.map_err(map)?;
            Ok(Stored {
                fence: ack.sequence,
                duplicate: ack.duplicate,
            })
        }))
    }

    async fn stored_after(
        &self,
        org_id: &str,
        channel: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Position>, SinkError> {
        let Some(subject) = self.subject(org_id, channel) else {
            return Err(SinkError::Config(format!("{channel} cannot be a subject")));
        };
        let stream = self
            .js
            .get_stream_no_info(&self.settings.name)
            .await
            .map_err(unavailable)?;
        let mut out = Vec::new();
        let mut from = after.saturating_add(1);
        while out.len() < limit {
            // STREAM.MSG.GET with next_by_subj: the leader's view, never a lagging replica's.
            match stream
                .raw_message_builder()
                .sequence(from)
                .next_by_subject(subject.clone())
                .send()
                .await
            {
                Ok(message) => {
                    out.push(Position {
                        replay_id: message
                            .headers
                            .get(subject::REPLAY_ID)
                            .and_then(|v| v.as_str().parse::<i64>().ok()),
                        fence: message.sequence,
                    });
                    from = message.sequence.saturating_add(1);
                }
                Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => break,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(out)
    }

    fn removes(&self) -> bool {
        // Measured: on 2.9.10, removing a subject's last message makes the whole subject look
        // empty (the last-message read finds nothing, the fence check expects 0) until the next
        // write; 2.14.6 keeps the earlier messages' position. Versions between are untested.
        let version = self.client.server_info().version;
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (major, minor) >= (2, 14)
    }

    async fn remove(&self, fence: u64) -> Result<(), SinkError> {
        let stream = self
            .js
            .get_stream_no_info(&self.settings.name)
            .await
            .map_err(unavailable)?;
        match stream.delete_message(fence).await {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(e.kind(), DeleteMessageErrorKind::JetStream(je)
                    if je.error_code() == jetstream::ErrorCode::NO_MESSAGE_FOUND
                        || je.error_code() == jetstream::ErrorCode::SEQUENCE_NOT_FOUND
                        || je.to_string().contains("no message found")) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    fn epoch(&self) -> Option<u64> {
        (self.client.connection_state() == async_nats::connection::State::Connected).then(|| {
            self.client
                .statistics()
                .connects
                .load(std::sync::atomic::Ordering::Acquire)
        })
    }

    fn max_record_bytes(&self) -> usize {
        self.client.server_info().max_payload
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_coverage() {
        assert!(subject_covers("salesforce.>", "salesforce.>"));
        assert!(subject_covers(">", "salesforce.>"));
        assert!(subject_covers("*.>", "salesforce.>"));
        assert!(!subject_covers("salesforce.*", "salesforce.>"));
        assert!(!subject_covers("other.>", "salesforce.>"));
        assert!(subject_covers("a.b.>", "a.b.>"));
        assert!(!subject_covers("a.b.>", "a.>"));
    }
}
