//! Transport failures recognised from their text and explained in the user's terms.
//!
//! The runtimes report a failed connection as the HTTP client's error chain, which for some
//! configuration mistakes names a symptom rather than the cause. The driver reports every retry
//! as a tracing event; the logger hands each retry's reason to [`observe`], which remembers the
//! first mistake recognised so that `listen` can stop at startup instead of retrying in vain.

use std::sync::Mutex;

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

/// The mistake `reason` (a transport error's text) shows, if it is one recognised here.
pub(crate) fn recognise(reason: &str) -> Option<Mistake> {
    reason
        .contains("InvalidContentType")
        .then_some(Mistake::NotTls)
}

/// The first recognised mistake, and a wake-up for whoever waits for one.
static FIRST: Mutex<Option<(Mistake, String)>> = Mutex::new(None);
static SEEN: Notify = Notify::const_new();

/// Records the reason of a failed request.
pub(crate) fn observe(reason: &str) {
    let Some(mistake) = recognise(reason) else {
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
    fn a_plain_http_answer_to_tls_is_recognised() {
        let reason = "token request failed: could not connect: error sending request for url \
                      (https://127.0.0.1:8080/services/oauth2/token): client error (Connect): \
                      received corrupt message of type InvalidContentType; retrying with backoff";
        assert_eq!(recognise(reason), Some(Mistake::NotTls));
        assert_eq!(
            url_in(reason),
            Some("https://127.0.0.1:8080/services/oauth2/token")
        );
        assert_eq!(recognise("could not connect: connection refused"), None);
    }
}
