//! Credentials and the settings fixed at start.

use std::time::Duration;

use crate::jwt::RsaPublicKey;

/// The credentials the emulator accepts.
///
/// The defaults are meant for tests and demos:
///
/// | field | default |
/// |---|---|
/// | `client_id` (consumer key) | `emulator-client-id` |
/// | `client_secret` (consumer secret) | `emulator-client-secret` |
/// | `username` | `user@example.com` |
/// | `password` | `password` |
/// | `security_token` | `TOKEN` (so the password grant expects `passwordTOKEN`) |
/// | `refresh_token` | `emulator-refresh-token` |
/// | `access_token` | `emulator-access-token` (valid from start, until revoked) |
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// The connected app's consumer key (`client_id`; the JWT `iss`).
    pub client_id: String,
    /// The connected app's consumer secret.
    pub client_secret: String,
    /// The user's name (the JWT `sub`).
    pub username: String,
    /// The user's password, without the security token.
    pub password: String,
    /// The security token appended to the password in the password grant.
    pub security_token: String,
    /// The refresh token accepted by the `refresh_token` grant.
    pub refresh_token: String,
    /// An access token that is valid from the start, so a client can stream without OAuth.
    pub access_token: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            client_id: "emulator-client-id".into(),
            client_secret: "emulator-client-secret".into(),
            username: "user@example.com".into(),
            password: "password".into(),
            security_token: "TOKEN".into(),
            refresh_token: "emulator-refresh-token".into(),
            access_token: "emulator-access-token".into(),
        }
    }
}

/// One more org for an emulator that serves several ([`EmulatorBuilder::org`](crate::EmulatorBuilder::org)):
/// its own id, user and credentials, channels and event logs, tokens and sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Org {
    /// The org id (`00D…`): the prefix of its access tokens and part of its identity URL.
    pub org_id: String,
    /// The user id (`005…`).
    pub user_id: String,
    /// The credentials it accepts. They must differ from every other org's where a grant could
    /// match both (the username for the password and JWT grants, the refresh token, the
    /// consumer key and secret for client credentials): the first org that grants wins.
    pub credentials: Credentials,
}

impl Org {
    /// Org number `n` (2, 3, …; the default org is number 1) with credentials derived from the defaults: user
    /// `user{n}@example.com`, consumer key `emulator-client-id-{n}`, refresh token
    /// `emulator-refresh-token-{n}`, access token `emulator-access-token-{n}`; the password,
    /// security token and consumer secret stay the defaults. Its id is `00DEM` followed by
    /// `n` in 10 digits.
    pub fn numbered(n: u32) -> Self {
        let d = Credentials::default();
        Self {
            org_id: format!("00DEM{n:010}"),
            user_id: format!("005EM{n:010}"),
            credentials: Credentials {
                client_id: format!("{}-{n}", d.client_id),
                username: format!("user{n}@example.com"),
                refresh_token: format!("{}-{n}", d.refresh_token),
                access_token: format!("{}-{n}", d.access_token),
                ..d
            },
        }
    }
}

/// The most orgs `--orgs` accepts.
pub const MAX_ORGS: u32 = 1000;

/// Reads the value of `--orgs` (how many orgs to serve, 1 to [`MAX_ORGS`]); the error names
/// the flag and the range.
pub fn parse_org_count(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_ORGS).contains(&n) => Ok(n),
        _ => Err(format!(
            "--orgs: {text:?} is not a number of orgs from 1 to {MAX_ORGS}"
        )),
    }
}

/// The id of the default org.
pub(crate) const DEFAULT_ORG_ID: &str = "00DEM0000000001";
/// The user id of the default org.
pub(crate) const DEFAULT_USER_ID: &str = "005EM0000000001";

/// The channels that exist when the emulator starts (unless replaced by the builder).
pub const DEFAULT_CHANNELS: &[&str] = &[
    "/topic/AccountUpdates",
    "/event/Order__e",
    "/data/ChangeEvents",
    "/data/AccountChangeEvent",
    "/u/notifications",
];

/// Settings fixed when the emulator starts (one copy per org, with its identity).
#[derive(Clone)]
pub(crate) struct Settings {
    /// `http://localhost:PORT` or the public URL, also the `instance_url` of token replies.
    pub(crate) base_url: String,
    pub(crate) long_poll_timeout: Duration,
    pub(crate) reconnect_deadline: Duration,
    pub(crate) retention: Duration,
    pub(crate) max_retained_events: usize,
    pub(crate) max_batch: usize,
    pub(crate) min_api_version: u32,
    pub(crate) credentials: Credentials,
    pub(crate) jwt_key: Option<RsaPublicKey>,
    pub(crate) jwt_audiences: Vec<String>,
    pub(crate) auto_create_channels: bool,
    pub(crate) secure_cookies: bool,
    pub(crate) max_clients: Option<usize>,
    pub(crate) revoked_token_ends_sessions: bool,
    pub(crate) org_id: String,
    pub(crate) user_id: String,
}

impl Settings {
    /// The long-poll timeout in milliseconds, as advertised in connect advice.
    pub(crate) fn long_poll_timeout_ms(&self) -> u64 {
        u64::try_from(self.long_poll_timeout.as_millis()).unwrap_or(u64::MAX)
    }
}
