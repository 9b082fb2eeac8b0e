//! Building requests: ids, the CometD request with its token and cookies, where each kind goes.

use std::time::Instant;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE};
use http::{Method, Request, Uri};

use super::control::SentOps;
use super::{InFlight, Session};
use crate::config::Endpoint;
use crate::error::Error;
use crate::transmit::{RequestId, RequestKind, Transmit};

impl Session {
    pub(super) fn message_id(&mut self) -> String {
        self.message_ids.next_id()
    }

    pub(super) fn request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    pub(super) fn send_cometd(
        &mut self,
        kind: RequestKind,
        body: Vec<u8>,
        due: Instant,
        deadline: Instant,
        ops: SentOps,
    ) -> Option<RequestId> {
        let Some(url) = self.endpoint_url.clone() else {
            self.fatal(Error::Config("no endpoint URL".into()));
            return None;
        };
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json");
        if let Some(token) = &self.token {
            builder = builder.header(AUTHORIZATION, token.authorization_header());
        }
        let request = match builder.body(body) {
            Ok(r) => r,
            Err(e) => {
                self.fatal(Error::Config(format!("cannot build a request: {e}")));
                return None;
            }
        };
        let request = self.with_cookies(request, self.last_now);
        let id = self.request_id();
        self.in_flight
            .insert(id, InFlight::new(kind, due, deadline, ops));
        self.transmits.push_back(Transmit {
            id,
            kind,
            request,
            deadline,
        });
        Some(id)
    }

    pub(super) fn with_cookies(
        &self,
        mut request: Request<Vec<u8>>,
        now: Instant,
    ) -> Request<Vec<u8>> {
        if let Some(v) = self.cookies.header_for(request.uri(), self.wall(now)) {
            request.headers_mut().insert(COOKIE, v);
        }
        request
    }

    pub(super) fn request_url(&self, kind: RequestKind) -> Option<Uri> {
        match kind {
            RequestKind::Token => match &self.config.endpoint {
                Endpoint::Salesforce { credentials, .. } => {
                    credentials.login().and_then(|l| l.token_url().parse().ok())
                }
                Endpoint::Bayeux { .. } => None,
            },
            _ => self.endpoint_url.clone(),
        }
    }
}
