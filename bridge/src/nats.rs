//! Connecting to NATS with the configured servers, authentication and TLS.

use std::sync::Arc;
use std::time::Duration;

use async_nats::{ConnectOptions, Event};

use crate::config::{NatsAuth, NatsSettings};
use crate::metrics::Metrics;

/// Builds the client options. Reconnects go on forever, at most a second apart, so that a
/// restarted server is found again quickly.
async fn options(settings: &NatsSettings) -> Result<ConnectOptions, String> {
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

/// Connects, waiting (and saying so every few seconds) until a server answers. Connection
/// changes later go to the log and the metrics.
pub(crate) async fn connect(
    settings: &NatsSettings,
    metrics: Arc<Metrics>,
) -> Result<async_nats::Client, String> {
    let events = metrics.clone();
    let options = options(settings)
        .await?
        .retry_on_initial_connect()
        .event_callback(move |event| {
            let metrics = events.clone();
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
        });
    let client = options
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
        format!(
            "cannot connect to NATS at {}: {e}",
            settings.servers.join(", ")
        )
    })
}
