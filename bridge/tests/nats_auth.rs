//! NATS authentication and TLS against real servers (2.9 and current), each configured by a
//! file for one mode: user/password, token, nkey, a creds file (operator mode, JWTs signed
//! here), TLS with a CA made here. With the right
//! secret the bridge connects and publishes; with a wrong one `run` and `status` fail at once
//! with an error naming the problem and the keys to check; no secret ever appears in an error,
//! in `Debug` or in the logs (captured at trace level).

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use sfstream_bridge::{Metrics, Options};
use std::sync::Arc;

const CHANNEL: &str = "/event/Order__e";

/// Everything logged by the bridge and the NATS client in this test binary.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "sfstream_bridge=trace,async_nats=trace,sfstream_tokio=debug",
            ))
            .with_writer(|| Capture)
            .with_ansi(false)
            .try_init();
    });
}

fn logged() -> String {
    String::from_utf8_lossy(
        &LOGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned()
}

/// A nats-server started from a configuration file.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    /// The server's log and whether it still runs, for a failure message.
    fn state(&mut self) -> String {
        format!(
            "exited: {:?}\n{}",
            self.child.try_wait(),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server(version: Version, settings: &str) -> Server {
    let dir = tempfile::tempdir().expect("dir");
    // Another test may take the free port first: then this server stops, and another port is
    // tried. "Server is ready" in this server's own log says the port is its own.
    for _ in 0..5 {
        let port = free_port();
        let conf = dir.path().join("server.conf");
        std::fs::write(
            &conf,
            format!(
                "listen: 127.0.0.1:{port}\njetstream {{ store_dir: \"{}\" }}\n{settings}\n",
                dir.path().join("js").display()
            ),
        )
        .expect("server configuration");
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).expect("log");
        let mut child = Command::new(version.binary())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if log.contains("Server is ready") {
                return Server { child, port, dir };
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not start: {log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("nats-server did not start on any of five ports");
}

/// A bridge configuration with `nats` (auth keys) and `tls` (a `[nats.tls]` table, or empty).
fn config(
    dir: &Path,
    emulator: &sfstream_emulator::Emulator,
    port: u16,
    nats: &str,
    tls: &str,
) -> String {
    config_text(
        dir,
        emulator,
        &[format!("nats://127.0.0.1:{port}")],
        1,
        "r1",
        &[CHANNEL],
        "3s",
    )
    .replace(
        "[nats]\n",
        &format!("[nats]\nconnect_timeout = \"3s\"\n{nats}\n"),
    )
    .replace("[stream]", &format!("{tls}\n[stream]"))
}

/// With the right secret: the bridge stores the org's events.
async fn publishes(text: &str, server: &mut Server, secrets: &[&str]) {
    let config = parse(text);
    let debug = format!("{config:?}");
    for s in secrets {
        assert!(!debug.contains(s), "a secret in Debug: {debug}");
    }
    let connection = config.connections[0].name.clone();
    let metrics = Arc::new(Metrics::new("r1"));
    let mut options = Options::default();
    options.metrics = Some(metrics.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sfstream_bridge::run_with(config, options, async move {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(60);
    while metrics
        .channel_snapshot(&connection, CHANNEL)
        .is_none_or(|m| m.events != 3)
    {
        assert!(
            !task.is_finished(),
            "the bridge ended early: {:?}",
            task.await
        );
        assert!(
            Instant::now() < deadline,
            "no event stored through the authenticated connection\n{}",
            server.state()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Only once the stream exists: with `status` polled from the start, nats-server 2.9.10
    // crashed now and then (SIGSEGV in jsMsgGetRequest), presumably a position read racing the
    // stream's creation.
    let status = sfstream_bridge::status(&parse(text)).await;
    assert!(
        status
            .as_ref()
            .is_ok_and(|s| format!("{s:?}").contains("replay_id: Some(")),
        "status through the authenticated connection: {status:?}"
    );
    let _ = stop.send(());
    task.await.expect("joined").expect("the bridge ran");
}

/// With a wrong secret: `run` and `status` fail soon, naming `expect`, never the secrets.
async fn refused(text: &str, expect: &str, secrets: &[&str]) {
    let started = Instant::now();
    let run = tokio::time::timeout(
        Duration::from_secs(20),
        sfstream_bridge::run(parse(text), std::future::pending()),
    )
    .await
    .expect("a refused connection ends the bridge instead of waiting forever");
    let error = run.expect_err("the bridge cannot run").to_string();
    assert!(error.contains(expect), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let status = sfstream_bridge::status(&parse(text))
        .await
        .expect_err("status cannot connect")
        .to_string();
    assert!(status.contains(expect), "{status}");
    for s in secrets {
        assert!(
            !error.contains(s) && !status.contains(s),
            "a secret in an error: {error} / {status}"
        );
    }
}

fn assert_no_secret_logged(secrets: &[&str]) {
    let logs = logged();
    assert!(!logs.is_empty(), "the capture works");
    for s in secrets {
        assert!(!logs.contains(s), "secret {s:?} in the logs");
    }
}

async fn setup() -> (sfstream_emulator::Emulator, tempfile::TempDir) {
    capture_logs();
    let emulator = emulator(1, &[CHANNEL]).await;
    let control = emulator.control_for(&emulator.org_ids()[0]).expect("org");
    control.publish_generated(CHANNEL, 3).expect("publish");
    let dir = tempfile::tempdir().expect("dir");
    write_secrets(dir.path());
    (emulator, dir)
}

/// One secret-based mode on both servers: `server_settings` for the server, `key` the
/// configuration key naming the secret file; the right secret publishes, the wrong one is
/// refused naming `key`, and neither is ever logged.
async fn secret_mode(server_settings: &str, key: &str, nats: &str, right: &str, wrong: &str) {
    let (emulator, dir) = setup().await;
    let file = dir.path().join("nats_secret");
    for version in Version::BOTH {
        let mut s = server(version, server_settings);
        let text = config(
            dir.path(),
            &emulator,
            s.port,
            &format!("{nats}\n{key} = \"{}\"", file.display()),
            "",
        );
        std::fs::write(&file, right).expect("secret");
        publishes(&text, &mut s, &[right]).await;
        std::fs::write(&file, wrong).expect("secret");
        refused(&text, "refused the bridge's credentials", &[right, wrong]).await;
        assert!(refused_names(&text, &format!("nats.{key}")).await);
    }
    assert_no_secret_logged(&[right, wrong]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_password() {
    let (right, wrong) = ("pw-right-51c0e2", "pw-wrong-93ab77");
    let server = format!("authorization {{ user: bridge, password: \"{right}\" }}");
    secret_mode(&server, "password_file", "user = \"bridge\"", right, wrong).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token() {
    let (right, wrong) = ("tok-right-0d8f3a", "tok-wrong-6e21b9");
    let server = format!("authorization {{ token: \"{right}\" }}");
    secret_mode(&server, "token_file", "", right, wrong).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nkey() {
    let user = nkeys::KeyPair::new_user();
    let other = nkeys::KeyPair::new_user();
    let (right, wrong) = (user.seed().expect("seed"), other.seed().expect("seed"));
    let server = format!(
        "authorization {{ users: [ {{ nkey: {} }} ] }}",
        user.public_key()
    );
    secret_mode(&server, "nkey_seed_file", "", &right, &wrong).await;
}

async fn refused_names(text: &str, key: &str) -> bool {
    sfstream_bridge::status(&parse(text))
        .await
        .is_err_and(|e| e.to_string().contains(key))
}

/// A CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files.
fn certificates(
    dir: &Path,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("certificate");
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::File::create(&paths.0)
        .and_then(|mut f| f.write_all(ca.pem().as_bytes()))
        .expect("write");
    std::fs::File::create(&paths.1)
        .and_then(|mut f| f.write_all(cert.pem().as_bytes()))
        .expect("write");
    std::fs::File::create(&paths.2)
        .and_then(|mut f| f.write_all(key.serialize_pem().as_bytes()))
        .expect("write");
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca() {
    let (emulator, dir) = setup().await;
    let (ca, cert, key) = certificates(dir.path(), "server");
    let (other_ca, _, _) = certificates(dir.path(), "other");
    for version in Version::BOTH {
        let mut s = server(
            version,
            &format!(
                "tls {{ cert_file: \"{}\", key_file: \"{}\" }}",
                cert.display(),
                key.display()
            ),
        );
        let text = config(
            dir.path(),
            &emulator,
            s.port,
            "",
            &format!("[nats.tls]\nca_file = \"{}\"\n", ca.display()),
        );
        publishes(&text, &mut s, &[]).await;
        let text = config(
            dir.path(),
            &emulator,
            s.port,
            "",
            &format!("[nats.tls]\nca_file = \"{}\"\n", other_ca.display()),
        );
        refused(&text, "TLS to NATS", &[]).await;
        assert!(refused_names(&text, "nats.tls.ca_file").await);
    }
    let key_pem = std::fs::read_to_string(&key).expect("key");
    let key_body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .take(1)
        .collect();
    assert_no_secret_logged(&[&key_body]);
}

/// A NATS JWT (`ed25519-nkey`), signed by `issuer`.
fn jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let claims = serde_json::json!({
        "jti": format!("{name}{}", subject.len()),
        "iat": 1_700_000_000u64,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let claims = b64.encode(claims.to_string());
    let signed = format!("{header}.{claims}");
    let signature = issuer.sign(signed.as_bytes()).expect("signature");
    format!("{signed}.{}", b64.encode(signature))
}

/// A user of `account` as a creds file holds it.
fn creds(account: &nkeys::KeyPair, user: &nkeys::KeyPair) -> String {
    let token = jwt(
        account,
        &user.public_key(),
        "bridge",
        serde_json::json!({"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1, "type": "user", "version": 2}),
    );
    format!(
        "-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n\
         -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
        user.seed().expect("seed")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creds_file() {
    let (emulator, dir) = setup().await;
    let operator = nkeys::KeyPair::new_operator();
    let account = nkeys::KeyPair::new_account();
    let stranger = nkeys::KeyPair::new_account();
    let (user, other) = (nkeys::KeyPair::new_user(), nkeys::KeyPair::new_user());
    let operator_jwt = jwt(
        &operator,
        &operator.public_key(),
        "operator",
        serde_json::json!({"type": "operator", "version": 2}),
    );
    let account_jwt = jwt(
        &operator,
        &account.public_key(),
        "bridge-account",
        serde_json::json!({
            "limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                "wildcards": true, "conn": -1, "leaf": -1,
                "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1},
            "default_permissions": {"pub": {}, "sub": {}},
            "type": "account", "version": 2,
        }),
    );
    let system = nkeys::KeyPair::new_account();
    let system_jwt = jwt(
        &operator,
        &system.public_key(),
        "SYS",
        serde_json::json!({"limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1,
            "exports": -1, "wildcards": true, "conn": -1, "leaf": -1},
            "type": "account", "version": 2}),
    );
    let (right, wrong) = (creds(&account, &user), creds(&stranger, &other));
    let (right_seed, wrong_seed) = (user.seed().expect("seed"), other.seed().expect("seed"));
    for version in Version::BOTH {
        let mut s = server(
            version,
            &format!(
                "operator: {operator_jwt}\nsystem_account: {}\nresolver: MEMORY\n\
                 resolver_preload: {{ {}: {account_jwt}, {}: {system_jwt} }}",
                system.public_key(),
                account.public_key(),
                system.public_key()
            ),
        );
        let file = dir.path().join("bridge.creds");
        let text = config(
            dir.path(),
            &emulator,
            s.port,
            &format!("creds_file = \"{}\"", file.display()),
            "",
        );
        std::fs::write(&file, &right).expect("creds");
        publishes(&text, &mut s, &[&right_seed]).await;
        std::fs::write(&file, &wrong).expect("creds");
        refused(
            &text,
            "refused the bridge's credentials",
            &[&right_seed, &wrong_seed],
        )
        .await;
        assert!(refused_names(&text, "nats.creds_file").await);
    }
    assert_no_secret_logged(&[&right_seed, &wrong_seed]);
}
