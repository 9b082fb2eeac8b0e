//! [`FileStore`]: replay ids in a human-readable JSON file, replaced
//! atomically on every save.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use serde_json::Value;

use crate::lock::StoreLock;
use crate::target::{check_writable, resolve_links};
use crate::{ReplayStore, StoreError};

/// The value of the `"format"` field of every store file.
const FORMAT: &str = "sfstream-replay-store";
/// The layout with the Streaming API's integer ids only; written while the
/// store holds no Pub/Sub replay ids, so that older versions still read it.
const VERSION_CHANNELS: u64 = 1;
/// The layout with Pub/Sub replay ids (base64 text per topic) beside them.
const VERSION_TOPICS: u64 = 2;

/// Makes temporary file names unique among all the [`FileStore`]s of this
/// process (the process id makes them unique among processes).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A durable replay store: a human-readable JSON file.
///
/// ```json
/// {
///   "format": "sfstream-replay-store",
///   "version": 1,
///   "channels": {
///     "/event/Order__e": 2112,
///     "/topic/AccountUpdates": 55
///   }
/// }
/// ```
///
/// Replay ids are written and read as exact JSON integers (the full `i64`
/// range, never through `f64`).
///
/// Once it holds Pub/Sub replay ids (opaque bytes, kept as standard base64
/// text per topic), the file is written in version 2, which adds a `"topics"`
/// object; a file without them stays in version 1, readable by every
/// version of sfstream:
///
/// ```json
/// {
///   "format": "sfstream-replay-store",
///   "version": 2,
///   "channels": {
///     "/event/Order__e": 2112
///   },
///   "topics": {
///     "/data/AccountChangeEvent": "AAAAAAAAH0A="
///   }
/// }
/// ```
///
/// # Crash safety
///
/// Every [`save`](ReplayStore::save), [`save_many`](ReplayStore::save_many)
/// and [`remove`](ReplayStore::remove) writes the whole document to a new
/// temporary file in the store's directory, named
/// `.<file name>.tmp-<pid>-<counter>`, flushes it to disk (`sync_all`),
/// renames it over the store file (an atomic replace), then, on Unix, flushes
/// the directory so the rename itself is durable. A `kill -9` (or a crash) at
/// any instant leaves either the old or the new complete file, never a mix.
/// Temporary files left behind by a crash are removed by the next
/// [`open`](FileStore::open). A save that does not change the stored ids
/// writes nothing. On platforms other than Unix the directory is not flushed:
/// the rename is still atomic, but may be lost on power failure.
///
/// # One store per file
///
/// The store keeps the ids in memory as well ([`load`](ReplayStore::load)
/// does not reread the file; [`reload`](FileStore::reload) does) and writes
/// the whole document on each save, so two stores on one file would
/// overwrite each other's channels. [`open`](FileStore::open) therefore takes
/// an advisory lock (`flock`) on `.<file name>.lock` beside the file, which
/// holds the owner's process id, and fails with [`StoreError::Locked`] (naming
/// that process) while another store, in this process or another, holds it.
/// A store of this process is waited for up to a second first, so that a
/// client just closed and dropped, whose tasks may still be letting go of
/// its store, does not refuse the next one. Share one store (it implements
/// [`ReplayStore`] behind an `Arc`) rather than opening the file twice. The lock goes when the store is dropped or
/// its process dies; the lock file is removed on drop and reused after a
/// crash. Outside Unix no lock is taken.
///
/// # The file on disk
///
/// A store file given as a symbolic link stays one: saves replace the file
/// the link points to (through any chain of links; a dangling link names
/// the file to create). A new store file is created readable and writable
/// by its owner only (mode `0600` on Unix); an existing file keeps its
/// permissions. A store file, or its directory, without write permission is
/// refused when the store is opened ([`StoreError::ReadOnly`]), never
/// replaced: the permission bits count even for a process that could write
/// anyway (root).
///
/// # Errors
///
/// A missing file is an empty store, created by the first save; its directory
/// must exist ([`StoreError::MissingDirectory`] otherwise) and be writable. A file that is not
/// a replay store (not JSON, wrong `"format"`, an id that is not an integer)
/// fails with [`StoreError::Corrupt`], naming the file: the store never starts
/// over silently, and never overwrites a file it could not read.
#[derive(Debug)]
pub struct FileStore {
    /// The path given to `open`, for messages.
    path: PathBuf,
    /// The file saves replace: `path` with its symbolic links followed.
    target: PathBuf,
    /// The directory of `target`, where temporary files are written.
    dir: PathBuf,
    /// `.<file name>.tmp-`: the start of the name of every temporary file.
    temp_prefix: OsString,
    /// What the file holds, as of the last successful read or write.
    ids: Mutex<Ids>,
    /// Held for the store's lifetime.
    _lock: StoreLock,
}

