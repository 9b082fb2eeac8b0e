//! sfstream-store: the replay-id stores of sfstream.
//!
//! The protocol core tracks, per channel, the replay id of the last event the
//! application has processed, and emits a checkpoint `(channel, replay_id)`
//! whenever it changes. A runtime adapter hands each checkpoint to a
//! [`ReplayStore`] and, when a client opens, [loads](ReplayStore::load) the
//! stored ids to resume every channel where it stopped.
//!
//! Two kinds of replay ids are kept side by side: the Streaming API's (an
//! integer per channel: [`save`](ReplayStore::save),
//! [`load`](ReplayStore::load)) and the Pub/Sub API's (opaque bytes per topic:
//! [`save_topic`](ReplayStore::save_topic),
//! [`load_topics`](ReplayStore::load_topics)).
//!
//! One implementation of each store, shared by every runtime adapter:
//!
//! * [`FileStore`]: a human-readable JSON file, replaced atomically on every
//!   save (crash-safe: a `kill -9` at any instant leaves the old or the new
//!   complete file).
//! * [`MemoryStore`]: a map in memory, for tests and short-lived clients.
//! * [`ConstantStore`]: stores nothing and resumes every channel from one
//!   fixed replay id (`-1`: new events only, `-2`: every retained event).
//!
//! # Synchronous on purpose
//!
//! [`ReplayStore`] is a plain synchronous trait, so that the same store (and a
//! user's own store backed by a database) works under every runtime. The
//! async adapters (tokio, async-std) call it on their blocking thread pool
//! (`tokio::task::spawn_blocking` and the like), never on a runtime worker, so
//! a slow store never stalls the runtime; the blocking adapter calls it on its
//! own thread. This crate depends on no async runtime and no HTTP crate.
//!
//! # Example
//!
//! ```
//! use sfstream_store::{FileStore, ReplayStore};
//!
//! # let dir = std::env::temp_dir().join(format!("sfstream-store-doctest-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let path = dir.join("replay.json");
//! let store = FileStore::open(&path)?; // a missing file is an empty store
//! store.save("/event/Order__e", 2112)?; // durable when it returns
//! store.save("/topic/AccountUpdates", 55)?;
//! store.save_topic("/data/AccountChangeEvent", &[0, 0, 0, 0, 0, 0, 0x1f, 0x40])?; // Pub/Sub: bytes
//! drop(store);
//!
//! // A later run resumes from the stored ids.
//! let store = FileStore::open(&path)?;
//! let ids = store.load()?;
//! assert_eq!(ids["/event/Order__e"], 2112);
//! assert_eq!(ids["/topic/AccountUpdates"], 55);
//! assert_eq!(store.load_topics()?["/data/AccountChangeEvent"], [0, 0, 0, 0, 0, 0, 0x1f, 0x40]);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod constant;
mod error;
mod file;
mod lock;
mod memory;
mod target;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use constant::ConstantStore;
pub use error::StoreError;
pub use file::FileStore;
pub use memory::MemoryStore;

