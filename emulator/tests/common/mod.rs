//! Plain-HTTP helpers shared by the integration tests (no streaming client involved).
#![allow(
    dead_code,
    reason = "each test file uses a different subset of the helpers"
)]

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use sfstream_emulator::{Control, Emulator, EmulatorBuilder};

/// The default pre-issued access token.
pub(crate) const TOKEN: &str = "emulator-access-token";
/// The long-poll timeout the fast emulators use.
pub(crate) const POLL: Duration = Duration::from_millis(300);
/// The reconnect deadline the fast emulators use: long enough that a loaded machine does not
/// expire a session between two steps of a test.
pub(crate) const DEADLINE: Duration = Duration::from_secs(2);

/// A builder with millisecond timeouts.
pub(crate) fn fast() -> EmulatorBuilder {
    Emulator::builder()
        .long_poll_timeout(POLL)
        .reconnect_deadline(DEADLINE)
        .seed(7)
}

/// Starts a fast emulator.
pub(crate) async fn start() -> Emulator {
    fast().start().await.expect("emulator starts")
}

/// Starts a fast emulator whose long polls are held 5 s, so a test can act while one is held.
pub(crate) async fn start_holding() -> Emulator {
    fast()
        .long_poll_timeout(Duration::from_secs(5))
        .start()
        .await
        .expect("emulator starts")
}

/// Runs `act` on the emulator after `delay`, on a task of its own: to change the emulator
/// while the test's connect is held.
pub(crate) fn later<T, F>(control: &Control, delay: Duration, act: F) -> tokio::task::JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce(&Control) -> T + Send + 'static,
{
    let control = control.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        act(&control)
    })
}

/// An HTTP client that never goes through a proxy.
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
}

/// One HTTP exchange.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) text: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub(crate) json: Value,
}

impl Reply {
    /// The body as an array of messages.
    pub(crate) fn messages(&self) -> Vec<Value> {
        self.json.as_array().cloned().unwrap_or_default()
    }

    /// The first message.
    pub(crate) fn first(&self) -> Value {
        self.messages().into_iter().next().unwrap_or(Value::Null)
    }
}

/// A hand-driven Bayeux client: a token, a cookie jar (name → value, paths ignored) and ids.
pub(crate) struct Bayeux {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) url: String,
    pub(crate) token: Option<String>,
    pub(crate) cookies: BTreeMap<String, String>,
    pub(crate) client_id: Option<String>,
    next_id: u64,
}

