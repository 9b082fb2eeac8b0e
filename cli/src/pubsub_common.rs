//! What `listen --api pubsub` and `publish` share: the client built from `listen`'s auth
//! settings and `--pubsub-url`, the exit code of each Pub/Sub error, and the session's reports
//! as status lines on stderr.

use sfstream_tokio::core::Error as CoreError;
use sfstream_tokio::core::pubsub::PubSubErrorClass;
use sfstream_tokio::pubsub::{
    self, DEFAULT_PUBSUB_URL, Error, PubSubClient, PubSubClientBuilder, PubSubError,
    PubSubSessionEvent,
};
use tokio::task::JoinHandle;

use crate::args::{AuthArgs, PubSubUrlArg};
use crate::auth;
use crate::exit::{Exit, Failure};

/// Where a Pub/Sub command goes, for its messages.
pub(crate) struct Endpoint {
    /// The Pub/Sub API's URL.
    pub(crate) url: String,
    /// Where the first token request goes (the login base, or the instance for a ready token).
    pub(crate) login: String,
}

/// A Pub/Sub builder with the resolved credentials and endpoint, and where it goes.
pub(crate) fn builder(
    auth_args: &AuthArgs,
    url: &PubSubUrlArg,
) -> Result<(PubSubClientBuilder, Endpoint), Failure> {
    let resolved = auth::resolve(auth_args)?;
    for warning in &resolved.warnings {
        tracing::warn!("{warning}");
    }
    if !resolved.ignored.is_empty() {
        tracing::info!(
            "using the {} flow; not used by it: {}",
            crate::listen::flow_words(resolved.credentials.flow_name()),
            resolved.ignored.join(", ")
        );
    }
    let url = url
        .pubsub_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(DEFAULT_PUBSUB_URL)
        .to_owned();
    let login = resolved.server.clone();
    Ok((
        pubsub::builder(resolved.credentials).url(url.clone()),
        Endpoint { url, login },
    ))
}

/// Builds the client; a configuration the session refuses is exit 2, naming `--pubsub-url`
/// when the endpoint is what it refused.
pub(crate) fn build(builder: PubSubClientBuilder, at: &Endpoint) -> Result<PubSubClient, Failure> {
    builder.build().map_err(|e| match e {
        Error::Session(PubSubError::Config(m)) => Failure::config(format!(
            "invalid configuration: {m} (the Pub/Sub endpoint is {}: SF_PUBSUB_URL or \
             --pubsub-url)",
            at.url
        )),
        other => failure(&other, at),
    })
}

/// The failure (exit code and message) of a Pub/Sub client error.
pub(crate) fn failure(error: &Error, at: &Endpoint) -> Failure {
    let url = &at.url;
    match error {
        Error::Store(e) => Failure::other(format!("replay store: {e}")),
        Error::Closed => Failure::other("the Pub/Sub session ended unexpectedly"),
        // The failure that closed the client decides the exit code and the message.
        Error::ClosedByFailure { cause } => failure(cause, at),
        Error::NotOpen => Failure::other("internal error: the Pub/Sub client is not open"),
        // The same flows as the Streaming API: the same messages and codes.
        Error::Session(PubSubError::Auth(e)) => Failure::from_client(
            &sfstream_tokio::Error::Stream(CoreError::Auth(e.clone())),
            &at.login,
        ),
        Error::Session(PubSubError::Config(m)) => {
            Failure::config(format!("invalid configuration: {m}"))
        }
        Error::Session(PubSubError::Transport(e)) => Failure::new(
            Exit::Unreachable,
            format!(
                "could not reach {} for a token: {e}; check the login URL (SF_LOGIN_URL or \
                 --login-url) and the network",
                at.login
            ),
        ),
        Error::Session(e) => match e.class() {
            Some(PubSubErrorClass::InvalidReplayId) => Failure::new(
                Exit::Subscription,
                format!(
                    "{e}. The server does not have this replay id (older than it keeps, or not \
                     one of this topic). Pass --fallback to replay every retained event instead \
                     (or --fallback=new to skip to new events), or another --replay"
                ),
            ),
            Some(PubSubErrorClass::Topic) => Failure::new(
                Exit::Subscription,
                format!("{e}: check the topic's name and the user's access to it"),
            ),
            Some(PubSubErrorClass::Auth) => Failure::new(Exit::Auth, e.to_string()),
            Some(PubSubErrorClass::Config) => Failure::config(format!(
                "{e}: check the Pub/Sub endpoint ({url}: SF_PUBSUB_URL or --pubsub-url) and \
                 the org's access to the Pub/Sub API"
            )),
            Some(PubSubErrorClass::Transient) => Failure::new(
                Exit::Unreachable,
                format!("{e}: could not reach {url}; check SF_PUBSUB_URL or --pubsub-url"),
            ),
            _ => Failure::other(e.to_string()),
        },
        other => Failure::other(other.to_string()),
    }
}

