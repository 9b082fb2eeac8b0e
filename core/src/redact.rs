//! `Debug` views of requests that leave credentials out: a URL without user info or query, headers
//! without the values that authenticate, a body shown only when it cannot hold a credential.

use std::fmt;

use http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, SET_COOKIE};
use http::{HeaderMap, Uri};

use crate::transmit::RequestKind;

/// Scheme, host, port and path; user info and query are left out (either can hold a secret).
pub(crate) struct Url<'a>(pub(crate) &'a Uri);

impl fmt::Debug for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uri = self.0;
        if let Some(scheme) = uri.scheme_str() {
            write!(f, "{scheme}://")?;
        }
        if let Some(host) = uri.host() {
            f.write_str(host)?;
        }
        if let Some(port) = uri.port_u16() {
            write!(f, ":{port}")?;
        }
        f.write_str(uri.path())?;
        if uri.query().is_some() {
            f.write_str("?…")?;
        }
        Ok(())
    }
}

/// Header names and values, but `***` for every value that authenticates (whether or not it is
/// marked sensitive).
pub(crate) struct Headers<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            let hidden = value.is_sensitive()
                || [&AUTHORIZATION, &PROXY_AUTHORIZATION, &COOKIE, &SET_COOKIE].contains(&name)
                // The Pub/Sub API's access token header.
                || name.as_str() == "accesstoken";
            match (hidden, value.to_str()) {
                (false, Ok(text)) => map.entry(&name.as_str(), &text),
                (false, Err(_)) => map.entry(&name.as_str(), &"(not visible ASCII)"),
                (true, _) => map.entry(&name.as_str(), &"***"),
            };
        }
        map.finish()
    }
}

/// A request body: the text of a Bayeux request (messages, channel names, replay ids, the client
/// id), only the size of anything else. A token request's form holds the password, the client
/// secret, a refresh token or a signed JWT assertion.
pub(crate) struct Body<'a>(pub(crate) RequestKind, pub(crate) &'a [u8]);

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(kind, body) = *self;
        match kind {
            RequestKind::Handshake
            | RequestKind::Connect
            | RequestKind::Control
            | RequestKind::Disconnect => fmt::Debug::fmt(&String::from_utf8_lossy(body), f),
            RequestKind::Token => write!(f, "<{} bytes, not shown: credentials>", body.len()),
        }
    }
}
