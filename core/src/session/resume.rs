//! Where a channel subscribed without an explicit start resumes: after the replay id a store
//! kept for it from an earlier run, else after the store's constant id, else from the configured
//! default. Decided here alone, for subscriptions made before and after the ids are known.

use std::collections::{BTreeMap, BTreeSet};

use super::{Phase, Session};
use crate::bayeux;
use crate::config::ReplayFrom;
use crate::error::Error;

/// The replay ids a store kept, and the channels whose start they decide.
#[derive(Debug, Default)]
pub(super) struct StoredIds {
    /// By channel (with or without a `?filter` query: a filtered channel falls back on the ids
    /// of its unfiltered name).
    ids: BTreeMap<String, i64>,
    /// The store's constant id for every channel it holds nothing for.
    default: Option<i64>,
    /// Channels subscribed without an explicit start while the session was idle: the ids given
    /// before `open` decide their start too.
    implicit: BTreeSet<String>,
}

impl StoredIds {
    /// Where `channel` starts: `explicit` if given, else its stored id, else the constant, else
    /// `configured`.
    pub(super) fn start(
        &self,
        channel: &str,
        explicit: Option<ReplayFrom>,
        configured: ReplayFrom,
    ) -> ReplayFrom {
        explicit.unwrap_or_else(|| {
            self.ids
                .get(channel)
                .or_else(|| self.ids.get(bayeux::replay_key(channel)))
                .copied()
                .or(self.default)
                .map_or(configured, ReplayFrom::Id)
        })
    }

    /// Records whether `channel`, subscribed now, was given an explicit start.
    pub(super) fn note(&mut self, channel: &str, explicit: bool) {
        if explicit {
            self.implicit.remove(channel);
        } else {
            self.implicit.insert(channel.to_owned());
        }
    }
}

/// A replay start the session accepts.
pub(super) fn check_start(from: ReplayFrom) -> Result<(), Error> {
    match from {
        ReplayFrom::Id(id) if id < 0 => Err(Error::InvalidOperation(format!(
            "replay id {id} is negative: use ReplayFrom::New or ReplayFrom::All"
        ))),
        _ => Ok(()),
    }
}

impl Session {
    /// Gives the session the replay ids a store kept from an earlier run (`ids` by channel, and
    /// the store's constant `default`), before [`Session::open`]. A channel subscribed without
    /// an explicit start, before or after this call, resumes after its stored id (a filtered
    /// channel `/topic/X?f=1` after that of `/topic/X` when it has none of its own), else after
    /// `default`, else from [`Config::replay`](crate::Config::replay).
    pub fn resume_from_store(
        &mut self,
        ids: BTreeMap<String, i64>,
        default: Option<i64>,
    ) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::InvalidOperation(
                "stored replay ids are given before the session opens".into(),
            ));
        }
        let resume = StoredIds {
            ids,
            default,
            // Cloned: a refused call leaves the session as it was.
            implicit: self.resume.implicit.clone(),
        };
        let mut starts = Vec::new();
        for channel in resume.implicit.iter().filter(|c| self.channels.contains(c)) {
            let from = resume.start(channel, None, self.config.replay);
            check_start(from)?;
            starts.push((channel.clone(), from));
        }
        // Nothing happened on an idle session's channels yet: each starts afresh.
        for (channel, from) in starts {
            self.channels.add(&channel, from);
        }
        if let Some(r) = self.recorder() {
            r.stored(&resume.ids, resume.default);
        }
        self.resume = resume;
        Ok(())
    }
}
