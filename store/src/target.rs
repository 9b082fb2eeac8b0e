//! Where a [`FileStore`](crate::FileStore) really writes, and whether it may:
//! the file behind any symbolic links, checked before the first event rather
//! than at the first save.

use std::fs::{self, Permissions};
use std::io;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// As many links as Linux follows before `ELOOP`.
const MAX_LINKS: usize = 40;

/// Follows `path` through symbolic links to the file that saves replace,
/// which need not exist yet (a dangling link names the file to create). The
/// links themselves are kept: a save renames over their final target.
pub(crate) fn resolve_links(path: &Path) -> Result<PathBuf, StoreError> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)
                    .map_err(|e| StoreError::io(&current, "reading symbolic link", e))?;
                // A relative target is relative to the link's directory; an
                // absolute one replaces it (`join` does both).
                current = match current.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            Ok(_) => return Ok(current),
            // A missing file, or a missing directory (reported by `open`).
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(current);
            }
            Err(e) => return Err(StoreError::io(&current, "inspecting", e)),
        }
    }
    Err(StoreError::io(
        path,
        "resolving symbolic links",
        io::Error::other(format!("more than {MAX_LINKS} levels of symbolic links")),
    ))
}

/// Refuses a store whose file or directory is read-only, so the problem shows
/// when the store is opened, not at the first save. `path` is the path given
/// (for messages), `target` the resolved file, `dir` its directory.
///
/// The permission bits are checked as well as the access itself: a file or
/// directory without any write bit was made read-only on purpose, and a
/// process running as root would otherwise replace it anyway.
pub(crate) fn check_writable(path: &Path, target: &Path, dir: &Path) -> Result<(), StoreError> {
    let read_only = |detail: String| StoreError::ReadOnly {
        path: path.to_path_buf(),
        detail,
    };
    match fs::metadata(target) {
        Ok(meta) if !meta.is_file() => {
            return Err(StoreError::io(
                target,
                "opening",
                io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file"),
            ));
        }
        Ok(meta) if meta.permissions().readonly() => {
            return Err(read_only(format!(
                "the file is read-only{}",
                mode_text(&meta.permissions())
            )));
        }
        Ok(_) => {
            if let Err(e) = fs::OpenOptions::new().append(true).open(target) {
                if matches!(
                    e.kind(),
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
                ) {
                    return Err(read_only(format!("the file is not writable ({e})")));
                }
                return Err(StoreError::io(target, "opening", e));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::io(target, "inspecting", e)),
    }
    let meta = fs::metadata(dir).map_err(|e| StoreError::io(dir, "inspecting directory", e))?;
    if meta.permissions().readonly() {
        return Err(read_only(format!(
            "its directory `{}` is read-only{} (each save replaces the file, which needs a \
             writable directory)",
            dir.display(),
            mode_text(&meta.permissions())
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn mode_text(permissions: &Permissions) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    format!(" (mode {:04o})", permissions.mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_text(_permissions: &Permissions) -> String {
    String::new()
}
