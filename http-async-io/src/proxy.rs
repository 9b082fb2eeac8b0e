//! Proxies from the environment, matched by hyper-util's matcher: the variables, their order
//! and the `NO_PROXY` rules of reqwest, and so of the tokio runtime. `HTTP_PROXY`/`http_proxy`
//! for `http` targets, `HTTPS_PROXY`/`https_proxy` for `https` targets, `ALL_PROXY`/`all_proxy`
//! for either; `NO_PROXY`/`no_proxy` lists hosts, domains (with their subdomains), IP
//! addresses and networks to reach directly (`*`: all). In a CGI program (`REQUEST_METHOD`
//! set), where `HTTP_PROXY` may come from a request's `Proxy:` header, none is used.
//!
//! An `https` target is reached through a `CONNECT` tunnel, with TLS inside it; an `http` target
//! by sending the request in absolute form to the proxy. Only `http://` proxies are supported.

use futures_lite::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use sfstream_driver::TransportError;
use sfstream_driver::proxy_tunnel::ConnectTunnel;

use crate::origin::Origin;

/// Stands in the matcher for a variable that holds no usable proxy URL, so that the matcher
/// still decides which requests it applies to (`NO_PROXY` included); those requests then fail.
const UNUSABLE: &str = "http://unusable-proxy.invalid";

/// The proxy settings, read once. `Debug` shows the proxies' hosts, never credentials.
pub struct Proxies {
    matcher: Matcher,
    /// Why the variable for `http` targets is unusable, if it is.
    http_unusable: Option<String>,
    /// Why the variable for `https` targets is unusable, if it is.
    https_unusable: Option<String>,
    tunnel_http: bool,
}

/// A proxy: where it listens and, when its URL names a user, the `Proxy-Authorization` value.
/// `Debug` shows `host:port` only.
#[derive(Clone)]
pub struct Proxy {
    host: String,
    port: u16,
    authorization: Option<HeaderValue>,
}

/// How a request reaches its origin.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Route {
    /// Straight to the origin.
    Direct,
    /// A plain-http request in absolute form to the proxy.
    Forward(Proxy),
    /// A `CONNECT` tunnel through the proxy, then the request as if direct.
    Tunnel(Proxy),
}

impl Default for Proxies {
    fn default() -> Self {
        Self::none()
    }
}

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The matcher's `Debug` shows proxy URLs without their user info.
        f.debug_struct("Proxies")
            .field("matcher", &self.matcher)
            .field("tunnel_http", &self.tunnel_http)
            .finish_non_exhaustive()
    }
}

impl Proxies {
    /// No proxy: every request goes direct.
    #[must_use]
    pub fn none() -> Self {
        Self::from_vars(|_| None)
    }

    /// The process environment's settings.
    #[must_use]
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings that `var` gives, read as [`Proxies::from_env`] reads the environment:
    /// the upper-case name first, the first variable set counts, an empty one counts as unset.
    #[must_use]
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        // hyper-util's own reading of the environment, by name, so that tests can give theirs.
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|name| var(name).map(|value| (name, value)))
                .filter(|(_, value)| !value.trim().is_empty())
        };
        let cgi = var("REQUEST_METHOD").is_some();
        let all = first(["ALL_PROXY", "all_proxy"]);
        let http = first(["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone());
        let https = first(["HTTPS_PROXY", "https_proxy"]).or(all);
        let no = first(["NO_PROXY", "no_proxy"]).map_or_else(String::new, |(_, v)| v);
        if cgi {
            return Self {
                matcher: Matcher::builder().build(),
                http_unusable: None,
                https_unusable: None,
                tunnel_http: false,
            };
        }
        let (http, http_unusable) = checked(http);
        let (https, https_unusable) = checked(https);
        Self {
            matcher: Matcher::builder().http(http).https(https).no(no).build(),
            http_unusable,
            https_unusable,
            tunnel_http: false,
        }
    }

    /// Tunnels `http` targets too, as curl's `--proxytunnel` (default: off, they go to the proxy
    /// in absolute form).
    #[must_use]
    pub fn tunnel_http(mut self, tunnel: bool) -> Self {
        self.tunnel_http = tunnel;
        self
    }

    /// The route to `url`. Fails when the variable that applies holds no usable proxy URL:
    /// going direct instead could send traffic where the environment says it must not go.
    pub fn route(&self, url: &Uri) -> Result<Route, TransportError> {
        let https = Origin::of(url)?.https;
        let Some(intercept) = self.matcher.intercept(url) else {
            return Ok(Route::Direct);
        };
        let unusable = if https {
            &self.https_unusable
        } else {
            &self.http_unusable
        };
        if let Some(why) = unusable {
            return Err(TransportError::Connect(why.clone()));
        }
        let proxy = Proxy::of(&intercept);
        Ok(if https || self.tunnel_http {
            Route::Tunnel(proxy)
        } else {
            Route::Forward(proxy)
        })
    }
}

