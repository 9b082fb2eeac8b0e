//! Recording the session as a transcript (see `transcript::recorder`): the switch, and the text
//! the adapter takes.

use std::time::{Instant, UNIX_EPOCH};

use super::Session;
use crate::transcript::recorder::Recorder;

impl Session {
    /// Records this session as a transcript from now on: call it before [`Session::open`]. Take
    /// the text with [`Session::take_recording`] and append it to a file, followed by
    /// [`RECORDING_TRAILER`](crate::transcript::RECORDING_TRAILER) (which the next text
    /// replaces). No secret is recorded; the player plays the file as it is.
    pub fn record(&mut self) {
        if self.recorder.is_none() {
            self.recorder = Some(Box::new(Recorder::new(&self.config)));
        }
    }

    /// The transcript text recorded since the last call (empty when not recording).
    #[must_use]
    pub fn take_recording(&mut self) -> String {
        self.recorder
            .as_deref_mut()
            .map(Recorder::take)
            .unwrap_or_default()
    }

    pub(super) fn recorder(&mut self) -> Option<&mut Recorder> {
        self.recorder.as_deref_mut()
    }

    pub(super) fn record_open(&mut self, now: Instant) {
        let wall = self.wall(now);
        if let Some(r) = self.recorder.as_deref_mut() {
            let ms = wall
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            r.opened(now, ms);
        }
    }
}
