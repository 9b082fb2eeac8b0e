//! Connecting to NATS with the configured servers, authentication and TLS.

use std::sync::Arc;
use std::time::Duration;

use async_nats::{ConnectOptions, Event};

use crate::config::{NatsAuth, NatsSettings};
use crate::metrics::Metrics;

/// Builds the client options. Reconnects go on forever, at most a second apart, so that a
/// restarted server is found again quickly.
async fn options(settings: &NatsSettings) -> Result<ConnectOptions, String> {
    static RUSTLS_PROVIDER: std::sync::Once = std::sync::Once::new();
    RUSTLS_PROVIDER.call_once(|| {
        // TLS to NATS needs a process-wide provider when more than one is compiled in (the
        // Salesforce client installs the same one later); one installed already is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut options = match &settings.auth {
        NatsAuth::None => ConnectOptions::new(),
        NatsAuth::UserPassword { user, password } => {
            ConnectOptions::with_user_and_password(user.clone(), password.expose().to_owned())
        }
        NatsAuth::Token(token) => ConnectOptions::with_token(token.expose().to_owned()),
        NatsAuth::Nkey(seed) => ConnectOptions::with_nkey(seed.expose().to_owned()),
        NatsAuth::CredsFile(path) => ConnectOptions::with_credentials_file(path.clone())
            .await
            .map_err(|e| format!("cannot use the credentials file {}: {e}", path.display()))?,
    };
    if let Some(tls) = &settings.tls {
        options = options.require_tls(tls.required);
        if let Some(ca) = &tls.ca_file {
            options = options.add_root_certificates(ca.clone());
        }
        if let Some((cert, key)) = &tls.client_cert {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
    }
    Ok(options
        .name(&settings.name)
        .connection_timeout(settings.connect_timeout.min(Duration::from_secs(5)))
        .request_timeout(Some(settings.ack_timeout))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((attempts as u64).saturating_mul(100).min(1000))
        }))
}

/// What to tell the user when a server refuses the connection for a reason that waiting will
/// not fix; `None` for reasons that may pass (a server down, a timeout). Never holds a secret:
/// it is made from the kind of failure and the configuration's key names only.
fn refusal(settings: &NatsSettings, failure: &str) -> Option<String> {
    let servers = settings.servers.join(", ");
    let keys = match &settings.auth {
        NatsAuth::None => {
            "no credentials are configured; add user + password_env/password_file, \
                           token_env/token_file, nkey_seed_env/nkey_seed_file or creds_file to [nats]"
        }
        NatsAuth::UserPassword { .. } => {
            "check nats.user and the password nats.password_env / \
                                          nats.password_file names"
        }
        NatsAuth::Token(_) => "check the token nats.token_env / nats.token_file names",
        NatsAuth::Nkey(_) => {
            "check that the seed nats.nkey_seed_env / nats.nkey_seed_file names \
                              belongs to a user the server lists"
        }
        NatsAuth::CredsFile(_) => {
            "check nats.creds_file: the user must belong to an account the \
                                   server trusts, and must not be expired or revoked"
        }
    };
    match failure {
        "authorization violation" => Some(format!(
            "NATS at {servers} refused the bridge's credentials ({} authentication: \
             authorization violation); {keys}",
            settings.auth.kind()
        )),
        "failed signing nonce" => Some(format!(
            "cannot sign NATS's challenge with the configured {} ({servers}); {keys}",
            settings.auth.kind()
        )),
        "TLS error" => Some(format!(
            "TLS to NATS at {servers} failed: check that the server speaks TLS on that port, that \
             its certificate is valid for the host in the URL and signed by a CA the bridge \
             trusts (nats.tls.ca_file), and any client certificate the server asks for \
             (nats.tls.cert_file / key_file)"
        )),
        _ => None,
    }
}

/// The kind of a failed first connection, as [`refusal`] reads it: a failed TLS handshake
/// comes as an I/O error whose cause names the certificate or the handshake.
fn failure_of(e: &async_nats::ConnectError) -> String {
    let text = e.to_string();
    let tls = [
        "certificate",
        "CertificateRequired",
        "handshake",
        "tls",
        "TLS",
    ];
    if e.kind() == async_nats::ConnectErrorKind::Io && tls.iter().any(|t| text.contains(t)) {
        "TLS error".to_owned()
    } else {
        e.kind().to_string()
    }
}

/// The options with connection changes going to the log and the metrics.
fn with_events(options: ConnectOptions, metrics: Arc<Metrics>) -> ConnectOptions {
    options.event_callback(move |event| {
        let metrics = metrics.clone();
        async move {
            match event {
                Event::Connected => {
                    tracing::info!("connected to NATS");
                    metrics.nats(true, true);
                }
                Event::Disconnected => {
                    tracing::warn!("disconnected from NATS; reconnecting");
                    metrics.nats(false, false);
                }
                Event::ServerError(e) => tracing::warn!(error = %e, "NATS server error"),
                Event::ClientError(e) => tracing::warn!(error = %e, "NATS client error"),
                other => tracing::debug!(event = %other, "NATS event"),
            }
        }
    })
}

/// Connects, waiting (and saying so every few seconds) until a server answers. Connection
/// changes later go to the log and the metrics. A server that refuses the credentials or the
/// TLS set-up at start is an error (waiting would not fix it).
pub(crate) async fn connect(
    settings: &NatsSettings,
    metrics: Arc<Metrics>,
) -> Result<async_nats::Client, String> {
    let first = tokio::time::timeout(
        settings.connect_timeout,
        with_events(options(settings).await?, metrics.clone()).connect(settings.servers.clone()),
    )
    .await;
    let client = match first {
        Ok(Ok(client)) => client,
        Ok(Err(e)) if refusal(settings, &failure_of(&e)).is_some() => {
            return Err(refusal(settings, &failure_of(&e)).unwrap_or_default());
        }
        _ => {
            // Not reachable yet: keep trying in the background, and wait here.
            let client = with_events(options(settings).await?, metrics.clone())
                .retry_on_initial_connect()
                .connect(settings.servers.clone())
                .await
                .map_err(|e| {
                    format!(
                        "cannot connect to NATS at {}: {e}",
                        settings.servers.join(", ")
                    )
                })?;
            let started = tokio::time::Instant::now();
            let mut said = started;
            while client.connection_state() != async_nats::connection::State::Connected {
                if said.elapsed() >= Duration::from_secs(5) {
                    said = tokio::time::Instant::now();
                    tracing::warn!(servers = %settings.servers.join(", "), waited = ?started.elapsed(),
                        "NATS is not reachable yet; waiting (nothing is read from Salesforce meanwhile)");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            client
        }
    };
    metrics.nats(true, false);
    Ok(client)
}

/// Connects once, failing after the connect timeout (for `status`).
pub(crate) async fn connect_once(settings: &NatsSettings) -> Result<async_nats::Client, String> {
    let options = options(settings).await?;
    tokio::time::timeout(
        settings.connect_timeout,
        options.connect(settings.servers.clone()),
    )
    .await
    .map_err(|_| {
        format!(
            "NATS at {} did not answer within {}",
            settings.servers.join(", "),
            humantime::format_duration(settings.connect_timeout)
        )
    })?
    .map_err(|e| {
        refusal(settings, &failure_of(&e)).unwrap_or_else(|| {
            format!(
                "cannot connect to NATS at {}: {e}",
                settings.servers.join(", ")
            )
        })
    })
}
