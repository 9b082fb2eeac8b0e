//! Pub/Sub on tokio through an HTTPS proxy from the environment, as the runtime's other requests
//! go: a `CONNECT` tunnel through a loopback proxy (with the credentials of its URL), then TLS
//! with ALPN `h2` to the emulator inside it; `NO_PROXY` goes direct; an `http` loopback URL is
//! tunnelled too when `HTTP_PROXY` says so; a proxy that refuses (407) is a clear error naming
//! the proxy and the fix, and its password appears nowhere (errors, logs at trace level).
//!
//! The proxy variables are the process's environment, so each case runs in a child process
//! (this test binary, running [`proxy_child`]) with its own.

mod pubsub_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tests::loopback::TestProxy;
use sfstream_tokio::pubsub::{self, Credentials, PubSubReplayFrom, PubSubSessionEvent, Secret};

const URL_VAR: &str = "SFSTREAM_TEST_PROXY_PUBSUB_URL";
const TOKEN_VAR: &str = "SFSTREAM_TEST_PROXY_PUBSUB_TOKEN";
const ORG_VAR: &str = "SFSTREAM_TEST_PROXY_PUBSUB_ORG";
const MODE_VAR: &str = "SFSTREAM_TEST_PROXY_MODE";
const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];
/// The proxy's password as it may leak: plain, percent-encoded, and inside `user:p@ss` in base64.
const SECRET_FORMS: [&str; 3] = ["p@ss", "p%40ss", "dXNlcjpwQHNz"];
/// What the child prints of the error that stopped the connection.
const REFUSED: &str = "REFUSED: ";

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sfstream-pubsub-proxy-{tag}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs [`proxy_child`] against `emulator` with `env` (and no other proxy variable).
async fn child(
    emulator: &PubSubEmulator,
    cert: Option<&Path>,
    mode: &str,
    env: &[(&str, String)],
) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["proxy_child", "--exact", "--ignored", "--nocapture"])
        .env(URL_VAR, emulator.url())
        .env(TOKEN_VAR, emulator.access_token())
        .env(ORG_VAR, emulator.org_id())
        .env(MODE_VAR, mode)
        .env("RUST_LOG", "trace")
        .env_remove("SSL_CERT_DIR");
    for name in PROXY_VARS {
        cmd.env_remove(name);
    }
    if let Some(cert) = cert {
        cmd.env("SSL_CERT_FILE", cert);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    tokio::task::spawn_blocking(move || cmd.output().expect("the child test runs"))
        .await
        .unwrap()
}

fn passed(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn connects(proxy: &TestProxy) -> Vec<String> {
    proxy
        .heads()
        .into_iter()
        .map(|h| h.lines().next().unwrap_or_default().to_owned())
        .collect()
}

fn port(url: &str) -> &str {
    url.rsplit(':').next().unwrap().trim_end_matches('/')
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_goes_through_the_connect_proxy_over_tls() {
    let dir = scratch("tls");
    let cert = dir.join("emulator.pem");
    let emulator = start(PubSubEmulator::builder().tls_cert_path(&cert)).await;
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    let proxy = TestProxy::start(false);
    let output = child(
        &emulator,
        Some(&cert),
        "events",
        &[("HTTPS_PROXY", proxy.url())],
    )
    .await;
    passed(&output);
    let target = format!("localhost:{}", port(emulator.url()));
    assert_eq!(
        connects(&proxy),
        vec![format!("CONNECT {target} HTTP/1.1")],
        "one tunnel, to the emulator, carries every call"
    );
    let head = proxy.heads()[0].to_ascii_lowercase();
    assert!(
        head.contains("proxy-authorization: basic dxnlcjpwqhnz"),
        "the URL's credentials, decoded: {head}"
    );
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_connects_directly() {
    let dir = scratch("no-proxy");
    let cert = dir.join("emulator.pem");
    let emulator = start(PubSubEmulator::builder().tls_cert_path(&cert)).await;
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    let proxy = TestProxy::start(false);
    let env = [
        ("https_proxy", proxy.url()),
        ("NO_PROXY", "example.com,localhost".to_owned()),
    ];
    passed(&child(&emulator, Some(&cert), "events", &env).await);
    assert_eq!(connects(&proxy), Vec::<String>::new(), "NO_PROXY: direct");
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_to_loopback_is_tunnelled_when_http_proxy_says_so() {
    let emulator = start(PubSubEmulator::builder()).await;
    assert!(emulator.url().starts_with("http://127.0.0.1:"));
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    let proxy = TestProxy::start(false);
    passed(&child(&emulator, None, "events", &[("HTTP_PROXY", proxy.url())]).await);
    assert_eq!(
        connects(&proxy),
        vec![format!(
            "CONNECT 127.0.0.1:{} HTTP/1.1",
            port(emulator.url())
        )]
    );
    emulator.shutdown().await;
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_proxy_is_a_clear_error_without_its_password() {
    let dir = scratch("refused");
    let cert = dir.join("emulator.pem");
    let emulator = start(PubSubEmulator::builder().tls_cert_path(&cert)).await;
    let proxy = TestProxy::start(true);
    let output = child(
        &emulator,
        Some(&cert),
        "refused",
        &[("HTTPS_PROXY", proxy.url())],
    )
    .await;
    let stdout = passed(&output);
    let error = stdout
        .lines()
        .find_map(|l| l.split_once(REFUSED).map(|(_, e)| e.to_owned()))
        .expect("the child prints the error");
    let proxy_port = port(&proxy.url()).to_owned();
    for needed in [
        format!("proxy 127.0.0.1:{proxy_port}"),
        "HTTPS_PROXY".to_owned(),
        "407".to_owned(),
        "user and password in the proxy URL".to_owned(),
    ] {
        assert!(error.contains(&needed), "{needed:?} missing from: {error}");
    }
    assert!(!connects(&proxy).is_empty(), "the proxy was asked");
    let everything = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(everything.contains("TRACE"), "trace logs were on");
    for secret in SECRET_FORMS {
        assert!(
            !everything.contains(secret),
            "{secret:?} leaked:\n{everything}"
        );
    }
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child half of the tests above: with `events`, receives the 3 events published; with
/// `refused`, prints the error of the first failed connection (the client keeps retrying).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by the tests of this file, with the proxy variables set"]
async fn proxy_child() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let var = |name: &str| std::env::var(name).expect("run by a parent test");
    let url = var(URL_VAR);
    let client = pubsub::builder(Credentials::AccessToken {
        access_token: Secret::new(var(TOKEN_VAR)),
        instance_url: url.clone(),
    })
    .url(&url)
    .tenant_id(var(ORG_VAR))
    .replay(PubSubReplayFrom::Earliest)
    .retry(quick_retry())
    .build()
    .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    if var(MODE_VAR) == "events" {
        within("open through the proxy", client.open())
            .await
            .unwrap();
        let events = receive_n(&client, 3).await;
        assert!(events.iter().all(|e| e.payload().is_object()));
    } else {
        let mut session_events = client.session_events();
        let opening = client.clone();
        let open = tokio::spawn(async move { opening.open().await });
        let reason = within("a refused connection", async {
            loop {
                match session_events.recv().await {
                    Some(PubSubSessionEvent::Reconnecting { reason, .. }) => {
                        return reason.to_string();
                    }
                    Some(_) => continue,
                    None => panic!("the session ended"),
                }
            }
        })
        .await;
        #[allow(clippy::print_stdout, reason = "the parent test reads it")]
        {
            println!("{REFUSED}{reason}");
        }
        assert_eq!(client.stats().events_received, 0);
        open.abort();
    }
    within("close", client.close()).await.unwrap();
}
