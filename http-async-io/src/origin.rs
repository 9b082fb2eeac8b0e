//! Where a request goes: scheme, host and port, the key of the connection pool.

use http::Uri;
use sfstream_driver::TransportError;

/// Scheme, host and port: the requests that may share a connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub(crate) https: bool,
    /// Lower case, without the brackets of an IPv6 literal.
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Origin {
    pub(crate) fn of(uri: &Uri) -> Result<Self, TransportError> {
        // The URL itself stays out of the error text: its query could carry a secret.
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            _ => return Err(TransportError::Other("the URL is not http or https".into())),
        };
        let host = uri
            .host()
            .ok_or_else(|| TransportError::Other("the URL has no host".into()))?;
        Ok(Self {
            https,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        })
    }

    /// The host as it appears in a URL: an IPv6 literal in brackets.
    pub(crate) fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    pub(crate) fn host_header(&self) -> String {
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            self.bracketed_host()
        } else {
            format!("{}:{}", self.bracketed_host(), self.port)
        }
    }
}
