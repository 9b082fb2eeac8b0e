//! The error type of every [`ReplayStore`](crate::ReplayStore).

use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;

/// Why a replay store could not load, save or remove replay ids.
///
/// Every message names the file involved and what the user can do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O operation on the store's file or directory failed.
    #[error(
        "replay store: error while {action} `{path}`: {source} \
         (check that the path is right and that this process may read and write it)",
        path = .path.display()
    )]
    Io {
        /// The file or directory the operation was about.
        path: PathBuf,
        /// What the store was doing: "reading", "writing", "renaming",
        /// "syncing directory", ...
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The store file exists but is not a replay store this version can read.
    ///
    /// The store never starts over silently: the user decides whether to fix
    /// the file or delete it.
    #[error(
        "replay store file `{path}` is corrupt: {detail}. Fix the file by hand, or delete it \
         to resume every channel from the configured default replay id",
        path = .path.display()
    )]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },

    /// The directory that should hold the store file does not exist (or is
    /// not a directory). The store creates its file, never its directory.
    #[error(
        "the directory `{dir}` of replay store `{path}` does not exist or is not a directory; \
         create it or choose another store path",
        dir = .dir.display(),
        path = .path.display()
    )]
    MissingDirectory {
        /// The directory that is missing.
        dir: PathBuf,
        /// The store file that was to be kept in it.
        path: PathBuf,
    },

    /// The store file, or its directory, may not be written. Checked when the
    /// store is opened, so that the problem shows before the first event.
    #[error(
        "replay store `{path}` cannot be saved: {detail}. Make it writable (chmod u+w), or \
         choose another store path",
        path = .path.display()
    )]
    ReadOnly {
        /// The store file, as given.
        path: PathBuf,
        /// What is read-only.
        detail: String,
    },

    /// Another store already has this file open, in this process or another:
    /// two writers would overwrite each other's replay ids.
    #[error(
        "replay store `{path}` is in use by {}: two processes writing one store overwrite \
         each other's replay ids. Stop that process, or give this one its own store file",
        holder_text(*.holder),
        path = .path.display()
    )]
    Locked {
        /// The store file, as given.
        path: PathBuf,
        /// The process id of the holder, when its lock file says.
        holder: Option<u32>,
    },

    /// The store cannot keep this kind of replay id (a user-written store
    /// that implements only the Streaming API's integer ids).
    #[error("this replay store does not keep {what}")]
    Unsupported {
        /// What it cannot keep, and how to add it.
        what: &'static str,
    },

    /// An error of a user-written store (a database, a key-value service...).
    #[error(transparent)]
    Other(Box<dyn StdError + Send + Sync + 'static>),
}

fn holder_text(holder: Option<u32>) -> String {
    match holder {
        Some(pid) if pid == std::process::id() => {
            format!("another store in this process (pid {pid})")
        }
        Some(pid) => format!("process {pid}"),
        None => "another process".to_owned(),
    }
}

impl StoreError {
    /// Wraps the error of a user-written store.
    ///
    /// ```
    /// use sfstream_store::StoreError;
    ///
    /// let err = StoreError::other("database unavailable");
    /// assert_eq!(err.to_string(), "database unavailable");
    /// ```
    pub fn other(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self::Other(error.into())
    }

    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            action,
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.into(),
            detail: detail.into(),
        }
    }
}
