//! Proxies from the environment, read the way curl (and so isahc) reads them: `http_proxy` for
//! `http` targets (lower case only: CGI servers put a request's `Proxy:` header in
//! `HTTP_PROXY`), `https_proxy` or `HTTPS_PROXY` for `https` targets, `all_proxy` or
//! `ALL_PROXY` for either, and `no_proxy` or `NO_PROXY` for the hosts to reach directly.
//!
//! An `https` target is reached through a `CONNECT` tunnel, with TLS inside it; an `http` target
//! by sending the request in absolute form to the proxy.

use base64::Engine as _;
use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};
use http::HeaderValue;
use sfstream_driver::TransportError;

use super::Origin;

/// The proxy settings, parsed once when the client is made.
#[derive(Clone, Default)]
pub(crate) struct ProxyEnv {
    http: Option<Result<Proxy, String>>,
    https: Option<Result<Proxy, String>>,
    no_proxy: Vec<String>,
    /// Tunnel `http` targets too (as curl's `--proxytunnel`); the tests use it to tunnel to
    /// the plain-http emulator.
    pub(crate) tunnel_http: bool,
}

/// A proxy: where it listens and, when its URL names a user, the `Proxy-Authorization` value.
#[derive(Clone)]
pub(crate) struct Proxy {
    pub(crate) host: String,
    pub(crate) port: u16,
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credentials stay out of logs.
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// How a request reaches its origin.
#[derive(Debug)]
pub(crate) enum Route<'a> {
    Direct,
    /// A plain-http request in absolute form to the proxy.
    Forward(&'a Proxy),
    /// A `CONNECT` tunnel through the proxy, then the request as if direct.
    Tunnel(&'a Proxy),
}

impl ProxyEnv {
    /// The process environment's settings.
    pub(crate) fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings that `var` gives (an empty value counts as unset).
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |names: &[&'static str]| -> Option<(&'static str, String)> {
            names
                .iter()
                .filter_map(|name| var(name).map(|v| (*name, v)))
                .find(|(_, v)| !v.trim().is_empty())
        };
        let parse = |found: Option<(&str, String)>| {
            found.map(|(name, value)| {
                Proxy::parse(value.trim())
                    .map_err(|why| format!("the {name} variable is not a usable proxy URL: {why}"))
            })
        };
        let all = ["all_proxy", "ALL_PROXY"];
        let no_proxy = get(&["no_proxy", "NO_PROXY"]).map_or_else(Vec::new, |(_, v)| {
            v.split(',')
                .map(|entry| {
                    let entry = entry.trim().to_ascii_lowercase();
                    let entry = entry.trim_start_matches("*.").trim_start_matches('.');
                    entry
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_owned()
                })
                .filter(|entry| !entry.is_empty())
                .collect()
        });
        Self {
            http: parse(get(&["http_proxy"]).or_else(|| get(&all))),
            https: parse(get(&["https_proxy", "HTTPS_PROXY"]).or_else(|| get(&all))),
            no_proxy,
            tunnel_http: false,
        }
    }

    /// The route to `origin`. Fails when the variable that applies holds no usable proxy URL:
    /// going direct instead could send traffic where the environment says it must not go.
    pub(crate) fn route(&self, origin: &Origin) -> Result<Route<'_>, TransportError> {
        let proxy = if origin.https {
            &self.https
        } else {
            &self.http
        };
        let Some(proxy) = proxy else {
            return Ok(Route::Direct);
        };
        if self.bypasses(&origin.host) {
            return Ok(Route::Direct);
        }
        let proxy = proxy
            .as_ref()
            .map_err(|e| TransportError::Connect(e.clone()))?;
        Ok(if origin.https || self.tunnel_http {
            Route::Tunnel(proxy)
        } else {
            Route::Forward(proxy)
        })
    }

    /// Whether `no_proxy` names `host`: `*`, the host itself, or a domain it is in.
    fn bypasses(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.no_proxy.iter().any(|entry| {
            entry == "*"
                || host == *entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

impl Proxy {
    /// `[http://][user[:password]@]host[:port][/]`. Without a port, 1080, as curl assumes.
    fn parse(url: &str) -> Result<Self, String> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            // The scheme is safe to name; the rest of the URL may hold a password.
            Some((scheme, _)) => return Err(format!("proxy scheme {scheme:?} is not supported")),
            None => url,
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport).ok_or("no host, or a bad port")?;
        let authorization = match userinfo {
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let credentials =
                    format!("{}:{}", percent_decode(user)?, percent_decode(password)?);
                let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
                let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
                    .map_err(|_| "bad credentials")?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            host,
            port,
            authorization,
        })
    }

    /// The `Proxy-Authorization` value, if the proxy's URL named a user.
    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the host lower-cased, without brackets.
fn split_host_port(hostport: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => 1080,
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

/// `%XX` escapes in a URL's user or password.
fn percent_decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or("a bad %-escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "a bad %-escape")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "credentials that are not UTF-8")
}

/// Opens a tunnel to `origin` through the proxy at the other end of `stream`. Errors name the
/// proxy and the target, never the credentials.
pub(crate) async fn tunnel(
    stream: &mut (impl futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin),
    proxy: &Proxy,
    origin: &Origin,
) -> Result<(), TransportError> {
    let target = format!("{}:{}", origin.bracketed_host(), origin.port);
    let failed = |why: String| {
        TransportError::Connect(format!("proxy {proxy:?}, CONNECT to {target}: {why}"))
    };
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(authorization) = proxy.authorization() {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(authorization.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream
        .write_all(&head)
        .await
        .map_err(|e| failed(e.to_string()))?;
    // The proxy's answer; it sends nothing past the head until the client speaks through the
    // tunnel, so reading in chunks takes nothing that belongs to the origin.
    let mut answer = Vec::with_capacity(256);
    let mut chunk = [0; 512];
    let end = loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if n == 0 {
            return Err(failed("the proxy closed the connection".into()));
        }
        answer.extend_from_slice(&chunk[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if answer.len() > 16 * 1024 {
            return Err(failed("the answer's head is too long".into()));
        }
    };
    if end != answer.len() {
        return Err(failed("the proxy sent data past its answer".into()));
    }
    let status = answer
        .split(|&b| b == b' ')
        .nth(1)
        .and_then(|code| std::str::from_utf8(code).ok())
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(200..=299) if answer.starts_with(b"HTTP/1.") => Ok(()),
        Some(status) => Err(failed(format!("the proxy answered {status}"))),
        None => Err(failed("the proxy's answer is not HTTP".into())),
    }
}
