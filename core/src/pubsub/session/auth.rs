//! OAuth for the Pub/Sub session: the same credentials and token requests as the Streaming
//! API, and the tenant id every call carries.
//!
//! A refused token (`UNAUTHENTICATED`) is renewed once for all the calls that met it: each call
//! remembers the token generation it was opened with, and only a refusal of the current
//! generation asks for a new token. The first renewal goes at once; renewals that follow
//! without a call succeeding in between back off.

use std::time::{Duration, Instant};

use http::Response;

use crate::backoff::Backoff;
use crate::config::Endpoint;
use crate::oauth::{self, AuthError, Token};
use crate::transmit::{RequestId, RequestKind, Transmit, TransportError};

use super::error::PubSubError;
use super::event::PubSubEvent;
use super::request::Metadata;
use super::{Phase, PubSubSession};

/// The token, and the request that fetches the next one.
#[derive(Debug)]
pub(super) struct Auth {
    metadata: Option<Metadata>,
    tenant_id: Option<String>,
    /// The token's user, from its identity URL (for `CreatedById` when publishing).
    user_id: Option<String>,
    /// Whether the token is believed good (no call has met a refusal of it).
    valid: bool,
    /// Counts tokens; a call opened with an older one that is refused needs no new token.
    generation: u64,
    request: Option<(RequestId, Instant)>,
    /// When to ask for a token (after a backoff).
    wait_until: Option<Instant>,
    backoff: Backoff,
}

impl std::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metadata(***)")
    }
}

impl Auth {
    pub(super) fn new(backoff: Backoff) -> Self {
        Self {
            metadata: None,
            tenant_id: None,
            user_id: None,
            valid: false,
            generation: 0,
            request: None,
            wait_until: None,
            backoff,
        }
    }

    pub(super) fn is_valid(&self) -> bool {
        self.valid && self.metadata.is_some()
    }

    pub(super) fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref().filter(|_| self.valid)
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    pub(super) fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    pub(super) fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    pub(super) fn is_requesting(&self) -> bool {
        self.request.is_some()
    }

    pub(super) fn next_wake(&self) -> Option<Instant> {
        match (self.request, self.wait_until) {
            (Some((_, deadline)), _) => Some(deadline),
            (None, until) => until,
        }
    }

    /// A call opened with token `generation` got through: refusals start backing off afresh.
    pub(super) fn healthy(&mut self, generation: u64) {
        if generation == self.generation {
            self.backoff.reset();
        }
    }

    /// Forgets the token request in flight, if any, for the adapter to abort.
    pub(super) fn abandon(&mut self) -> Option<RequestId> {
        self.wait_until = None;
        self.request.take().map(|(id, _)| id)
    }
}

impl PubSubSession {
    /// Gets the first token: ready credentials at once, the others by a token request.
    pub(super) fn authenticate(&mut self, now: Instant) {
        match self.config.credentials.ready_token() {
            Some(token) => self.use_token(token),
            None => self.request_token(now),
        }
    }

    fn request_token(&mut self, now: Instant) {
        self.auth.wait_until = None;
        let wall = self.wall(now);
        match self.config.credentials.token_request(wall) {
            Ok(Some(request)) => {
                self.stats.token_requests += 1;
                let id = self.request_id();
                let deadline = now + self.config.request_timeout;
                self.auth.request = Some((id, deadline));
                self.transmits.push_back(Transmit {
                    id,
                    kind: RequestKind::Token,
                    request,
                    deadline,
                });
            }
            Ok(None) => self.fatal(PubSubError::Auth(AuthError::TokenRefused {
                detail: "it cannot be renewed: give a new token, or credentials that can fetch \
                         one (refresh token, JWT, password, client credentials)"
                    .into(),
            })),
            Err(e) => self.fatal(PubSubError::Auth(e)),
        }
    }

    /// Feeds the response to a token request.
    pub fn handle_response(&mut self, id: RequestId, response: Response<Vec<u8>>, now: Instant) {
        self.tick(now);
        if self.auth.request.is_none_or(|(r, _)| r != id) {
            tracing::trace!(%id, "response to an abandoned token request ignored");
            return;
        }
        self.auth.request = None;
        let (head, body) = response.into_parts();
        // Only the token request's own rule applies here, whatever the endpoint.
        let no_endpoint = Endpoint::Bayeux { url: String::new() };
        if let Some(refused) = crate::redirect::refused(RequestKind::Token, &head, &no_endpoint) {
            self.fatal(PubSubError::Config(refused.to_string()));
            return;
        }
        match oauth::parse_token_response(head.status, &body) {
            Ok(token) => self.use_token(token),
            Err(e) if e.is_transient() => self.token_retry(PubSubError::Auth(e), now),
            Err(e) => self.fatal(PubSubError::Auth(e)),
        }
        self.drive(now);
    }

