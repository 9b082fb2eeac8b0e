//! `Debug` of a Pub/Sub session: a summary of where it stands, safe to log.
//!
//! Written out rather than derived, so that a field added later (a token, a payload) shows only
//! once someone has decided it is safe to.

use std::fmt;

use super::PubSubSession;
use super::topic::StreamState;

impl fmt::Debug for PubSubSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topics: Vec<String> = self
            .topics
            .iter()
            .map(|(name, t)| match &t.stream {
                StreamState::Open(s) => format!(
                    "{name}: {} owed ≤{} buffered {}",
                    s.call,
                    s.credit.outstanding(),
                    t.buffered
                ),
                StreamState::Down(why) => format!("{name}: down ({why:?}) buffered {}", t.buffered),
            })
            .collect();
        f.debug_struct("PubSubSession")
            .field("phase", &self.phase)
            .field("endpoint", &crate::redact::Url(&self.endpoint))
            .field("has_token", &self.auth.is_valid())
            .field("tenant_id", &self.auth.tenant_id())
            .field("topics", &topics)
            .field("calls", &self.calls.len())
            .field("schemas", &self.schemas.len())
            .field("ready", &self.ready.len())
            .field("pending_events", &self.events.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
