//! [`ConstantStore`]: one fixed replay id for every channel.

use std::collections::BTreeMap;

use crate::{ReplayStore, StoreError};

/// A store that remembers nothing and resumes every channel from one fixed
/// replay id (like aiosfstream's `ConstantReplayId`).
///
/// [`load`](ReplayStore::load) returns an empty map, [`save`](ReplayStore::save)
/// and [`remove`](ReplayStore::remove) do nothing, and
/// [`default_replay_id`](ReplayStore::default_replay_id) returns the constant,
/// which the client uses for every channel that has no stored id (here: all).
///
/// Salesforce gives two ids a special meaning: `-1` asks for new events only,
/// `-2` for every event the server still retains. For Pub/Sub topics they
/// stand for the presets `LATEST` and `EARLIEST`; Pub/Sub replay ids are
/// stored and loaded no more than integer ones.
///
/// ```
/// use sfstream_store::{ConstantStore, ReplayStore};
///
/// let store = ConstantStore::new(-2);
/// store.save("/event/Order__e", 2112)?;
/// assert!(store.load()?.is_empty());
/// assert_eq!(store.default_replay_id(), Some(-2));
/// # Ok::<(), sfstream_store::StoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConstantStore {
    replay_id: i64,
}

impl ConstantStore {
    /// A store that resumes every channel from `replay_id`.
    pub const fn new(replay_id: i64) -> Self {
        Self { replay_id }
    }

    /// The replay id every channel resumes from.
    pub const fn constant(&self) -> i64 {
        self.replay_id
    }
}

impl ReplayStore for ConstantStore {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        Ok(BTreeMap::new())
    }

    fn save(&self, _channel: &str, _replay_id: i64) -> Result<(), StoreError> {
        Ok(())
    }

    fn save_many(&self, _checkpoints: &[(String, i64)]) -> Result<(), StoreError> {
        Ok(())
    }

    fn remove(&self, _channel: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn default_replay_id(&self) -> Option<i64> {
        Some(self.replay_id)
    }

    fn load_topics(&self) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
        Ok(BTreeMap::new())
    }

    fn save_topic(&self, _topic: &str, _replay_id: &[u8]) -> Result<(), StoreError> {
        Ok(())
    }

    fn save_topics(&self, _checkpoints: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        Ok(())
    }

    fn remove_topic(&self, _topic: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
