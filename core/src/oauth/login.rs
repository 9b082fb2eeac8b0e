//! Login hosts and the URL rules for sending credentials.

use std::fmt;
use std::net::IpAddr;

use http::Uri;

use super::*;

/// Where the token endpoint lives.
///
/// `Debug` masks user info (`https://user:***@host`) should a URL carry any; such URLs are
/// refused by [`LoginUrl::validate`] anyway.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LoginUrl {
    /// `https://login.salesforce.com`.
    #[default]
    Production,
    /// `https://test.salesforce.com`.
    Sandbox,
    /// Any other base URL: the org's My Domain (`https://MyDomainName.my.salesforce.com`, required
    /// by the client credentials flow), an Experience Cloud site, or a local emulator
    /// (`http://127.0.0.1:8080`: plain `http` is accepted only for loopback hosts).
    Custom(String),
}

impl LoginUrl {
    /// The base URL without a trailing slash.
    #[must_use]
    pub fn base(&self) -> &str {
        match self {
            Self::Production => PRODUCTION_LOGIN,
            Self::Sandbox => SANDBOX_LOGIN,
            Self::Custom(url) => url.trim().trim_end_matches('/'),
        }
    }

    /// The token endpoint: the base plus `/services/oauth2/token`, with no double slash.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base())
    }

    /// Checks that the base is an absolute `https` URL (or `http` to a loopback host) without
    /// user info, query or fragment.
    pub fn validate(&self) -> Result<(), AuthError> {
        let base = self.base();
        check_url_scheme(base).map_err(|detail| AuthError::InvalidConfig {
            detail: format!("login URL: {detail}"),
        })?;
        if base.contains('?') || base.contains('#') {
            return Err(AuthError::InvalidConfig {
                detail: "login URL: must not contain a query or a fragment".to_owned(),
            });
        }
        Ok(())
    }

    /// The JWT `aud` claim used when none is configured.
    ///
    /// Salesforce wants the *authorization server* here, which for My Domain hosts is not the
    /// host the request goes to: a My Domain token endpoint still expects
    /// `https://login.salesforce.com` (or `https://test.salesforce.com` for sandboxes and scratch
    /// orgs), and answers `audience is invalid` or `user hasn't approved this consumer` otherwise
    /// (simple-salesforce#672, restforce#886). Any other custom base (an Experience Cloud site,
    /// an emulator) is its own audience.
    #[must_use]
    pub fn default_audience(&self) -> String {
        match self {
            Self::Production => PRODUCTION_LOGIN.to_owned(),
            Self::Sandbox => SANDBOX_LOGIN.to_owned(),
            Self::Custom(_) => {
                let base = self.base();
                let host = base
                    .parse::<Uri>()
                    .ok()
                    .and_then(|u| u.host().map(str::to_ascii_lowercase));
                match host {
                    Some(h) if h.ends_with(".my.salesforce.com") => {
                        let first_label = h.split('.').next().unwrap_or("");
                        if h.ends_with(".sandbox.my.salesforce.com")
                            || h.ends_with(".scratch.my.salesforce.com")
                            || first_label.contains("--")
                        {
                            SANDBOX_LOGIN.to_owned()
                        } else {
                            PRODUCTION_LOGIN.to_owned()
                        }
                    }
                    _ => base.to_owned(),
                }
            }
        }
    }
}

/// A URL: [`LoginUrl::Custom`] (checked when the client is built).
impl From<&str> for LoginUrl {
    fn from(url: &str) -> Self {
        Self::Custom(url.to_owned())
    }
}

/// A URL: [`LoginUrl::Custom`] (checked when the client is built).
impl From<String> for LoginUrl {
    fn from(url: String) -> Self {
        Self::Custom(url)
    }
}

impl fmt::Debug for LoginUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Production => f.write_str("Production"),
            Self::Sandbox => f.write_str("Sandbox"),
            Self::Custom(url) => f
                .debug_tuple("Custom")
                .field(&redact_userinfo(url))
                .finish(),
        }
    }
}

/// `scheme://user:pass@host/…` → `scheme://***@host/…`; other URLs unchanged.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// Whether `host` names this machine: `localhost`, an address in `127.0.0.0/8`, or `::1`
/// (brackets and IPv4-mapped forms accepted).
///
/// Loopback traffic never leaves the machine, so plain `http` and non-`Secure` cookie contexts are
/// acceptable there (browsers treat it the same way); this is what lets the local emulator work.
#[must_use]
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    host.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Checks that `uri` may carry credentials: `https`, or `http` to a loopback host.
///
/// The error names the problem and the fix; it contains the host but never user info.
pub fn check_uri_scheme(uri: &Uri) -> Result<(), String> {
    let Some(authority) = uri.authority() else {
        return Err(
            "must be an absolute URL such as https://MyDomainName.my.salesforce.com".into(),
        );
    };
    if authority.as_str().contains('@') {
        return Err("must not contain user info (credentials belong in the credentials)".into());
    }
    let host = authority.host();
    if host.is_empty() {
        return Err("has no host".into());
    }
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Ok(()),
        Some("http") if is_loopback_host(host) => Ok(()),
        Some("http") => Err(format!(
            "plain http:// to {host} would send credentials unencrypted: use https:// \
             (plain http is accepted only for loopback hosts such as 127.0.0.1 or localhost)"
        )),
        _ => Err("unsupported URL scheme: use https://".into()),
    }
}

/// [`check_uri_scheme`] for a URL string (a login base or the `instance_url` of a token).
pub fn check_url_scheme(url: &str) -> Result<(), String> {
    let uri = url
        .trim()
        .parse::<Uri>()
        .map_err(|_| "is not a valid absolute URL".to_owned())?;
    check_uri_scheme(&uri)
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("127.255.0.9"));
        assert!(is_loopback_host("::1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("::ffff:127.0.0.1"));
        assert!(!is_loopback_host("128.0.0.1"));
        assert!(!is_loopback_host("localhost.evil.com"));
        assert!(!is_loopback_host("10.0.0.1"));
        assert!(!is_loopback_host("::2"));
    }
}
