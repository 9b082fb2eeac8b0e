//! The `CONNECT` handshake of an HTTP proxy tunnel, as bytes: the request a runtime writes to the
//! proxy and the reading of its answer. Runtimes own the sockets (tokio's, async-io's); what is
//! sent, what is accepted and the wording of every refusal are decided here, once.
//!
//! ```
//! use sfstream_driver::proxy_tunnel::ConnectTunnel;
//!
//! let mut tunnel = ConnectTunnel::new("api.pubsub.salesforce.com", 7443, None);
//! assert!(tunnel.request().starts_with(b"CONNECT api.pubsub.salesforce.com:7443 HTTP/1.1\r\n"));
//! // What the proxy answers, read at most `wanted()` bytes at a time.
//! assert_eq!(tunnel.wanted(), 4);
//! assert_eq!(tunnel.read(b"HTTP/1.1 200 OK\r\n"), Ok(false));
//! assert_eq!(tunnel.wanted(), 2);
//! assert_eq!(tunnel.read(b"\r\n"), Ok(true)); // open: speak TLS or h2c now
//! ```

use http::HeaderValue;

/// The longest answer head accepted from a proxy.
const MAX_ANSWER_HEAD: usize = 16 * 1024;

/// One `CONNECT` handshake: the request to write, then the proxy's answer read until it is whole.
#[derive(Debug)]
pub struct ConnectTunnel {
    host: String,
    port: u16,
    request: Vec<u8>,
    has_authorization: bool,
    answer: Vec<u8>,
}

impl ConnectTunnel {
    /// A tunnel to `host:port` (an IPv6 host in brackets), with `authorization` as the
    /// `Proxy-Authorization` value when the proxy URL names a user.
    #[must_use]
    pub fn new(host: &str, port: u16, authorization: Option<&HeaderValue>) -> Self {
        let target = format!("{host}:{port}");
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
        if let Some(authorization) = authorization {
            request.extend_from_slice(b"Proxy-Authorization: ");
            request.extend_from_slice(authorization.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        Self {
            host: host.to_owned(),
            port,
            request,
            has_authorization: authorization.is_some(),
            answer: Vec::with_capacity(256),
        }
    }

    /// `host:port`, for error texts.
    #[must_use]
    pub fn target(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The bytes to write to the proxy (they may hold credentials: never log them).
    #[must_use]
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// How many bytes to read next: the fewest that could end the answer's head. Reading no more
    /// than this never takes a byte past the answer, which belongs to the origin (an h2c
    /// server, for one, speaks first: its SETTINGS may follow the proxy's answer at once).
    #[must_use]
    pub fn wanted(&self) -> usize {
        const END: &[u8] = b"\r\n\r\n";
        // The longest start of the terminator the answer already ends with.
        let started = (1..END.len())
            .rev()
            .find(|&k| self.answer.ends_with(&END[..k]))
            .unwrap_or(0);
        END.len() - started
    }

    /// Takes what the proxy sent next, read with at most [`wanted`](Self::wanted) bytes (an
    /// empty slice: the proxy closed the connection). `Ok(false)`: read more; `Ok(true)`: the
    /// tunnel is open. `Err` says why it is not, and what to do, without the credentials.
    pub fn read(&mut self, bytes: &[u8]) -> Result<bool, String> {
        if bytes.is_empty() {
            return Err("the proxy closed the connection".into());
        }
        self.answer.extend_from_slice(bytes);
        let Some(end) = self.answer.windows(4).position(|w| w == b"\r\n\r\n") else {
            if self.answer.len() > MAX_ANSWER_HEAD {
                return Err("the proxy's answer head is too long".into());
            }
            return Ok(false);
        };
        if end + 4 != self.answer.len() {
            return Err("the proxy sent data past its answer".into());
        }
        self.verdict().map(|()| true)
    }

    fn verdict(&self) -> Result<(), String> {
        let (host, port) = (&self.host, self.port);
        let status = self
            .answer
            .starts_with(b"HTTP/1.")
            .then(|| self.answer.split(|&b| b == b' ').nth(1))
            .flatten()
            .and_then(|code| std::str::from_utf8(code).ok())
            .and_then(|code| code.parse::<u16>().ok());
        match status {
            Some(200..=299) => Ok(()),
            Some(407) => Err(format!(
                "the proxy refused the tunnel: 407 Proxy Authentication Required. {} the user \
                 and password in the proxy URL (http://user:password@host:port, percent-encoded)",
                if self.has_authorization {
                    "Check"
                } else {
                    "Give"
                }
            )),
            Some(status) => Err(format!(
                "the proxy refused the tunnel with status {status}: check that it allows CONNECT \
                 to port {port}, or list {host} in NO_PROXY to connect directly"
            )),
            None => Err(
                "the proxy's answer is not HTTP/1.x: check that the proxy URL names an HTTP proxy"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_the_authorization_once() {
        let auth = HeaderValue::from_static("Basic dTpw");
        let tunnel = ConnectTunnel::new("[::1]", 8443, Some(&auth));
        assert_eq!(
            tunnel.request(),
            b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        assert_eq!(tunnel.target(), "[::1]:8443");
    }

    /// Read `wanted()` bytes at a time, the answer is taken whole and nothing after it: the
    /// origin's first bytes stay in the socket.
    #[test]
    fn reading_what_is_wanted_never_takes_the_origins_bytes() {
        let wire = b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n\x00\x00\x12\x04SETTINGS";
        let mut tunnel = ConnectTunnel::new("127.0.0.1", 7443, None);
        let mut at = 0;
        let open = loop {
            let n = tunnel.wanted().min(wire.len() - at);
            assert!((1..=4).contains(&n));
            let piece = &wire[at..at + n];
            at += n;
            if tunnel.read(piece).unwrap() {
                break true;
            }
        };
        assert!(open);
        assert_eq!(&wire[at..], b"\x00\x00\x12\x04SETTINGS");
    }

    #[test]
    fn refusals_name_the_problem_and_the_fix() {
        let refuse = |answer: &[u8], auth: Option<&HeaderValue>| {
            ConnectTunnel::new("example.com", 443, auth)
                .read(answer)
                .unwrap_err()
        };
        let auth = HeaderValue::from_static("Basic c2VjcmV0");
        let with = refuse(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
            Some(&auth),
        );
        assert!(
            with.contains("407") && with.contains("Check the user"),
            "{with}"
        );
        assert!(!with.contains("c2VjcmV0"), "{with}");
        let without = refuse(b"HTTP/1.1 407 No\r\n\r\n", None);
        assert!(without.contains("Give the user"), "{without}");
        let forbidden = refuse(b"HTTP/1.0 403 Forbidden\r\n\r\n", None);
        assert!(forbidden.contains("status 403") && forbidden.contains("port 443"));
        assert!(refuse(b"SSH-2.0-x\r\n\r\n", None).contains("not HTTP/1.x"));
        assert!(refuse(b"HTTP/1.1 200 OK\r\n\r\n\x16", None).contains("past its answer"));
        assert!(refuse(b"", None).contains("closed the connection"));
        let mut endless = ConnectTunnel::new("example.com", 443, None);
        let line = [b'x'; 1024];
        let too_long = (0..20).find_map(|_| endless.read(&line).err()).unwrap();
        assert!(too_long.contains("too long"), "{too_long}");
    }
}
