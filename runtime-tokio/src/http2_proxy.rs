//! Proxies for the Pub/Sub API's HTTP/2 connections, by the rules reqwest applies to the tokio
//! runtime's other requests: hyper-util's matcher (the one reqwest uses) over `HTTPS_PROXY` /
//! `https_proxy` for `https` targets, `HTTP_PROXY` / `http_proxy` for `http` (h2c, loopback)
//! ones, `ALL_PROXY` / `all_proxy` for either, `NO_PROXY` / `no_proxy` for the hosts to reach
//! directly; none in a CGI program. Read once per runtime handle, as reqwest reads them once per
//! client.
//!
//! A proxied connection is a `CONNECT` tunnel (with `Proxy-Authorization: Basic` when the proxy
//! URL names a user), then TLS with ALPN `h2` to the origin inside it, or h2c for a plain `http`
//! loopback URL. Only `http://` proxies are supported: a variable naming another kind fails the
//! connection rather than go around the proxy. Texts name the proxy by host and port, never its
//! credentials.

use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use sfstream_driver::TransportError;
use sfstream_driver::proxy_tunnel::ConnectTunnel;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The proxy rules, read from the environment (and the system's settings where hyper-util reads
/// them, exactly as reqwest does).
pub(crate) struct Proxies {
    matcher: Matcher,
}

impl Default for Proxies {
    fn default() -> Self {
        Self {
            matcher: Matcher::from_system(),
        }
    }
}

/// A proxy to tunnel through. `Debug` shows `host:port` only.
pub(crate) struct Proxy {
    host: String,
    port: u16,
    authorization: Option<HeaderValue>,
    /// The variables it may have come from, for the texts.
    variables: &'static str,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.address())
    }
}

impl Proxies {
    /// The proxy for `uri`'s origin, or `None` to connect directly.
    pub(crate) fn proxy_for(&self, uri: &Uri) -> Result<Option<Proxy>, TransportError> {
        let Some(intercept) = self.matcher.intercept(uri) else {
            return Ok(None);
        };
        let variables = if uri.scheme_str() == Some("http") {
            "HTTP_PROXY, http_proxy or ALL_PROXY"
        } else {
            "HTTPS_PROXY, https_proxy or ALL_PROXY"
        };
        Proxy::of(&intercept, variables).map(Some)
    }
}

impl Proxy {
    fn of(intercept: &Intercept, variables: &'static str) -> Result<Self, TransportError> {
        let uri = intercept.uri();
        let scheme = uri.scheme_str().unwrap_or("http");
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(TransportError::Connect(format!(
                "the proxy set by {variables} is a {scheme} proxy: the Pub/Sub API's HTTP/2 \
                 connections go through http:// proxies only (http://[user:password@]host:port); \
                 set one, or list the Pub/Sub host in NO_PROXY to connect directly"
            )));
        }
        Ok(Self {
            host: uri
                .host()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            // As reqwest: port 80 when the proxy URL names none.
            port: uri.port_u16().unwrap_or(80),
            authorization: intercept.basic_auth().cloned(),
            variables,
        })
    }

    fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// A TCP connection to the proxy, tunnelled with `CONNECT` to `host:port` (the origin).
    pub(crate) async fn tunnel(&self, host: &str, port: u16) -> Result<TcpStream, TransportError> {
        let proxy = self.address();
        let target = format!("{host}:{port}");
        let variables = self.variables;
        let failed = |why: String| {
            TransportError::Connect(format!(
                "proxy {proxy} (set by {variables}), CONNECT to {target}: {why}"
            ))
        };
        let mut tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                failed(format!(
                    "cannot reach the proxy ({e}): check its host and port, or list {host} in \
                     NO_PROXY to connect directly"
                ))
            })?;
        let _ = tcp.set_nodelay(true);
        let mut handshake = ConnectTunnel::new(host, port, self.authorization.as_ref());
        tcp.write_all(handshake.request())
            .await
            .map_err(|e| failed(e.to_string()))?;
        let mut chunk = [0; 4];
        loop {
            let n = tcp
                .read(&mut chunk[..handshake.wanted()])
                .await
                .map_err(|e| failed(e.to_string()))?;
            if handshake.read(&chunk[..n]).map_err(failed)? {
                return Ok(tcp);
            }
        }
    }
}
