//! The configuration of a transcript's session: the credentials of one flow and the settings
//! that shape the requests (and their timing).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::replay_from;
use crate::config::{CommitPolicy, Config, Endpoint, ReplayFallback, ReplayFrom, RetryPolicy};
use crate::oauth::jwt::{JwtKey, MIN_KEY_BITS, Rs256Signer};
use crate::oauth::{AuthError, Credentials, LoginUrl};
use crate::secret::Secret;

/// The configuration of a transcript's session. Credentials are fake: transcripts are test data
/// (a recorded transcript holds placeholders where the secrets were). `Debug` hides them all the
/// same, like every credential.
///
/// One flow: `access_token` (with `instance_url`), `password`, `refresh_token`, `jwt`,
/// `client_credentials` (each with `login_url`), or `bayeux_url`.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptConfig {
    /// A ready access token (with `instance_url`).
    pub access_token: Option<String>,
    /// The instance URL for `access_token`.
    pub instance_url: Option<String>,
    /// Password flow: `[client_id, client_secret, username, password]`, with `login_url`.
    pub password: Option<[String; 4]>,
    /// Refresh-token flow: `[client_id, client_secret, refresh_token]`, with `login_url` (an
    /// empty client secret is left out of the request, as in [`Credentials::RefreshToken`]).
    pub refresh_token: Option<[String; 3]>,
    /// JWT bearer flow, with `login_url`. The assertion is signed by a stand-in key: its header
    /// and claims are real, its signature a placeholder (transcripts never hold a private key).
    pub jwt: Option<TranscriptJwt>,
    /// Client credentials flow: `[client_id, client_secret]`, with `login_url` (the org's My
    /// Domain).
    pub client_credentials: Option<[String; 2]>,
    /// Where to log in: `production` (the default), `sandbox`, or a URL.
    pub login_url: Option<String>,
    /// A plain Bayeux endpoint instead of Salesforce.
    pub bayeux_url: Option<String>,
    /// API version.
    pub api_version: Option<String>,
    /// Default replay start: `new`, `all` or an id.
    pub replay: Option<Value>,
    /// Replay fallback: `new` or `all`.
    pub replay_fallback: Option<String>,
    /// `manual` for manual commits.
    pub commit: Option<String>,
    /// Backoff: initial delay in milliseconds.
    pub retry_initial_ms: Option<u64>,
    /// Backoff: cap in milliseconds.
    pub retry_max_ms: Option<u64>,
    /// Backoff: cap for org limits in milliseconds.
    pub retry_max_for_limits_ms: Option<u64>,
    /// Backoff: the factor between delays.
    pub retry_multiplier: Option<f64>,
    /// Backoff jitter, 0 to 1. Off (0) unless given, so that delays are exact; a recorded
    /// transcript gives it with `seed`, which then repeats the recorded delays.
    pub retry_jitter: Option<f64>,
    /// The jitter seed.
    pub seed: Option<u64>,
    /// Max pending messages.
    pub max_pending: Option<usize>,
    /// The bound on the memory waiting messages take, in bytes.
    pub max_pending_bytes: Option<usize>,
    /// How long the next long poll may be held back, in milliseconds.
    pub max_poll_delay_ms: Option<u64>,
    /// Connection timeout in milliseconds (0 = none).
    pub connection_timeout_ms: Option<u64>,
    /// The deadline of requests other than long polls, in milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// Added to the server's long-poll timeout for a long poll's deadline, in milliseconds.
    pub long_poll_margin_ms: Option<u64>,
    /// The largest response body, in bytes.
    pub max_response_bytes: Option<usize>,
    /// The wall-clock time when the session opens, in milliseconds since the Unix epoch
    /// (default 2023-11-14T22:13:20Z). Cookie expiry and the JWT `exp` claim use it.
    pub wall_clock_ms: Option<u64>,
}

/// The JWT bearer flow of a transcript.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptJwt {
    /// The Connected App's consumer key.
    pub client_id: String,
    /// The Salesforce username.
    pub username: String,
    /// The `aud` claim; default the login URL's audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// Signs a transcript's JWT assertions: a 2048-bit key in name only, whose signature is a run of
/// zero bytes. The server of a transcript is recorded; nothing checks the signature.
struct StandInSigner;

impl Rs256Signer for StandInSigner {
    fn modulus_bits(&self) -> usize {
        MIN_KEY_BITS
    }

    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, AuthError> {
        Ok(vec![0; MIN_KEY_BITS / 8])
    }
}

