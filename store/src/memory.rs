//! [`MemoryStore`]: replay ids kept in memory only.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::{ReplayStore, StoreError};

/// A replay store that keeps its ids in memory: they are lost when the
/// process ends.
///
/// Useful in tests, and for a client that should resume after a reconnect
/// within one process but start afresh in every new process. It keeps the
/// Streaming API's integer ids and the Pub/Sub API's byte ids.
///
/// ```
/// use sfstream_store::{MemoryStore, ReplayStore};
///
/// let store = MemoryStore::with_ids([("/event/Order__e", 10)]);
/// store.save("/event/Order__e", 11)?;
/// assert_eq!(store.snapshot()["/event/Order__e"], 11);
/// # Ok::<(), sfstream_store::StoreError>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    ids: Mutex<BTreeMap<String, i64>>,
    topics: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `ids` (a later id of the same channel wins).
    pub fn with_ids<C: Into<String>>(ids: impl IntoIterator<Item = (C, i64)>) -> Self {
        Self {
            ids: Mutex::new(
                ids.into_iter()
                    .map(|(channel, id)| (channel.into(), id))
                    .collect(),
            ),
            topics: Mutex::default(),
        }
    }

    /// A store holding Pub/Sub replay ids (a later id of the same topic wins).
    pub fn with_topic_ids<T: Into<String>, B: Into<Vec<u8>>>(
        ids: impl IntoIterator<Item = (T, B)>,
    ) -> Self {
        Self {
            ids: Mutex::default(),
            topics: Mutex::new(
                ids.into_iter()
                    .map(|(topic, id)| (topic.into(), id.into()))
                    .collect(),
            ),
        }
    }

    /// A copy of the stored Pub/Sub replay ids.
    pub fn topic_snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock_topics().clone()
    }

    fn lock_topics(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the stored ids.
    pub fn snapshot(&self) -> BTreeMap<String, i64> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, i64>> {
        // Every update is a single map operation, so a panic elsewhere while
        // the lock was held cannot leave the map half-updated.
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReplayStore for MemoryStore {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        Ok(self.snapshot())
    }

    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        self.lock().insert(channel.to_owned(), replay_id);
        Ok(())
    }

    fn save_many(&self, checkpoints: &[(String, i64)]) -> Result<(), StoreError> {
        let mut ids = self.lock();
        for (channel, replay_id) in checkpoints {
            ids.insert(channel.clone(), *replay_id);
        }
        Ok(())
    }

    fn remove(&self, channel: &str) -> Result<(), StoreError> {
        self.lock().remove(channel);
        Ok(())
    }

    fn load_topics(&self) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
        Ok(self.topic_snapshot())
    }

    fn save_topic(&self, topic: &str, replay_id: &[u8]) -> Result<(), StoreError> {
        self.lock_topics()
            .insert(topic.to_owned(), replay_id.to_vec());
        Ok(())
    }

    fn save_topics(&self, checkpoints: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut topics = self.lock_topics();
        for (topic, replay_id) in checkpoints {
            topics.insert(topic.clone(), replay_id.clone());
        }
        Ok(())
    }

    fn remove_topic(&self, topic: &str) -> Result<(), StoreError> {
        self.lock_topics().remove(topic);
        Ok(())
    }
}