impl Bayeux {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            http: http(),
            base: base.to_owned(),
            url: format!("{base}/cometd/64.0"),
            token: Some(TOKEN.to_owned()),
            cookies: BTreeMap::new(),
            client_id: None,
            next_id: 0,
        }
    }

    /// The next message id, as a string.
    pub(crate) fn id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// POSTs raw bytes to `url`.
    pub(crate) async fn post_bytes_to(&mut self, url: &str, body: Vec<u8>) -> Reply {
        self.try_post_bytes_to(url, body)
            .await
            .expect("request succeeds")
    }

    /// POSTs raw bytes to `url`; `None` when the exchange fails (a reset, a cut body, a
    /// timeout of 5 s).
    pub(crate) async fn try_post_bytes_to(&mut self, url: &str, body: Vec<u8>) -> Option<Reply> {
        let mut req = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .timeout(Duration::from_secs(5))
            .body(body);
        if let Some(t) = &self.token {
            req = req.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(COOKIE, jar.join("; "));
        }
        let resp = req.send().await.ok()?;
        let status = resp.status();
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let text = resp.text().await.ok()?;
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Some(Reply {
            status,
            set_cookies,
            text,
            json,
        })
    }

    /// POSTs JSON to the CometD endpoint; `None` when the exchange fails.
    pub(crate) async fn try_post(&mut self, body: Value) -> Option<Reply> {
        let url = self.url.clone();
        self.try_post_bytes_to(&url, body.to_string().into_bytes())
            .await
    }

    /// POSTs JSON to the CometD endpoint.
    pub(crate) async fn post(&mut self, body: Value) -> Reply {
        let url = self.url.clone();
        self.post_bytes_to(&url, body.to_string().into_bytes())
            .await
    }

    /// Handshakes and remembers the client id; returns the reply message.
    pub(crate) async fn handshake(&mut self) -> Value {
        let id = self.id();
        let reply = self
            .post(json!([{
                "channel": "/meta/handshake", "version": "1.0", "minimumVersion": "1.0",
                "supportedConnectionTypes": ["long-polling"], "id": id
            }]))
            .await;
        let msg = reply.first();
        if let Some(c) = msg["clientId"].as_str() {
            self.client_id = Some(c.to_owned());
        }
        msg
    }

    /// The connect message for this client.
    pub(crate) fn connect_msg(&mut self) -> Value {
        let id = self.id();
        json!({"channel": "/meta/connect", "clientId": self.client_id, "connectionType": "long-polling", "id": id})
    }

    /// One connect; returns the whole response array.
    pub(crate) async fn connect(&mut self) -> Vec<Value> {
        let msg = self.connect_msg();
        self.post(json!([msg])).await.messages()
    }

    /// Subscribes; `replay` of `None` sends no `ext`. Returns the reply message.
    pub(crate) async fn subscribe(&mut self, channel: &str, replay: Option<i64>) -> Value {
        let id = self.id();
        let mut msg = json!({"channel": "/meta/subscribe", "clientId": self.client_id,
                             "subscription": channel, "id": id});
        if let Some(r) = replay {
            msg["ext"] = json!({"replay": {channel: r}});
        }
        self.post(json!([msg])).await.first()
    }

    /// Handshake, first connect, then the subscriptions (all asserted successful).
    pub(crate) async fn ready(base: &str, subscriptions: &[(&str, Option<i64>)]) -> Self {
        let mut b = Self::new(base);
        assert_eq!(b.handshake().await["successful"], true);
        let first = b.connect().await;
        assert_eq!(first[0]["successful"], true, "{first:?}");
        for (channel, replay) in subscriptions {
            let r = b.subscribe(channel, *replay).await;
            assert_eq!(r["successful"], true, "{r}");
        }
        b
    }
}

/// The event messages of a connect response (those with `data`).
pub(crate) fn events(reply: &[Value]) -> Vec<Value> {
    reply
        .iter()
        .filter(|m| m.get("data").is_some())
        .cloned()
        .collect()
}

/// The replay ids of the events of a connect response, in order.
pub(crate) fn replay_ids(reply: &[Value]) -> Vec<i64> {
    events(reply)
        .iter()
        .map(|m| {
            m["data"]["event"]["replayId"]
                .as_i64()
                .expect("replayId is an integer")
        })
        .collect()
}

/// The password grant with the default credentials.
pub(crate) const PASSWORD_FORM: [(&str, &str); 5] = [
    ("grant_type", "password"),
    ("client_id", "emulator-client-id"),
    ("client_secret", "emulator-client-secret"),
    ("username", "user@example.com"),
    ("password", "passwordTOKEN"),
];

/// POSTs a form to the token endpoint.
pub(crate) async fn token_request(base: &str, form: &[(&str, &str)]) -> Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = http()
        .post(format!("{base}/services/oauth2/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        set_cookies: Vec::new(),
        text,
        json,
    }
}

/// Calls a control route; returns status and JSON body.
pub(crate) async fn control(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http().request(method, format!("{base}{path}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("control request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Starts the `sfstream-emulator` binary with `args` and reads what it prints up to its
/// "Press Ctrl-C" line.
pub(crate) async fn start_binary(args: &[&str]) -> (tokio::process::Child, Vec<String>) {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfstream-emulator"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read") {
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    (child, printed)
}
