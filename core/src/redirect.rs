//! Redirects are refused, never followed.
//!
//! Every request the session makes carries a credential: a token request's form (password,
//! client secret, refresh token, signed assertion), the bearer token, the session cookies. An HTTP
//! client that followed a redirect would send them again to wherever the server pointed, another
//! host or plain `http`, past the checks made on the configured URLs. So adapters configure their
//! clients to follow none, and a 3xx answer ends the session with a configuration error that
//! names where the redirect pointed: the URL configured is not the one to use.

use http::header::LOCATION;
use http::response::Parts;

use crate::config::Endpoint;
use crate::error::Error;
use crate::transmit::RequestKind;

/// The error for a redirect answer to a request of `kind`, or `None` if `head` is no redirect.
pub(crate) fn refused(kind: RequestKind, head: &Parts, endpoint: &Endpoint) -> Option<Error> {
    if !head.status.is_redirection() {
        return None;
    }
    let to = match head.headers.get(LOCATION).map(|v| v.to_str()) {
        Some(Ok(location)) => target(location),
        Some(Err(_)) => "a Location that is not visible ASCII".to_owned(),
        None => "no Location".to_owned(),
    };
    let fix = match (kind, endpoint) {
        (RequestKind::Token, _) => {
            "set the login URL to the server that should receive the credentials \
             (often the org's My Domain URL, https://MyDomainName.my.salesforce.com)"
        }
        (_, Endpoint::Salesforce { .. }) => {
            "check the instance URL (the one given with a ready access token, or the \
             instance_url the token endpoint returned) and the API version"
        }
        (_, Endpoint::Bayeux { .. }) => {
            "set the Bayeux endpoint URL to the server that should receive the requests"
        }
    };
    Some(Error::Config(format!(
        "the {kind} request was redirected (HTTP {status}) to {to}; sfstream follows no \
         redirect, so that credentials never go to a server they were not meant for: {fix}",
        kind = kind.as_str(),
        status = head.status.as_u16(),
    )))
}

/// Where a `Location` points, for the error: scheme, host and port of an absolute one (user
/// info, path and query can hold secrets and are left out).
fn target(location: &str) -> String {
    let Ok(uri) = location.trim().parse::<http::Uri>() else {
        return "an unreadable Location".to_owned();
    };
    match uri.host() {
        Some(host) => {
            let mut to = format!("{}://{host}", uri.scheme_str().unwrap_or("http"));
            if let Some(port) = uri.port_u16() {
                to.push_str(&format!(":{port}"));
            }
            format!("host {host} ({to})")
        }
        None => "another path on the same server".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::Credentials;
    use crate::secret::Secret;

    fn head(status: u16, location: Option<&str>) -> Parts {
        let mut b = http::Response::builder().status(status);
        if let Some(l) = location {
            b = b.header(LOCATION, l);
        }
        b.body(()).expect("a response").into_parts().0
    }

    fn salesforce() -> Endpoint {
        Endpoint::Salesforce {
            credentials: Credentials::AccessToken {
                access_token: Secret::new("t"),
                instance_url: "https://a.example.com".into(),
            },
            api_version: "64.0".into(),
        }
    }

    #[test]
    fn names_the_host_and_the_fix() {
        for status in [301, 302, 303, 307, 308] {
            let e = refused(
                RequestKind::Token,
                &head(
                    status,
                    Some("http://user:pw@evil.example.net:8080/x?code=SECRET"),
                ),
                &salesforce(),
            )
            .expect("a redirect is refused")
            .to_string();
            assert!(e.contains("evil.example.net:8080"), "{e}");
            assert!(e.contains(&format!("HTTP {status}")), "{e}");
            assert!(e.contains("login URL"), "{e}");
            assert!(!e.contains("SECRET") && !e.contains("user:pw"), "{e}");
        }
        let e = refused(
            RequestKind::Handshake,
            &head(302, Some("/elsewhere")),
            &salesforce(),
        )
        .expect("refused")
        .to_string();
        assert!(
            e.contains("same server") && e.contains("instance URL"),
            "{e}"
        );
        let bayeux = Endpoint::Bayeux {
            url: "https://b.example.com/cometd".into(),
        };
        let e = refused(RequestKind::Connect, &head(307, None), &bayeux)
            .expect("refused")
            .to_string();
        assert!(
            e.contains("no Location") && e.contains("Bayeux endpoint URL"),
            "{e}"
        );
    }

    #[test]
    fn other_statuses_pass() {
        for status in [200, 204, 400, 401, 404, 500, 503] {
            assert!(refused(RequestKind::Token, &head(status, None), &salesforce()).is_none());
        }
    }
}