impl fmt::Debug for TranscriptConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "***");
        f.debug_struct("TranscriptConfig")
            .field("access_token", &hidden(&self.access_token))
            .field("instance_url", &self.instance_url)
            .field(
                "password",
                &self
                    .password
                    .as_ref()
                    .map(|[id, _, user, _]| [id.as_str(), "***", user.as_str(), "***"]),
            )
            .field(
                "refresh_token",
                &self
                    .refresh_token
                    .as_ref()
                    .map(|[id, _, _]| [id.as_str(), "***", "***"]),
            )
            .field("jwt", &self.jwt)
            .field(
                "client_credentials",
                &self
                    .client_credentials
                    .as_ref()
                    .map(|[id, _]| [id.as_str(), "***"]),
            )
            .field("login_url", &self.login_url)
            .field("bayeux_url", &self.bayeux_url)
            .field("api_version", &self.api_version)
            .field("replay", &self.replay)
            .field("replay_fallback", &self.replay_fallback)
            .field("commit", &self.commit)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

fn login_url(text: Option<&str>) -> LoginUrl {
    match text {
        None | Some("production") => LoginUrl::Production,
        Some("sandbox") => LoginUrl::Sandbox,
        Some(url) => LoginUrl::Custom(url.to_owned()),
    }
}

fn ms(value: Option<u64>, default: Duration) -> Duration {
    value.map_or(default, Duration::from_millis)
}

impl TranscriptConfig {
    /// The credentials of the one flow the configuration gives.
    fn credentials(&self) -> Result<Option<Credentials>, String> {
        let login = login_url(self.login_url.as_deref());
        let mut flows = Vec::new();
        if let Some(token) = &self.access_token {
            flows.push(Credentials::AccessToken {
                access_token: Secret::new(token.clone()),
                instance_url: self
                    .instance_url
                    .clone()
                    .ok_or("access_token needs instance_url")?,
            });
        }
        if let Some([id, secret, user, password]) = &self.password {
            flows.push(Credentials::Password {
                client_id: id.clone(),
                client_secret: Secret::new(secret.clone()),
                username: user.clone(),
                password: Secret::new(password.clone()),
                login: login.clone(),
            });
        }
        if let Some([id, secret, refresh]) = &self.refresh_token {
            flows.push(Credentials::RefreshToken {
                client_id: id.clone(),
                client_secret: Secret::new(secret.clone()),
                refresh_token: Secret::new(refresh.clone()),
                login: login.clone(),
            });
        }
        if let Some(jwt) = &self.jwt {
            let key = JwtKey::from_signer(StandInSigner).map_err(|e| e.to_string())?;
            flows.push(Credentials::JwtBearer {
                client_id: jwt.client_id.clone(),
                username: jwt.username.clone(),
                key,
                login: login.clone(),
                audience: jwt.audience.clone(),
            });
        }
        if let Some([id, secret]) = &self.client_credentials {
            flows.push(Credentials::ClientCredentials {
                client_id: id.clone(),
                client_secret: Secret::new(secret.clone()),
                login,
            });
        }
        let given = flows.len() + usize::from(self.bayeux_url.is_some());
        if given > 1 {
            return Err(
                "config gives several flows: give one of access_token, password, \
                        refresh_token, jwt, client_credentials or bayeux_url"
                    .into(),
            );
        }
        Ok(flows.pop())
    }