    /// Reports that a token request got no response.
    pub fn handle_transport_error(&mut self, id: RequestId, error: TransportError, now: Instant) {
        self.tick(now);
        if self.auth.request.is_none_or(|(r, _)| r != id) {
            return;
        }
        self.auth.request = None;
        self.token_retry(PubSubError::Transport(error), now);
        self.drive(now);
    }

    fn token_retry(&mut self, reason: PubSubError, now: Instant) {
        let after = self.auth.backoff.next_delay(false);
        self.auth.wait_until = Some(now + after);
        self.events.push_back(PubSubEvent::Reconnecting {
            topic: None,
            after,
            reason,
        });
    }

    /// The token timers: a token request past its deadline, a backoff that passed.
    pub(super) fn auth_timeout(&mut self, now: Instant) {
        if let Some((id, deadline)) = self.auth.request {
            if deadline <= now {
                self.cancels.push_back(id);
                self.auth.request = None;
                self.token_retry(PubSubError::Transport(TransportError::Timeout), now);
            }
        }
        if self.auth.wait_until.is_some_and(|t| t <= now) && self.phase == Phase::Running {
            self.request_token(now);
        }
    }

    fn use_token(&mut self, token: Token) {
        if let Err(e) = oauth::check_url_scheme(&token.instance_url) {
            self.fatal(PubSubError::Config(format!(
                "instance URL from the token response: {e}"
            )));
            return;
        }
        let tenant = self
            .config
            .tenant_id
            .clone()
            .or_else(|| token.org_id().map(str::to_owned))
            .or_else(|| {
                token
                    .access_token
                    .expose()
                    .split_once('!')
                    .map(|(org, _)| org.to_owned())
                    .filter(|org| !org.is_empty() && org.bytes().all(|b| b.is_ascii_alphanumeric()))
            });
        let Some(tenant) = tenant else {
            self.fatal(PubSubError::Config(
                "the org id (tenant id) is unknown: the token response has no identity URL and \
                 the access token no org prefix; set the tenant id in the configuration"
                    .into(),
            ));
            return;
        };
        let metadata = match Metadata::new(&token, &tenant) {
            Ok(m) => m,
            Err(e) => {
                self.fatal(e);
                return;
            }
        };
        self.auth.metadata = Some(metadata);
        self.auth.tenant_id = Some(tenant.clone());
        self.auth.user_id = token.user_id().map(str::to_owned);
        self.auth.valid = true;
        self.auth.generation += 1;
        self.events.push_back(PubSubEvent::Authenticated {
            instance_url: token.instance_url.clone(),
            tenant_id: tenant,
        });
        self.needs_drive = true;
    }

    /// A call opened with token `generation` was refused (`UNAUTHENTICATED`): renew the token
    /// unless that is under way already. The call is made again once a token is valid.
    pub(super) fn auth_refused(&mut self, generation: u64, reason: PubSubError, now: Instant) {
        if generation != self.auth.generation || !self.auth.valid {
            return;
        }
        self.auth.valid = false;
        if !self.config.credentials.can_refresh() {
            self.fatal(PubSubError::Auth(AuthError::TokenRefused {
                detail: format!(
                    "the server refused it ({reason}) and it cannot be renewed: give a new token, \
                     or credentials that can fetch one (refresh token, JWT, password, client \
                     credentials)"
                ),
            }));
            return;
        }
        self.stats.reauthentications += 1;
        self.events
            .push_back(PubSubEvent::Reauthenticating { reason });
        let delay = if self.auth.backoff.failures() == 0 {
            self.auth.backoff.next_delay(false);
            Duration::ZERO
        } else {
            self.auth.backoff.next_delay(false)
        };
        if delay.is_zero() {
            if !self.auth.is_requesting() {
                self.request_token(now);
            }
        } else {
            self.auth.wait_until = Some(now + delay);
        }
    }
}
