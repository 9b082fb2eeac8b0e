//! Transport failures recognised by their kind and explained in the user's terms.
//!
//! The runtimes report a failed connection with a kind ([`TransportErrorKind`]) beside the HTTP
//! client's error chain, which for some configuration mistakes names a symptom rather than the
//! cause. Every retry comes as a session event carrying the error; `listen`'s status printer
//! (`session_status.rs`) hands each retry's transport kind and reason to [`observe`], which
//! remembers the first mistake recognised so that `listen` can stop at startup instead of
//! retrying in vain.

use std::sync::Mutex;

use sfstream_tokio::TransportErrorKind;
use tokio::sync::Notify;

/// A configuration mistake recognised in a transport error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mistake {
    /// An `https://` URL reached a server that answered in plain HTTP (rustls reads the reply's
    /// `HTTP/1.1` as a record of type `InvalidContentType`).
    NotTls,
}

impl Mistake {
    /// What it means and what to do.
    pub(crate) fn explanation(self) -> &'static str {
        match self {
            Self::NotTls => {
                "the server does not speak TLS: it answered an https:// request in plain HTTP. \
                 Use the port where it serves https, or http:// for a local plain-HTTP server \
                 such as the emulator (plain http is accepted for loopback hosts only)"
            }
        }
    }
}

/// The mistake a transport error of this kind (its stable name, as the driver logs it) shows,
/// if it is one recognised here.
pub(crate) fn recognise(transport_kind: &str) -> Option<Mistake> {
    (transport_kind == TransportErrorKind::NotTls.as_str()).then_some(Mistake::NotTls)
}

/// The first recognised mistake, and a wake-up for whoever waits for one.
static FIRST: Mutex<Option<(Mistake, String)>> = Mutex::new(None);
static SEEN: Notify = Notify::const_new();

/// Records the transport kind and reason (its text, for the URL it names) of a failed request.
pub(crate) fn observe(transport_kind: &str, reason: &str) {
    let Some(mistake) = recognise(transport_kind) else {
        return;
    };
    let mut first = FIRST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if first.is_none() {
        *first = Some((mistake, url_in(reason).unwrap_or_default().to_owned()));
        SEEN.notify_waiters();
    }
}

/// Completes with the first mistake recognised (and the URL its error named, or ""), now or
/// when one is.
pub(crate) async fn first_mistake() -> (Mistake, String) {
    loop {
        let notified = SEEN.notified();
        if let Some(found) = FIRST
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return found;
        }
        notified.await;
    }
}

/// The URL an HTTP client's error names, as in `… for url (https://host:port/path): …`.
fn url_in(reason: &str) -> Option<&str> {
    let start = reason.find("(https://")? + 1;
    let len = reason[start..].find(')')?;
    Some(&reason[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_http_answer_to_tls_is_recognised_by_its_kind() {
        let reason = "token request failed: the server answered TLS in plain HTTP: error \
                      sending request for url (https://127.0.0.1:8080/services/oauth2/token): \
                      client error (Connect): received corrupt message of type \
                      InvalidContentType";
        assert_eq!(recognise("not_tls"), Some(Mistake::NotTls));
        assert_eq!(
            url_in(reason),
            Some("https://127.0.0.1:8080/services/oauth2/token")
        );
        assert_eq!(recognise(TransportErrorKind::Connect.as_str()), None);
        assert_eq!(recognise(""), None);
    }
}