    /// Builds the session configuration.
    pub fn to_config(&self) -> Result<Config, String> {
        let mut config = match (self.credentials()?, &self.bayeux_url) {
            (Some(credentials), _) => Config::salesforce(credentials),
            (None, Some(url)) => Config::bayeux(url.clone()),
            (None, None) => {
                return Err("config needs access_token, password, refresh_token, jwt, \
                            client_credentials or bayeux_url"
                    .into());
            }
        };
        if let Some(v) = &self.api_version {
            config = config.api_version(v.clone());
        }
        if let Some(r) = &self.replay {
            config = config.replay(replay_from(r)?);
        }
        config.replay_fallback = match self.replay_fallback.as_deref() {
            None => None,
            Some("new") => Some(ReplayFallback::New),
            Some("all") => Some(ReplayFallback::All),
            Some(o) => return Err(format!("replay_fallback {o:?}: use \"new\" or \"all\"")),
        };
        config.commit = match self.commit.as_deref() {
            None | Some("automatic") => CommitPolicy::Automatic,
            Some("manual") => CommitPolicy::Manual,
            Some(o) => return Err(format!("commit {o:?}: use \"manual\" or \"automatic\"")),
        };
        let defaults = RetryPolicy::default();
        config.retry = RetryPolicy {
            initial: ms(self.retry_initial_ms, defaults.initial),
            max: ms(self.retry_max_ms, defaults.max),
            max_for_limits: ms(self.retry_max_for_limits_ms, defaults.max_for_limits),
            multiplier: self.retry_multiplier.unwrap_or(defaults.multiplier),
            jitter: self.retry_jitter.unwrap_or(0.0),
        };
        config.seed = self.seed;
        if let Some(m) = self.max_pending {
            config.max_pending = m;
        }
        if let Some(b) = self.max_pending_bytes {
            config.max_pending_bytes = b;
        }
        config.max_poll_delay = ms(self.max_poll_delay_ms, config.max_poll_delay);
        if let Some(ms) = self.connection_timeout_ms {
            config.connection_timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        config.request_timeout = ms(self.request_timeout_ms, config.request_timeout);
        config.long_poll_margin = ms(self.long_poll_margin_ms, config.long_poll_margin);
        if let Some(b) = self.max_response_bytes {
            config.max_response_bytes = b;
        }
        Ok(config)
    }

    /// The transcript configuration of a session configuration, with every secret replaced by
    /// `placeholder` (a recorded transcript holds no secret). Everything that shapes the
    /// requests and their timing is kept, so the recorded session repeats.
    #[must_use]
    pub fn redacted(config: &Config, placeholder: &str) -> Self {
        let hide = || placeholder.to_owned();
        let login = |login: &LoginUrl| match login {
            LoginUrl::Production => None,
            LoginUrl::Sandbox => Some("sandbox".to_owned()),
            other => Some(other.base().to_owned()),
        };
        let mut t = Self::default();
        match &config.endpoint {
            Endpoint::Bayeux { url } => t.bayeux_url = Some(url.clone()),
            Endpoint::Salesforce {
                credentials,
                api_version,
            } => {
                t.api_version = Some(api_version.clone());
                match credentials {
                    Credentials::AccessToken { instance_url, .. } => {
                        t.access_token = Some(hide());
                        t.instance_url = Some(instance_url.clone());
                    }
                    Credentials::Password {
                        client_id,
                        username,
                        login: l,
                        ..
                    } => {
                        t.password = Some([client_id.clone(), hide(), username.clone(), hide()]);
                        t.login_url = login(l);
                    }
                    Credentials::RefreshToken {
                        client_id,
                        client_secret,
                        login: l,
                        ..
                    } => {
                        // An empty secret stays empty: it decides whether the form carries one.
                        let secret = if client_secret.is_empty() {
                            String::new()
                        } else {
                            hide()
                        };
                        t.refresh_token = Some([client_id.clone(), secret, hide()]);
                        t.login_url = login(l);
                    }
                    Credentials::JwtBearer {
                        client_id,
                        username,
                        login: l,
                        audience,
                        ..
                    } => {
                        t.jwt = Some(TranscriptJwt {
                            client_id: client_id.clone(),
                            username: username.clone(),
                            audience: audience.clone(),
                        });
                        t.login_url = login(l);
                    }
                    Credentials::ClientCredentials {
                        client_id,
                        login: l,
                        ..
                    } => {
                        t.client_credentials = Some([client_id.clone(), hide()]);
                        t.login_url = login(l);
                    }
                }
            }
        }
        t.replay = Some(match config.replay {
            ReplayFrom::New => Value::from("new"),
            ReplayFrom::All => Value::from("all"),
            ReplayFrom::Id(id) => Value::from(id),
        });
        t.replay_fallback = config.replay_fallback.map(|f| {
            match f {
                ReplayFallback::All => "all",
                _ => "new",
            }
            .to_owned()
        });
        t.commit = Some(
            match config.commit {
                CommitPolicy::Manual => "manual",
                _ => "automatic",
            }
            .to_owned(),
        );
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        t.retry_initial_ms = Some(millis(config.retry.initial));
        t.retry_max_ms = Some(millis(config.retry.max));
        t.retry_max_for_limits_ms = Some(millis(config.retry.max_for_limits));
        t.retry_multiplier = Some(config.retry.multiplier);
        t.retry_jitter = Some(config.retry.jitter);
        t.seed = config.seed;
        t.max_pending = Some(config.max_pending);
        t.max_pending_bytes = Some(config.max_pending_bytes);
        t.max_poll_delay_ms = Some(millis(config.max_poll_delay));
        t.connection_timeout_ms = Some(config.connection_timeout.map_or(0, millis));
        t.request_timeout_ms = Some(millis(config.request_timeout));
        t.long_poll_margin_ms = Some(millis(config.long_poll_margin));
        t.max_response_bytes = Some(config.max_response_bytes);
        t
    }
}