/// The variable's value for the matcher, and why it is unusable if it is (a URL that does not
/// parse, or a proxy scheme other than `http`). The texts name the variable, never its value:
/// it may hold a password.
fn checked(found: Option<(&'static str, String)>) -> (String, Option<String>) {
    let Some((name, value)) = found else {
        return (String::new(), None);
    };
    let probe = Matcher::builder().all(value.as_str()).build();
    let parsed = probe
        .intercept(&Uri::from_static("http://probe.invalid/"))
        .map(|i| i.uri().clone());
    // A port that is not a number parses, as no port at all: it would mean port 80.
    let bad_port = parsed.as_ref().is_some_and(|uri| {
        let authority = uri.authority().map_or("", |a| a.as_str());
        let after_host = authority
            .rsplit_once(']')
            .map_or(authority, |(_, rest)| rest);
        after_host.contains(':') && uri.port_u16().is_none()
    });
    let scheme = parsed
        .filter(|_| !bad_port)
        .map(|uri| uri.scheme_str().unwrap_or_default().to_owned());
    let why = match scheme.as_deref() {
        Some("http") => return (value, None),
        Some(scheme) => format!(
            "the {name} variable names a {scheme} proxy: only http:// proxies are supported"
        ),
        None => format!(
            "the {name} variable is not a usable proxy URL: give http://[user:password@]host[:port]"
        ),
    };
    (UNUSABLE.to_owned(), Some(why))
}

impl Proxy {
    fn of(intercept: &Intercept) -> Self {
        let uri = intercept.uri();
        let host = uri.host().unwrap_or_default();
        Self {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            // As reqwest: the scheme's port when the URL names none.
            port: uri.port_u16().unwrap_or(80),
            authorization: intercept.basic_auth().cloned(),
        }
    }

    /// The proxy's host, without the brackets of an IPv6 literal.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `Proxy-Authorization` value (marked sensitive), if the proxy's URL named a user.
    #[must_use]
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credentials stay out of logs.
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Opens a tunnel to `origin` through the proxy at the other end of `stream`. Errors name the
/// proxy and the target, never the credentials.
pub(crate) async fn tunnel(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    proxy: &Proxy,
    origin: &Origin,
) -> Result<(), TransportError> {
    let mut handshake =
        ConnectTunnel::new(&origin.bracketed_host(), origin.port, proxy.authorization());
    let target = handshake.target();
    let failed = |why: String| {
        TransportError::Connect(format!("proxy {proxy:?}, CONNECT to {target}: {why}"))
    };
    stream
        .write_all(handshake.request())
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut chunk = [0; 4];
    loop {
        let n = stream
            .read(&mut chunk[..handshake.wanted()])
            .await
            .map_err(|e| failed(e.to_string()))?;
        if handshake.read(&chunk[..n]).map_err(&failed)? {
            return Ok(());
        }
    }
}
