//! Phase transitions: authenticating, handshaking, waiting to try again, closing.
//!
//! What follows a failure is decided here, by the failed request's kind and its error's class
//! (`error::classify`): a configuration or permission error ends the session; a refused token is
//! renewed if the credentials can, a lost Bayeux session is handshaken again (at once the first
//! time, then with backoff), a long poll or control request that failed is retried after the
//! backoff's delay.

use std::time::{Duration, Instant};

use http::Uri;

use super::early::Arrival;
use super::{InFlight, LongPoll, Phase, Session, Step};
use crate::bayeux::{self, Outgoing};
use crate::config::Endpoint;
use crate::error::{Error, ErrorClass};
use crate::oauth::{self, AuthError, Token};
use crate::time::later;
use crate::transmit::{RequestKind, Transmit};
use crate::{DisconnectReason, Event};

impl Session {
    pub(super) fn start_auth(&mut self, now: Instant) {
        let Endpoint::Salesforce { credentials, .. } = &self.config.endpoint else {
            self.start_handshake(now);
            return;
        };
        let request = credentials.token_request(self.wall(now));
        match request {
            Ok(Some(request)) => {
                self.phase = Phase::Authenticating;
                self.stats.token_requests += 1;
                let id = self.request_id();
                let deadline = later(now, self.config.request_timeout);
                let request = self.with_cookies(request, now);
                self.in_flight.insert(
                    id,
                    InFlight::new(RequestKind::Token, now, deadline, Vec::new()),
                );
                self.transmits.push_back(Transmit {
                    id,
                    kind: RequestKind::Token,
                    request,
                    deadline,
                });
            }
            Ok(None) => {
                // A ready token that the server refused: nothing can make a new one.
                self.fatal(Error::Auth(AuthError::TokenRefused {
                    detail: "it cannot be renewed: give a new \
                             token, or credentials that can fetch one (refresh token, JWT, \
                             password, client credentials)"
                        .into(),
                }));
            }
            Err(e) => self.fatal(Error::Auth(e)),
        }
    }

    pub(super) fn on_token(
        &mut self,
        status: http::StatusCode,
        body: &[u8],
        due: Instant,
        now: Instant,
    ) {
        match oauth::parse_token_response(status, body) {
            Ok(token) => self.use_token(token, now),
            Err(e) => {
                // Only load and rate limits are worth retrying; a refusal or a page that is
                // not a token endpoint needs the user to fix the configuration.
                if e.is_transient() {
                    // A token endpoint that cannot serve is an outage like any other.
                    self.unreachable(due.min(now));
                    self.wait_then(
                        Step::Authenticate,
                        Error::Auth(e),
                        ErrorClass::Transient,
                        now,
                    );
                } else {
                    self.fatal(Error::Auth(e));
                }
            }
        }
    }

    pub(super) fn use_token(&mut self, token: Token, now: Instant) {
        let Endpoint::Salesforce { api_version, .. } = &self.config.endpoint else {
            return;
        };
        if let Err(e) = oauth::check_url_scheme(&token.instance_url) {
            self.fatal(Error::Config(format!(
                "instance URL from the token response: {e}"
            )));
            return;
        }
        let url = format!(
            "{}/cometd/{}",
            token.instance_url.trim_end_matches('/'),
            api_version
        );
        match url.parse::<Uri>() {
            Ok(uri) => self.endpoint_url = Some(uri),
            Err(e) => {
                self.fatal(Error::Config(format!(
                    "instance URL {:?}: {e}",
                    token.instance_url
                )));
                return;
            }
        }
        self.events.push_back(Event::Authenticated {
            instance_url: token.instance_url.clone(),
            org_id: token.org_id().map(str::to_owned),
        });
        self.token = Some(token);
        self.start_handshake(now);
    }

    pub(super) fn start_handshake(&mut self, now: Instant) {
        self.abandon_all();
        // A new Bayeux session starts with a clean jar: stale load-balancer affinity cookies
        // would route the handshake to the server that just lost the session.
        self.cookies.clear();
        self.client_id = None;
        self.connected_once = false;
        self.phase = Phase::Handshaking;
        self.stats.handshakes += 1;
        let id = self.message_id();
        let text = Outgoing::handshake(&id, self.config.uses_replay());
        let body = bayeux::batch([self.config.extensions.outgoing(text).as_str()]);
        let deadline = later(now, self.config.request_timeout);
        self.send_cometd(RequestKind::Handshake, body, now, deadline, Vec::new());
    }

