//! Writing a session's transcript to a file (the `record` setting, or `SFSTREAM_RECORD`): the
//! core records, without secrets; this appends its text, keeping the file a complete transcript
//! after every write, so it plays even if the process stops without closing the client.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sfstream_core::transcript::RECORDING_TRAILER;

use crate::Error;

/// The environment variable that names a file to record every client's session to, when the
/// builder names none.
pub const RECORD_ENV: &str = "SFSTREAM_RECORD";

/// The file a session is recorded to.
pub(crate) struct Recording {
    path: PathBuf,
    file: Option<File>,
    trailer: bool,
}

impl Recording {
    /// Creates (or empties) the file.
    pub(crate) fn create(path: &Path) -> Result<Self, Error> {
        let file = File::create(path).map_err(|e| {
            sfstream_core::Error::Config(format!(
                "cannot create the transcript file {} (the `record` setting or \
                 {RECORD_ENV}): {e}",
                path.display()
            ))
        })?;
        Ok(Self {
            path: path.to_owned(),
            file: Some(file),
            trailer: false,
        })
    }

    /// Appends recorded text. A write that fails stops the recording (with a warning), never
    /// the client.
    pub(crate) fn append(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let Some(file) = &mut self.file else {
            return;
        };
        let trailer = self.trailer;
        let written = (|| {
            if trailer {
                file.seek(SeekFrom::End(-(RECORDING_TRAILER.len() as i64)))?;
            }
            file.write_all(text.as_bytes())?;
            file.write_all(RECORDING_TRAILER.as_bytes())?;
            file.flush()
        })();
        match written {
            Ok(()) => self.trailer = true,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "recording stopped: the transcript file cannot be written");
                self.file = None;
            }
        }
    }
}
