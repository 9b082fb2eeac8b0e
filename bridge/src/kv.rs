//! A key-value bucket used for leases and membership, with every operation spelled out so that
//! it behaves the same on NATS 2.9 and later:
//!
//! - create = a publish with `Nats-Expected-Last-Subject-Sequence: 0`, which the server refuses
//!   when the key exists **and** when its last message is a delete marker, so a create that
//!   finds a marker updates on the marker's revision instead;
//! - update = a publish naming the revision it replaces (compare-and-set);
//! - reads go to the stream leader (`STREAM.MSG.GET`), never to a replica that may lag;
//! - expiry is the bucket's `max_age` (2.9 has no per-key TTL): a key not rewritten within it
//!   disappears, a little late (the server's expiry timer is coarse), never early.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, LastRawMessageErrorKind};
use async_nats::jetstream::{self, Context};
use bytes::Bytes;

/// Why a bucket operation failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum KvError {
    /// The key changed since the revision the write named (or exists, for a create).
    #[error("the key changed meanwhile")]
    Conflict,
    /// NATS did not answer (in time): the write may or may not have happened.
    #[error("NATS is unavailable: {0}")]
    Unavailable(String),
    /// The bucket exists with settings that do not fit.
    #[error("{0}")]
    Config(String),
}

/// One key's current value, read from the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The stream sequence of the key's last message.
    pub(crate) revision: u64,
    /// The value; `None` for a delete or purge marker.
    pub(crate) value: Option<Bytes>,
}

/// A bucket whose keys expire `ttl` after their last write.
#[derive(Clone)]
pub(crate) struct Bucket {
    js: Context,
    name: String,
}

impl Bucket {
    /// Creates the bucket, or checks an existing one: its `max_age` is the lease time, so a
    /// bucket made for another lease time is refused rather than changed under live replicas.
    pub(crate) async fn open(
        js: &Context,
        name: &str,
        ttl: Duration,
        replicas: usize,
    ) -> Result<Self, KvError> {
        let stream_name = format!("KV_{name}");
        match js.get_stream(&stream_name).await {
            Ok(mut s) => {
                let info = s
                    .info()
                    .await
                    .map_err(|e| KvError::Unavailable(e.to_string()))?;
                if info.config.max_age != ttl {
                    return Err(KvError::Config(format!(
                        "bucket {name} exists with keys expiring after {}, but the lease time is {}: \
                         use the same bridge.lease_ttl on every replica, or (with every replica \
                         stopped) delete the bucket with `nats kv del {name}`",
                        humantime::format_duration(info.config.max_age),
                        humantime::format_duration(ttl)
                    )));
                }
            }
            Err(e) if e.to_string().contains("not found") => {
                // The stream a key-value bucket is (so `nats kv` works on it), created as a
                // stream: async-nats's bucket creation does not read NATS 2.9's answer.
                let config = stream::Config {
                    name: stream_name.clone(),
                    subjects: vec![format!("$KV.{name}.>")],
                    max_messages_per_subject: 1,
                    max_age: ttl,
                    discard: stream::DiscardPolicy::New,
                    allow_rollup: true,
                    deny_delete: true,
                    num_replicas: replicas,
                    storage: stream::StorageType::File,
                    duplicate_window: ttl.min(Duration::from_secs(120)),
                    ..Default::default()
                };
                if let Err(e) = js.create_stream(config).await {
                    // Another replica may have created it meanwhile.
                    if js.get_stream(&stream_name).await.is_err() {
                        return Err(KvError::Unavailable(e.to_string()));
                    }
                }
            }
            Err(e) => return Err(KvError::Unavailable(e.to_string())),
        }
        Ok(Self {
            js: js.clone(),
            name: name.to_owned(),
        })
    }

    fn subject(&self, key: &str) -> String {
        format!("$KV.{}.{key}", self.name)
    }