/// Prints the session's events as status lines, until the session ends (instead of the
/// driver's log lines of the same reports).
pub(crate) fn print_status(client: &PubSubClient) -> JoinHandle<()> {
    crate::logging::session_events_printed();
    let mut events = client.session_events();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            print(&event);
        }
    })
}

fn print(event: &PubSubSessionEvent) {
    match event {
        PubSubSessionEvent::Authenticated { instance_url, .. } => {
            tracing::debug!("authenticated ({instance_url})");
        }
        PubSubSessionEvent::StreamOpened { topic, replay_from } => {
            tracing::info!("subscribed to {topic} (from {replay_from})");
        }
        PubSubSessionEvent::StreamLost { topic, reason } => {
            tracing::warn!("the stream of {topic} was lost: {reason}");
        }
        PubSubSessionEvent::StreamRestored { topic, replay_from } => {
            tracing::info!("the stream of {topic} is open again (from {replay_from})");
        }
        PubSubSessionEvent::SubscribeFailed { topic, error } => {
            tracing::warn!("the subscription to {topic} failed: {error}");
        }
        PubSubSessionEvent::ReplayFallback {
            topic,
            rejected,
            using,
            error,
        } => {
            let id = rejected.as_ref().map_or_else(
                || "the replay id".to_owned(),
                |id| format!("replay id {id}"),
            );
            tracing::warn!(
                "the {id} of {topic} was rejected ({error}); replaying from {using} instead"
            );
        }
        PubSubSessionEvent::Reconnecting {
            topic,
            after,
            reason,
        } => {
            let what = topic.as_deref().map_or_else(
                || "the token request".to_owned(),
                |t| format!("the stream of {t}"),
            );
            tracing::warn!(
                "{what}: {reason} (next attempt in {:.1}s)",
                after.as_secs_f64()
            );
        }
        PubSubSessionEvent::Reauthenticating { reason } => {
            tracing::info!("the token was refused ({reason}); authenticating again");
        }
        PubSubSessionEvent::StreamSilent { topic, silent_for } => tracing::warn!(
            "nothing arrived on {topic} for {:.1}s; opening its stream again",
            silent_for.as_secs_f64()
        ),
        PubSubSessionEvent::IdleClosed { topic } => {
            tracing::debug!("the idle stream of {topic} was closed by the server");
        }
        PubSubSessionEvent::DeliveryLimitReached {
            topic,
            retry_after,
            error,
        } => tracing::warn!(
            "the org's event delivery allocation is used up ({error}); {topic} is tried again \
             in {:.0}s",
            retry_after.as_secs_f64()
        ),
        PubSubSessionEvent::Problem { error } => tracing::warn!("{error}"),
        PubSubSessionEvent::Lagged { missed } => {
            tracing::debug!("{missed} session event(s) not shown (the status lines fell behind)");
        }
        _ => {}
    }
}
