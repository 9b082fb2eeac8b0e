//! The advisory lock of a [`FileStore`](crate::FileStore): one process (and
//! one store) per store file.
//!
//! The store file itself is replaced on every save, so the lock lives on a
//! file that is never replaced: `.<file name>.lock` beside it, holding the
//! process id of its owner so that a refused process can say who holds it.
//! The lock is `flock(2)`: the kernel releases it when the process dies, so
//! a `kill -9` never leaves a store locked; the file left behind is reused.
//!
//! A lock held by this very process is waited for, briefly: a client that was
//! just closed and dropped may still be letting go of its store on another
//! thread when the application opens the file again to start a new one.

use std::fs::{self, File};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::StoreError;

/// How many times to retry when the lock file was removed or replaced
/// between opening and locking it (its owner closed meanwhile).
const ATTEMPTS: usize = 8;

/// How long a lock held by another store of this process is waited for.
pub(crate) const SAME_PROCESS_WAIT: Duration = Duration::from_secs(1);
/// How often it is tried again meanwhile.
const SAME_PROCESS_RETRY: Duration = Duration::from_millis(5);

/// A held lock; released (and its file removed) when dropped.
#[derive(Debug)]
pub(crate) struct StoreLock {
    path: PathBuf,
    /// The locked file; the lock lasts as long as this handle.
    file: File,
}

impl StoreLock {
    /// Takes the lock of the store file `store` (already resolved through
    /// symbolic links) with the lock file `lock_path`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`] if another store (in this process or another)
    /// holds it, [`StoreError::ReadOnly`] if the directory refuses the lock
    /// file, [`StoreError::Io`] otherwise.
    pub(crate) fn acquire(store: &Path, lock_path: PathBuf) -> Result<Self, StoreError> {
        let started = Instant::now();
        let mut replaced = 0;
        loop {
            let file = open_lock_file(store, &lock_path)?;
            if !try_lock(&file).map_err(|e| StoreError::io(&lock_path, "locking", e))? {
                let holder = read_holder(&lock_path);
                if holder == Some(std::process::id()) && started.elapsed() < SAME_PROCESS_WAIT {
                    std::thread::sleep(SAME_PROCESS_RETRY);
                    continue;
                }
                return Err(StoreError::Locked {
                    path: store.to_path_buf(),
                    holder,
                });
            }
            // The previous owner removes the file before it unlocks: if the
            // path no longer names the file locked here, lock again.
            if !same_file(&file, &lock_path) {
                replaced += 1;
                if replaced < ATTEMPTS {
                    continue;
                }
                return Err(StoreError::io(
                    &lock_path,
                    "locking",
                    io::Error::other("the lock file keeps being replaced by another process"),
                ));
            }
            let mut lock = Self {
                path: lock_path,
                file,
            };
            lock.write_holder()
                .map_err(|e| StoreError::io(&lock.path, "writing", e))?;
            return Ok(lock);
        }
    }

    /// Records this process's id in the lock file.
    fn write_holder(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        (&self.file).write_all(format!("{}\n", std::process::id()).as_bytes())
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // Removed while still locked, so that nobody locks a file that is
        // about to disappear (a newcomer then sees the path changed and
        // retries); the lock itself goes with the file handle.
        let _ = fs::remove_file(&self.path);
    }
}

fn open_lock_file(store: &Path, lock_path: &Path) -> Result<File, StoreError> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o644);
    }
    options.open(lock_path).map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            StoreError::ReadOnly {
                path: store.to_path_buf(),
                detail: format!(
                    "its directory `{}` is not writable ({e})",
                    lock_path.parent().unwrap_or(Path::new(".")).display()
                ),
            }
        }
        _ => StoreError::io(lock_path, "creating lock file", e),
    })
}

/// `Ok(false)` if another open file holds the lock.
#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Outside Unix no lock is taken (documented on `FileStore`).
#[cfg(not(unix))]
fn try_lock(_file: &File) -> io::Result<bool> {
    Ok(true)
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, _path: &Path) -> bool {
    true
}

/// The process id written by the lock's holder, if it can be read yet.
fn read_holder(lock_path: &Path) -> Option<u32> {
    let mut text = String::new();
    File::open(lock_path)
        .and_then(|f| f.take(64).read_to_string(&mut text))
        .ok()?;
    text.trim().parse().ok()
}