    /// The key's current entry, from the leader; `None` when the key has no message (never
    /// written, or expired).
    pub(crate) async fn read(&self, key: &str) -> Result<Option<Entry>, KvError> {
        let stream = self
            .js
            .get_stream_no_info(format!("KV_{}", self.name))
            .await
            .map_err(|e| KvError::Unavailable(e.to_string()))?;
        match stream
            .get_last_raw_message_by_subject(&self.subject(key))
            .await
        {
            Ok(m) => {
                let op = m.headers.get("KV-Operation").map(|v| v.as_str().to_owned());
                let deleted = matches!(op.as_deref(), Some("DEL" | "PURGE"));
                Ok(Some(Entry {
                    revision: m.sequence,
                    value: (!deleted).then_some(m.payload),
                }))
            }
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(KvError::Unavailable(e.to_string())),
        }
    }

    /// Writes `value` after `revision` (0: the key has no message); returns the new revision.
    async fn write(
        &self,
        key: &str,
        value: Bytes,
        revision: u64,
        headers: HeaderMap,
    ) -> Result<u64, KvError> {
        let message = PublishMessage::build()
            .headers(headers)
            .expected_last_subject_sequence(revision)
            .payload(value);
        let map = |e: jetstream::context::PublishError| match e.kind() {
            PublishErrorKind::WrongLastSequence => KvError::Conflict,
            _ => KvError::Unavailable(e.to_string()),
        };
        let ack = self
            .js
            .send_publish(self.subject(key), message)
            .await
            .map_err(map)?
            .await
            .map_err(map)?;
        Ok(ack.sequence)
    }

    /// Creates the key if it has no live value: absent, expired, or deleted (then the write
    /// names the delete marker's revision). `Conflict` when someone holds it.
    pub(crate) async fn create(&self, key: &str, value: Bytes) -> Result<u64, KvError> {
        match self.write(key, value.clone(), 0, HeaderMap::new()).await {
            Err(KvError::Conflict) => match self.read(key).await? {
                Some(Entry {
                    revision,
                    value: None,
                }) => self.write(key, value, revision, HeaderMap::new()).await,
                Some(_) => Err(KvError::Conflict),
                // Expired between the two calls: try once more from nothing.
                None => self.write(key, value, 0, HeaderMap::new()).await,
            },
            other => other,
        }
    }

    /// Replaces the value written at `revision`.
    pub(crate) async fn update(
        &self,
        key: &str,
        value: Bytes,
        revision: u64,
    ) -> Result<u64, KvError> {
        self.write(key, value, revision, HeaderMap::new()).await
    }

    /// Deletes the key if it is still at `revision` (a delete marker, which expires too).
    pub(crate) async fn delete(&self, key: &str, revision: u64) -> Result<u64, KvError> {
        let mut headers = HeaderMap::new();
        headers.insert("KV-Operation", "DEL");
        self.write(key, Bytes::new(), revision, headers).await
    }

    /// The keys with a live value, read from the stream leader's subject list.
    pub(crate) async fn live_keys(&self) -> Result<Vec<(String, Entry)>, KvError> {
        let stream = self
            .js
            .get_stream(format!("KV_{}", self.name))
            .await
            .map_err(|e| KvError::Unavailable(e.to_string()))?;
        let prefix = format!("$KV.{}.", self.name);
        let info = stream
            .info_with_subjects(format!("{prefix}>"))
            .await
            .map_err(|e| KvError::Unavailable(e.to_string()))?;
        let mut subjects = Vec::new();
        {
            use futures_util::TryStreamExt as _;
            let mut info = info;
            while let Some((subject, _count)) = info
                .try_next()
                .await
                .map_err(|e| KvError::Unavailable(e.to_string()))?
            {
                subjects.push(subject);
            }
        }
        let mut out = Vec::new();
        for subject in subjects {
            let Some(key) = subject.strip_prefix(&prefix) else {
                continue;
            };
            if let Some(entry) = self.read(key).await?
                && entry.value.is_some()
            {
                out.push((key.to_owned(), entry));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}
