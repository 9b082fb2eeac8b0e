//! Nothing any runtime or HTTP backend logs, down to TRACE, shows a credential. An ordinary
//! `tracing_subscriber::fmt` subscriber at TRACE (which also takes the `log` records of ureq and
//! async-h1) captures full sessions of all five auth flows, each with a refused token and a new
//! one; no piece of a password, client secret, refresh token, JWT signature or access token
//! (ready or issued) may be in the capture, not even split across the rows of a hex dump.
//!
//! The checks of the runtimes run one at a time, each on a cleared capture, so a leak is
//! reported against the runtime that made it.

mod support;

use std::sync::Mutex;

use sfstream_core::Config;
use sfstream_core::oauth::Credentials;
use sfstream_core::oauth::jwt::JwtKey;
use sfstream_core::{ReplayFrom, Secret};
use sfstream_driver::{ClientBuilder, JwtKeyFromPem as _, Runtime};
use sfstream_tests::fast;
use support::*;

/// The five flows; the ready token first, as revoking tokens revokes it too.
fn flows(emu: &Emu) -> Vec<Credentials> {
    vec![
        Credentials::AccessToken {
            access_token: Secret::new(PREISSUED_TOKEN),
            instance_url: emu.base_url.clone(),
        },
        Credentials::Password {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            username: USERNAME.into(),
            password: Secret::new(format!("{PASSWORD}{SECURITY_TOKEN}")),
            login: emu.login(),
        },
        Credentials::RefreshToken {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            refresh_token: Secret::new(REFRESH_TOKEN),
            login: emu.login(),
        },
        Credentials::JwtBearer {
            client_id: CLIENT_ID.into(),
            username: USERNAME.into(),
            key: JwtKey::from_pem(JWT_PRIVATE).expect("the test key"),
            login: emu.login(),
            audience: None,
        },
        Credentials::ClientCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            login: emu.login(),
        },
    ]
}

/// One session: two events, a revoked token and a new one (for flows that can get one), two
/// more events, close. The credentials that went over the wire.
fn session<R: Runtime>(exec: &Exec, emu: &Emu, runtime: R, credentials: Credentials) -> Recorded {
    let can_refresh = credentials.can_refresh();
    let runtime = Recording::new(runtime);
    let log = runtime.log.clone();
    let config = fast(Config::salesforce(credentials));
    let client = exec.build(ClientBuilder::with_config(runtime, config).replay(ReplayFrom::New));
    exec.block_on(client.subscribe(ORDERS)).expect("subscribe");
    exec.block_on(client.open()).expect("open");
    emu.control.publish_generated(ORDERS, 2).expect("publish");
    exec.receive_n(&client, 2);
    if can_refresh {
        emu.control.revoke_tokens();
        emu.control.publish_generated(ORDERS, 2).expect("publish");
        exec.receive_n(&client, 2);
        assert!(
            client.stats().reauthentications >= 1,
            "{:?}",
            client.stats()
        );
    }
    exec.block_on(client.close()).expect("close");
    std::mem::take(&mut *lock(&log))
}

fn no_secret_in_trace_logs<R: Runtime>(name: &str, exec: &Exec, runtime: fn() -> R) {
    // One runtime at a time: the capture is the process's.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = lock(&ONE_AT_A_TIME);
    let emu = Emu::start(|b| b);
    lock(captured()).clear();

    let mut secrets: Vec<String> = [
        CLIENT_SECRET,
        PASSWORD,
        SECURITY_TOKEN,
        REFRESH_TOKEN,
        PREISSUED_TOKEN,
    ]
    .map(str::to_owned)
    .into();
    secrets.extend(
        JWT_PRIVATE
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_owned),
    );
    let mut tokens = 0;
    for credentials in flows(&emu) {
        let recorded = session(exec, &emu, runtime(), credentials);
        tokens += recorded.tokens.len();
        secrets.extend(recorded.tokens);
        for sent in recorded.sent_secrets {
            // A JWT assertion's secret part is its signature; a cookie's, its value.
            let secret = sent
                .rsplit(['.', '='])
                .next()
                .unwrap_or_default()
                .to_owned();
            if secret.len() >= 16 {
                secrets.push(secret);
            }
        }
    }
    assert!(tokens >= 8, "[{name}] four flows got a token, then another");

    let logs = String::from_utf8_lossy(&lock(captured())).into_owned();
    // The capture saw the sessions, down to TRACE, and the HTTP client's own records.
    for needle in ["TRACE", "sending", "authenticated", "handshake done"] {
        assert!(logs.contains(needle), "[{name}] the log has {needle:?}");
    }
    if name == "blocking" {
        assert!(
            logs.contains(" ureq::"),
            "[blocking] ureq's log records reach the subscriber"
        );
    }
    for secret in &secrets {
        for fragment in fragments(secret) {
            if let Some(at) = logs.find(&fragment) {
                let line_start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
                let line_end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
                let mut line = logs[line_start..line_end].to_owned();
                for piece in secrets.iter().flat_map(|s| fragments(s)) {
                    line = line.replace(&piece, "<secret>");
                }
                panic!("[{name}] a piece of a secret is in the log (shown as <secret>): {line}");
            }
        }
    }
}

per_runtime!(no_secret_in_trace_logs);