/// A place that remembers, per channel, the replay id to resume from.
///
/// The trait is synchronous on purpose: async runtime adapters call it on a
/// blocking thread pool (tokio's `spawn_blocking` and the like), so an
/// implementation may block (on a disk, a database, a network service)
/// without ever blocking the runtime. See the [crate docs](crate).
///
/// A store stores what it is told: the protocol core already guarantees that
/// the ids it checkpoints never move backwards, so a store need not check.
///
/// The trait is implemented for `Arc<T>` and `Box<T>` (including
/// `Arc<dyn ReplayStore>` and `Box<dyn ReplayStore>`), so adapters can share
/// one store.
pub trait ReplayStore: Send + Sync + 'static {
    /// All stored ids (channel -> replay id). Called once when a client opens.
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError>;

    /// Records that `replay_id` is the newest processed event of `channel`.
    ///
    /// Must be durable when it returns (for durable stores).
    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError>;

    /// Saves several checkpoints at once, in order (a later checkpoint of the
    /// same channel wins).
    ///
    /// The default saves them one by one; [`FileStore`] overrides it to write
    /// its file once.
    fn save_many(&self, checkpoints: &[(String, i64)]) -> Result<(), StoreError> {
        checkpoints
            .iter()
            .try_for_each(|(channel, replay_id)| self.save(channel, *replay_id))
    }

    /// Forgets a channel's id (e.g. after the server rejected it as an invalid
    /// replay id). Forgetting a channel that has no id is not an error.
    fn remove(&self, channel: &str) -> Result<(), StoreError>;

    /// The id to use for channels that have no stored id, if this store
    /// imposes one; `None` (the default) leaves the choice to the client's
    /// configuration. [`ConstantStore`] overrides it. For Pub/Sub topics,
    /// `-1` stands for `LATEST` and `-2` for `EARLIEST`.
    fn default_replay_id(&self) -> Option<i64> {
        None
    }

    /// All stored Pub/Sub replay ids (topic -> the id's bytes). Called once
    /// when a Pub/Sub client opens.
    ///
    /// The default holds none, for stores written before Pub/Sub replay ids
    /// existed.
    fn load_topics(&self) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
        Ok(BTreeMap::new())
    }

    /// Records that `replay_id` (opaque bytes) is the newest processed
    /// position of the Pub/Sub `topic`. Must be durable when it returns (for
    /// durable stores).
    ///
    /// The default fails with [`StoreError::Unsupported`]: a store that
    /// cannot keep them says so rather than lose them.
    fn save_topic(&self, topic: &str, replay_id: &[u8]) -> Result<(), StoreError> {
        let _ = (topic, replay_id);
        Err(StoreError::Unsupported {
            what: "Pub/Sub replay ids (implement ReplayStore::save_topic and load_topics)",
        })
    }

    /// Saves several Pub/Sub checkpoints at once, in order (a later checkpoint
    /// of the same topic wins). The default saves them one by one.
    fn save_topics(&self, checkpoints: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        checkpoints
            .iter()
            .try_for_each(|(topic, replay_id)| self.save_topic(topic, replay_id))
    }

    /// Forgets a topic's replay id (after the server rejected it). Forgetting
    /// a topic that has none is not an error; the default holds none.
    fn remove_topic(&self, topic: &str) -> Result<(), StoreError> {
        let _ = topic;
        Ok(())
    }
}

impl<T: ReplayStore + ?Sized> ReplayStore for Arc<T> {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        (**self).load()
    }

    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        (**self).save(channel, replay_id)
    }

    fn save_many(&self, checkpoints: &[(String, i64)]) -> Result<(), StoreError> {
        (**self).save_many(checkpoints)
    }

    fn remove(&self, channel: &str) -> Result<(), StoreError> {
        (**self).remove(channel)
    }

    fn default_replay_id(&self) -> Option<i64> {
        (**self).default_replay_id()
    }

    fn load_topics(&self) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
        (**self).load_topics()
    }

    fn save_topic(&self, topic: &str, replay_id: &[u8]) -> Result<(), StoreError> {
        (**self).save_topic(topic, replay_id)
    }

    fn save_topics(&self, checkpoints: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        (**self).save_topics(checkpoints)
    }

    fn remove_topic(&self, topic: &str) -> Result<(), StoreError> {
        (**self).remove_topic(topic)
    }
}

impl<T: ReplayStore + ?Sized> ReplayStore for Box<T> {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        (**self).load()
    }

    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        (**self).save(channel, replay_id)
    }

    fn save_many(&self, checkpoints: &[(String, i64)]) -> Result<(), StoreError> {
        (**self).save_many(checkpoints)
    }

    fn remove(&self, channel: &str) -> Result<(), StoreError> {
        (**self).remove(channel)
    }

    fn default_replay_id(&self) -> Option<i64> {
        (**self).default_replay_id()
    }

    fn load_topics(&self) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
        (**self).load_topics()
    }

    fn save_topic(&self, topic: &str, replay_id: &[u8]) -> Result<(), StoreError> {
        (**self).save_topic(topic, replay_id)
    }

    fn save_topics(&self, checkpoints: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        (**self).save_topics(checkpoints)
    }

    fn remove_topic(&self, topic: &str) -> Result<(), StoreError> {
        (**self).remove_topic(topic)
    }
}
