//! `Debug` of a session: a summary of where it stands, safe to log.
//!
//! Written out rather than derived, so that a field added later (a request, a response body, a
//! token) shows only once someone has decided it is safe to: the token and the request bodies it
//! holds carry credentials.

use std::fmt;

use super::{Session, Status};

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let channels: Vec<(&str, Status)> = self.channels.statuses().collect();
        let in_flight: Vec<String> = self
            .in_flight
            .iter()
            .map(|(id, r)| format!("{id} {}", r.kind.as_str()))
            .collect();
        f.debug_struct("Session")
            .field("phase", &self.phase)
            .field(
                "endpoint",
                &self.endpoint_url.as_ref().map(crate::redact::Url),
            )
            .field("client_id", &self.client_id)
            .field("has_token", &self.token.is_some())
            .field("channels", &channels)
            .field("in_flight", &in_flight)
            .field("long_poll", &self.long_poll)
            .field("pending_messages", &self.messages.len())
            .field("pending_events", &self.events.len())
            .field("cookies", &self.cookies)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