    /// Decides what follows a failed request, by the class of its error.
    pub(super) fn request_failed(
        &mut self,
        req: InFlight,
        err: Error,
        class: ErrorClass,
        now: Instant,
    ) {
        let kind = req.kind;
        // Any failure counts toward the connection timeout until a long poll succeeds again:
        // a server that answers every request with an error is as unusable as one that is down.
        // The outage began when the failed attempt was due an answer, not when it failed.
        self.unreachable(req.due.min(now));
        match class {
            ErrorClass::Config => {
                self.fatal(err);
                return;
            }
            ErrorClass::Permission | ErrorClass::Channel if kind != RequestKind::Control => {
                self.fatal(err);
                return;
            }
            _ => {}
        }
        match (kind, class) {
            (RequestKind::Disconnect, _) => self.finish(DisconnectReason::Closed),
            (RequestKind::Token, _) => self.wait_then(Step::Authenticate, err, class, now),
            (_, ErrorClass::SessionLost) => self.session_lost(err, now),
            (_, ErrorClass::Auth) => {
                let can_refresh = match &self.config.endpoint {
                    Endpoint::Salesforce { credentials, .. } => credentials.can_refresh(),
                    Endpoint::Bayeux { .. } => false,
                };
                if can_refresh {
                    self.stats.reauthentications += 1;
                    self.wait_then(Step::Authenticate, err, class, now);
                } else if self.config.uses_replay() {
                    let said = match &err {
                        Error::Server(e) => {
                            e.error.raw().to_owned()
                                + &e.failure_reason
                                    .as_ref()
                                    .map(|r| format!(" ({r})"))
                                    .unwrap_or_default()
                        }
                        other => other.to_string(),
                    };
                    self.fatal(Error::Auth(AuthError::TokenRefused {
                        detail: format!(
                            "the server refused it ({said}) and it cannot be renewed: \
                             give a new token, or credentials that can fetch one (refresh token, \
                             JWT, password, client credentials)"
                        ),
                    }));
                } else {
                    self.wait_then(Step::Handshake, err, class, now);
                }
            }
            (RequestKind::Handshake, _) => self.wait_then(Step::Handshake, err, class, now),
            (RequestKind::Connect, _) if req.arrival == Arrival::Early => {
                // Its successor went out when it arrived: that is the retry.
                self.events.push_back(Event::Reconnecting {
                    after: Duration::ZERO,
                    reason: err,
                });
            }
            (RequestKind::Connect, _) => {
                let delay = self.backoff.next_delay(class == ErrorClass::Limit);
                self.long_poll = LongPoll::Scheduled {
                    at: later(now, delay),
                    immediate: false,
                    early: false,
                };
                self.events.push_back(Event::Reconnecting {
                    after: delay,
                    reason: err,
                });
            }
            (RequestKind::Control, _) => {
                let channels = &self.channels;
                self.control
                    .retry(req.ops, |channel| channels.contains(channel));
                let delay = self.backoff.next_delay(class == ErrorClass::Limit);
                self.control.wait_until(later(now, delay));
                self.events.push_back(Event::Reconnecting {
                    after: delay,
                    reason: err,
                });
            }
        }
    }

    /// The Bayeux session is gone: handshake again (at once the first time, then with backoff)
    /// and resubscribe everything, whatever the advice said.
    pub(super) fn session_lost(&mut self, err: Error, now: Instant) {
        self.stats.sessions_lost += 1;
        self.wait_then(Step::Handshake, err, ErrorClass::SessionLost, now);
    }

    pub(super) fn wait_then(&mut self, then: Step, err: Error, class: ErrorClass, now: Instant) {
        if self.client_id.is_some() {
            self.events.push_back(Event::SessionLost {
                reason: err.clone(),
            });
        }
        self.abandon_all();
        self.client_id = None;
        self.channels.wait_all();
        self.control.reset();
        // The first session loss or token refusal is answered at once; repeats back off, so
        // that a server that keeps refusing never sees a tight loop.
        let delay = match class {
            ErrorClass::SessionLost | ErrorClass::Auth if self.backoff.failures() == 0 => {
                self.backoff.next_delay(false);
                Duration::ZERO
            }
            _ => self.backoff.next_delay(class == ErrorClass::Limit),
        };
        self.phase = Phase::Waiting {
            until: later(now, delay),
            then,
        };
        self.events.push_back(Event::Reconnecting {
            after: delay,
            reason: err,
        });
        if delay.is_zero() {
            match then {
                Step::Authenticate => self.start_auth(now),
                Step::Handshake => self.start_handshake(now),
            }
        }
    }

    pub(super) fn fatal(&mut self, err: Error) {
        self.finish(DisconnectReason::Failed(err));
    }

    pub(super) fn finish(&mut self, reason: DisconnectReason) {
        if self.phase == Phase::Closed {
            return;
        }
        self.abandon_all();
        self.control.clear();
        if let DisconnectReason::Failed(e) | DisconnectReason::ServerClosed(e) = &reason {
            self.ended_by = Some(e.clone());
        }
        self.phase = Phase::Closed;
        self.client_id = None;
        self.cookies.clear();
        self.events.push_back(Event::Disconnected(reason));
    }
}