impl FileStore {
    /// Opens the store kept in the file at `path`, reading its ids.
    ///
    /// A missing file is an empty store (the file is created by the first
    /// save); its directory must exist. Takes the store's lock, checks that
    /// the file and its directory are writable, and removes the temporary
    /// files a crashed writer left beside it.
    ///
    /// # Errors
    ///
    /// [`StoreError::MissingDirectory`] if the directory of `path` does not
    /// exist, [`StoreError::ReadOnly`] if the file or its directory may not be
    /// written, [`StoreError::Locked`] if another store holds the file,
    /// [`StoreError::Corrupt`] if the file is not a replay store this version
    /// can read, [`StoreError::Io`] if it cannot be read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let no_file = || {
            StoreError::io(
                &path,
                "opening",
                io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
            )
        };
        if path.file_name().is_none() {
            return Err(no_file());
        }
        let target = resolve_links(&path)?;
        let Some(file_name) = target.file_name() else {
            return Err(no_file());
        };
        let mut temp_prefix = OsString::from(".");
        temp_prefix.push(file_name);
        let mut lock_name = temp_prefix.clone();
        temp_prefix.push(".tmp-");
        lock_name.push(".lock");
        let dir = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(missing_dir(&dir, &path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing_dir(&dir, &path)),
            Err(e) => return Err(StoreError::io(&dir, "inspecting directory", e)),
        }
        check_writable(&path, &target, &dir)?;
        // Locked before reading, so the ids read are not changing under us,
        // and before tidying, so only a dead writer's files are removed.
        let lock = StoreLock::acquire(&path, dir.join(lock_name))?;
        let ids = read_ids(&target)?;
        remove_stale_temp_files(&dir, &temp_prefix);
        Ok(Self {
            path,
            target,
            dir,
            temp_prefix,
            ids: Mutex::new(ids),
            _lock: lock,
        })
    }

    /// The store file's path, as given to [`open`](FileStore::open).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rereads the file (e.g. after it was edited by hand) and returns its
    /// channels' ids (its topics' are reread too: see
    /// [`load_topics`](ReplayStore::load_topics)).
    ///
    /// # Errors
    ///
    /// As [`open`](FileStore::open); on error the ids in memory are kept.
    pub fn reload(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let mut ids = self.lock();
        *ids = read_ids(&self.target)?;
        Ok(ids.channels.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Ids> {
        // The map is replaced only after a successful write, so it is always
        // consistent, even if a panic poisoned the lock.
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` to a copy of the ids; if that changed anything,
    /// writes the copy to the file and only then keeps it in memory. The lock
    /// is held throughout, so concurrent saves reach the file in order.
    fn update(&self, change: impl FnOnce(&mut Ids)) -> Result<(), StoreError> {
        let mut ids = self.lock();
        let mut next = ids.clone();
        change(&mut next);
        if next != *ids {
            self.write(&next)?;
            *ids = next;
        }
        Ok(())
    }

    /// Atomically replaces the file with a document holding `ids`.
    fn write(&self, ids: &Ids) -> Result<(), StoreError> {
        let topics: BTreeMap<&str, String> = ids
            .topics
            .iter()
            .map(|(topic, id)| (topic.as_str(), BASE64.encode(id)))
            .collect();
        let document = Document {
            format: FORMAT,
            version: if topics.is_empty() {
                VERSION_CHANNELS
            } else {
                VERSION_TOPICS
            },
            channels: &ids.channels,
            topics: (!topics.is_empty()).then_some(&topics),
        };
        let mut bytes = serde_json::to_vec_pretty(&document)
            .map_err(|e| StoreError::io(&self.path, "encoding", io::Error::other(e)))?;
        bytes.push(b'\n');

        let mut temp_name = self.temp_prefix.clone();
        temp_name.push(format!(
            "{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = self.dir.join(temp_name);
        if let Err(e) = self.write_temp_and_rename(&temp, &bytes) {
            // Best effort: the next open removes it anyway.
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        // If this fails the new document is in place but maybe not durable:
        // the save reports the error and memory keeps the old ids, so a retry
        // of the same save writes (and syncs) again instead of skipping.
        sync_dir(&self.dir)
    }

    fn write_temp_and_rename(&self, temp: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        // The user's permissions win: a file made read-only since `open` is
        // not replaced, and an existing file's mode carries over.
        let existing = match fs::metadata(&self.target) {
            Ok(meta) if meta.permissions().readonly() => {
                return Err(StoreError::ReadOnly {
                    path: self.path.clone(),
                    detail: "the file was made read-only while the store was open".to_owned(),
                });
            }
            Ok(meta) => Some(meta.permissions()),
            Err(_) => None,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            // Replay ids say what a process has read; nobody else needs them.
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options
            .open(temp)
            .map_err(|e| StoreError::io(temp, "creating temporary file", e))?;
        if let Some(permissions) = existing {
            // Best effort: the document is what matters.
            let _ = file.set_permissions(permissions);
        }
        file.write_all(bytes)
            .map_err(|e| StoreError::io(temp, "writing", e))?;
        file.sync_all()
            .map_err(|e| StoreError::io(temp, "syncing", e))?;
        drop(file);
        fs::rename(temp, &self.target).map_err(|e| StoreError::io(&self.target, "renaming", e))
    }
}

impl ReplayStore for FileStore {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        Ok(self.lock().channels.clone())
    }

    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        self.update(|ids| {
            ids.channels.insert(channel.to_owned(), replay_id);
        })
    }

    fn save_many(&self, checkpoints: &[(String, i64)]) -> Result<(), StoreError> {
        self.update(|ids| {
            for (channel, replay_id) in checkpoints {
                ids.channels.insert(channel.clone(), *replay_id);
            }
        })
    }

    fn remove(&self, channel: &str) -> Result<(), StoreError> {
        self.update(|ids| {
            ids.channels.remove(channel);
        })
    }

    fn load_topics(&self) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
        Ok(self.lock().topics.clone())
    }

    fn save_topic(&self, topic: &str, replay_id: &[u8]) -> Result<(), StoreError> {
        check_topic_id(topic, replay_id)?;
        self.update(|ids| {
            ids.topics.insert(topic.to_owned(), replay_id.to_vec());
        })
    }

    fn save_topics(&self, checkpoints: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        for (topic, replay_id) in checkpoints {
            check_topic_id(topic, replay_id)?;
        }
        self.update(|ids| {
            for (topic, replay_id) in checkpoints {
                ids.topics.insert(topic.clone(), replay_id.clone());
            }
        })
    }

    fn remove_topic(&self, topic: &str) -> Result<(), StoreError> {
        self.update(|ids| {
            ids.topics.remove(topic);
        })
    }
}

/// An empty id is no position: storing it would make the file unreadable.
fn check_topic_id(topic: &str, replay_id: &[u8]) -> Result<(), StoreError> {
    if replay_id.is_empty() {
        return Err(StoreError::other(format!(
            "replay store: the replay id to save for {topic:?} is empty; a Pub/Sub position has \
             at least one byte"
        )));
    }
    Ok(())
}

/// What a store file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ids {
    /// The Streaming API's replay ids, by channel.
    channels: BTreeMap<String, i64>,
    /// The Pub/Sub API's replay ids, by topic.
    topics: BTreeMap<String, Vec<u8>>,
}

/// The file's layout, field order included.
#[derive(Serialize)]
struct Document<'a> {
    format: &'a str,
    version: u64,
    channels: &'a BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topics: Option<&'a BTreeMap<&'a str, String>>,
}

fn missing_dir(dir: &Path, path: &Path) -> StoreError {
    StoreError::MissingDirectory {
        dir: dir.to_path_buf(),
        path: path.to_path_buf(),
    }
}

/// Reads the ids of the file at `path`; a missing file holds none.
fn read_ids(path: &Path) -> Result<Ids, StoreError> {
    match fs::read(path) {
        Ok(bytes) => parse(&bytes).map_err(|detail| StoreError::corrupt(path, detail)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Ids::default()),
        Err(e) => Err(StoreError::io(path, "reading", e)),
    }
}

/// Parses a store document, or says what is wrong with it.
fn parse(bytes: &[u8]) -> Result<Ids, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".to_owned());
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("it is not valid JSON ({e})"))?;
    let Value::Object(mut root) = value else {
        return Err("it is not a JSON object".to_owned());
    };
    match root.get("format") {
        Some(Value::String(format)) if format == FORMAT => {}
        Some(other) => {
            return Err(format!(
                "its \"format\" is {other}, not \"{FORMAT}\": it is not an sfstream replay store"
            ));
        }
        None => {
            return Err(format!(
                "it has no \"format\": \"{FORMAT}\" field: it is not an sfstream replay store"
            ));
        }
    }
    let version = match root.get("version") {
        Some(version) => match version.as_u64() {
            Some(v @ (VERSION_CHANNELS | VERSION_TOPICS)) => v,
            _ => {
                return Err(format!(
                    "its \"version\" is {version}; this sfstream reads versions \
                     {VERSION_CHANNELS} and {VERSION_TOPICS} (was it written by a newer sfstream?)"
                ));
            }
        },
        None => return Err("it has no \"version\" field".to_owned()),
    };
    let Some(Value::Object(channels)) = root.remove("channels") else {
        return Err("it has no \"channels\" object".to_owned());
    };
    let channels = channels
        .into_iter()
        // `as_i64` is `None` for floats (`1.5`, `2112.0`, `1e3`), strings and
        // integers outside the i64 range: only exact integers pass.
        .map(|(channel, id)| match id.as_i64() {
            Some(id) => Ok((channel, id)),
            None => Err(format!(
                "the replay id of channel {channel:?} is {id}, not an integer \
                 (replay ids are whole numbers, without quotes, fraction or exponent)"
            )),
        })
        .collect::<Result<_, _>>()?;
    let topics = match (version, root.remove("topics")) {
        (VERSION_CHANNELS, None) => BTreeMap::new(),
        (VERSION_CHANNELS, Some(_)) => {
            return Err(format!(
                "it has \"topics\" but \"version\" {VERSION_CHANNELS}, which holds none \
                 (topics need version {VERSION_TOPICS})"
            ));
        }
        (_, Some(Value::Object(topics))) => topics
            .into_iter()
            .map(|(topic, id)| {
                let bytes = id
                    .as_str()
                    .and_then(|text| BASE64.decode(text).ok())
                    .filter(|bytes| !bytes.is_empty());
                match bytes {
                    Some(bytes) => Ok((topic, bytes)),
                    None => Err(format!(
                        "the replay id of topic {topic:?} is {id}, not the standard base64 of \
                         a Pub/Sub replay id (a quoted string such as \"AAAAAAAAH0A=\")"
                    )),
                }
            })
            .collect::<Result<_, _>>()?,
        (_, None) => BTreeMap::new(),
        (_, Some(other)) => {
            return Err(format!("its \"topics\" is {other}, not an object"));
        }
    };
    Ok(Ids { channels, topics })
}

/// Removes the temporary files a crashed writer left in `dir` (best effort:
/// a file that cannot be removed only wastes space).
fn remove_stale_temp_files(dir: &Path, temp_prefix: &OsString) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = temp_prefix.as_encoded_bytes();
    for entry in entries.flatten() {
        if entry.file_name().as_encoded_bytes().starts_with(prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, "syncing directory", e))
}

/// Directories cannot be opened (and so flushed) portably here: the rename
/// stays atomic, but its durability is up to the file system.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
    Ok(())
}
