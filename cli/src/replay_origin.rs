//! Where the replay id a server rejected came from, so that the message says what happened and
//! which setting to change: an id from `--replay`, one from the `--store` file, or one the client
//! resumed from by itself.
//!
//! Salesforce rejects an id it does not have with the same words whether the id is older than
//! its retention window or newer than any event of the channel, so the message names both.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sfstream_tokio::core::{Error as CoreError, ErrorClass, ServerError};
use sfstream_tokio::{Error, ReplayFrom};

use crate::exit::{Exit, Failure};

/// How long Salesforce keeps events, for the message.
const RETENTION: &str = "Platform Events and Change Data Capture: 72 hours; PushTopic and \
                         generic events: 24 hours";

/// What `listen` knows about the replay ids it started from.
#[derive(Debug)]
pub(crate) struct ReplayOrigins {
    /// `--replay`.
    flag: ReplayFrom,
    /// `--store`.
    store: Option<PathBuf>,
    /// The ids the store held when the run started.
    pub(crate) stored: BTreeMap<String, i64>,
}

impl ReplayOrigins {
    /// Origins for `--replay` and `--store`; fill `stored` once the store is read.
    pub(crate) fn new(flag: ReplayFrom, store: Option<PathBuf>) -> Self {
        Self {
            flag,
            store,
            stored: BTreeMap::new(),
        }
    }

    /// The failure for a rejected replay id (exit 4), saying where the id came from; `None` for
    /// any other error.
    pub(crate) fn explain(&self, error: &Error) -> Option<Failure> {
        let Error::Stream(CoreError::Server(server)) = error else {
            return None;
        };
        if server.class != ErrorClass::InvalidReplayId {
            return None;
        }
        Some(Failure::new(Exit::Subscription, self.message(server)))
    }

    fn message(&self, server: &ServerError) -> String {
        let channel = server.subscription.as_deref().unwrap_or("the channel");
        let (id, origin, fix) = match (self.stored.get(channel), self.flag) {
            (Some(id), _) => (
                id.to_string(),
                match &self.store {
                    Some(p) => format!("the id stored for it in `{}` (--store)", p.display()),
                    None => "the id stored for it".to_owned(),
                },
                "Pass --fallback to replay every retained event instead (or --fallback=new to \
                 skip to new events), or remove the channel from the store file",
            ),
            (None, ReplayFrom::Id(id)) => (
                id.to_string(),
                "the id given with --replay".to_owned(),
                "Give an id the server has, --replay all (every retained event) or --replay \
                 new, or add --fallback to replay every retained event when the id is rejected",
            ),
            _ => (
                id_in(&server.error.to_string()).unwrap_or_else(|| "?".to_owned()),
                "the id the client resumed it from".to_owned(),
                "Pass --fallback to replay every retained event instead (or --fallback=new to \
                 skip to new events)",
            ),
        };
        format!(
            "the server has no event with replay id {id} on {channel}, {origin}: the id is \
             either newer than any event of the channel (an id from another org or sandbox, or a \
             typo) or older than the server keeps ({RETENTION}). {fix}. (The server said: {})",
            server.error
        )
    }
}

/// The id in Salesforce's `The replayId {42} you provided was invalid`.
fn id_in(said: &str) -> Option<String> {
    let start = said.find('{')? + 1;
    let len = said[start..].find('}')?;
    let id = &said[start..start + len];
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit() || b == b'-')).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_from_salesforce_words() {
        assert_eq!(
            id_in("400::The replayId {999999} you provided was invalid.").as_deref(),
            Some("999999")
        );
        assert_eq!(id_in("400::no braces"), None);
        assert_eq!(id_in("400::{x}"), None);
    }
}
