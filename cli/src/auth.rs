//! Chooses the OAuth flow from the settings given (flags or environment) and checks that it is
//! complete. Every message names the environment variable and the flag; none contains a secret.

use sfstream_tokio::core::oauth::{AuthError, check_url_scheme};
use sfstream_tokio::{Credentials, JwtKey, JwtKeyFromPem as _, LoginUrl, Secret};

use crate::args::{AuthArgs, parse_bool};
use crate::exit::Failure;
use crate::secret_files::{read_stdin, settle_secrets};

/// The chosen credentials, plus what the user should know about the choice.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The credentials.
    pub(crate) credentials: Credentials,
    /// Where the first request goes (the login base, or the instance for a ready token).
    pub(crate) server: String,
    /// Settings that were given but are not used by the chosen flow (names only).
    pub(crate) ignored: Vec<&'static str>,
    /// Warnings about how the settings were given (a secret as a flag value); never a secret.
    pub(crate) warnings: Vec<String>,
}

/// One setting: its environment variable and its flag.
#[derive(Clone, Copy)]
pub(crate) struct Setting {
    pub(crate) env: &'static str,
    pub(crate) flag: &'static str,
    pub(crate) what: &'static str,
}

impl Setting {
    pub(crate) fn names(self) -> String {
        format!("{} or {}", self.env, self.flag)
    }

    fn missing(self, flow: &str) -> Failure {
        Failure::config(format!(
            "the {flow} flow needs {}: set {} or pass {}",
            self.what, self.env, self.flag
        ))
    }
}

const LOGIN_URL: Setting = Setting {
    env: "SF_LOGIN_URL",
    flag: "--login-url",
    what: "the login URL",
};
const SANDBOX: Setting = Setting {
    env: "SF_SANDBOX",
    flag: "--sandbox",
    what: "the sandbox switch",
};
const CLIENT_ID: Setting = Setting {
    env: "SF_CLIENT_ID",
    flag: "--client-id",
    what: "the Connected App's consumer key",
};
pub(crate) const CLIENT_SECRET: Setting = Setting {
    env: "SF_CLIENT_SECRET",
    flag: "--client-secret",
    what: "the Connected App's consumer secret",
};
const USERNAME: Setting = Setting {
    env: "SF_USERNAME",
    flag: "--username",
    what: "the username",
};
pub(crate) const PASSWORD: Setting = Setting {
    env: "SF_PASSWORD",
    flag: "--password",
    what: "the password (with the security token appended)",
};
pub(crate) const REFRESH_TOKEN: Setting = Setting {
    env: "SF_REFRESH_TOKEN",
    flag: "--refresh-token",
    what: "a refresh token",
};
const JWT_KEY_FILE: Setting = Setting {
    env: "SF_JWT_KEY_FILE",
    flag: "--jwt-key-file",
    what: "the private key file",
};
pub(crate) const ACCESS_TOKEN: Setting = Setting {
    env: "SF_ACCESS_TOKEN",
    flag: "--access-token",
    what: "an access token",
};
const INSTANCE_URL: Setting = Setting {
    env: "SF_INSTANCE_URL",
    flag: "--instance-url",
    what: "the instance URL (e.g. https://MyDomainName.my.salesforce.com)",
};

/// A value that is set and not blank.
pub(crate) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Reads the secret files, then picks and checks the flow: access token > JWT bearer > refresh
/// token > password > client credentials.
pub(crate) fn resolve(a: &AuthArgs) -> Result<Resolved, Failure> {
    let mut a = a.clone();
    let warnings = settle_secrets(&mut a, &mut read_stdin)?;
    let mut resolved = pick_flow(&a)?;
    resolved.warnings = warnings;
    Ok(resolved)
}

fn pick_flow(a: &AuthArgs) -> Result<Resolved, Failure> {
    let login_url = given(&a.login_url);
    let sandbox = match given(&a.sandbox) {
        None => false,
        Some(v) => parse_bool(v).ok_or_else(|| {
            Failure::config(format!(
                "{} must be true or false (got {v:?})",
                SANDBOX.names()
            ))
        })?,
    };
    let client_id = given(&a.client_id);
    let client_secret = given(&a.client_secret);
    let username = given(&a.username);
    let password = given(&a.password);
    let refresh_token = given(&a.refresh_token);
    let jwt_key_file = a
        .jwt_key_file
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty());
    let access_token = given(&a.access_token);
    let instance_url = given(&a.instance_url);

    // Records which given settings a flow does not use, to say so once.
    let present = [
        (LOGIN_URL, login_url.is_some()),
        (SANDBOX, sandbox),
        (CLIENT_ID, client_id.is_some()),
        (CLIENT_SECRET, client_secret.is_some()),
        (USERNAME, username.is_some()),
        (PASSWORD, password.is_some()),
        (REFRESH_TOKEN, refresh_token.is_some()),
        (JWT_KEY_FILE, jwt_key_file.is_some()),
        (ACCESS_TOKEN, access_token.is_some()),
        (INSTANCE_URL, instance_url.is_some()),
    ];
    let ignored_except = |used: &[&str]| -> Vec<&'static str> {
        present
            .iter()
            .filter(|(s, on)| *on && !used.contains(&s.env))
            .map(|(s, _)| s.env)
            .collect()
    };

    if let Some(token) = access_token {
        let flow = "access token";
        let instance = instance_url.ok_or_else(|| INSTANCE_URL.missing(flow))?;
        check_url_scheme(instance).map_err(|detail| {
            Failure::config(format!(
                "the instance URL ({}) {detail}",
                INSTANCE_URL.names()
            ))
        })?;
        return Ok(Resolved {
            credentials: Credentials::AccessToken {
                access_token: Secret::new(token),
                instance_url: instance.to_owned(),
            },
            server: instance.trim_end_matches('/').to_owned(),
            warnings: Vec::new(),
            ignored: ignored_except(&[ACCESS_TOKEN.env, INSTANCE_URL.env]),
        });
    }

    let login = match (login_url, sandbox) {
        (Some(_), true) => {
            return Err(Failure::config(format!(
                "both a login URL ({}) and the sandbox switch ({}) are set: give only one \
                 (a sandbox's My Domain URL already says where to log in)",
                LOGIN_URL.names(),
                SANDBOX.names()
            )));
        }
        (Some(url), false) => {
            let login = LoginUrl::Custom(url.to_owned());
            login.validate().map_err(|e| {
                let detail = match e {
                    AuthError::InvalidConfig { detail } => detail
                        .strip_prefix("login URL: ")
                        .map(str::to_owned)
                        .unwrap_or(detail),
                    other => other.to_string(),
                };
                Failure::config(format!("the login URL ({}) {detail}", LOGIN_URL.names()))
            })?;
            login
        }
        (None, true) => LoginUrl::Sandbox,
        (None, false) => LoginUrl::Production,
    };
    let server = login.base().to_owned();
    let login_settings = [LOGIN_URL.env, SANDBOX.env];

    if let Some(path) = jwt_key_file {
        let flow = "JWT bearer";
        let client_id = client_id.ok_or_else(|| CLIENT_ID.missing(flow))?;
        let username = username.ok_or_else(|| USERNAME.missing(flow))?;
        let pem = std::fs::read_to_string(path).map_err(|e| {
            Failure::config(format!(
                "cannot read the JWT key file `{}` ({}): {e}",
                path.display(),
                JWT_KEY_FILE.names()
            ))
        })?;
        let key = JwtKey::from_pem(&pem).map_err(|e| {
            let detail = match e {
                AuthError::InvalidKey { detail } => detail,
                other => other.to_string(),
            };
            Failure::config(format!(
                "the JWT key file `{}` ({}) cannot be used: {detail}",
                path.display(),
                JWT_KEY_FILE.names()
            ))
        })?;
        let mut used = vec![JWT_KEY_FILE.env, CLIENT_ID.env, USERNAME.env];
        used.extend(login_settings);
        return Ok(Resolved {
            credentials: Credentials::JwtBearer {
                client_id: client_id.to_owned(),
                username: username.to_owned(),
                key,
                login,
                audience: None,
            },
            server,
            warnings: Vec::new(),
            ignored: ignored_except(&used),
        });
    }

    if let Some(refresh_token) = refresh_token {
        let flow = "refresh token";
        let client_id = client_id.ok_or_else(|| CLIENT_ID.missing(flow))?;
        let mut used = vec![REFRESH_TOKEN.env, CLIENT_ID.env, CLIENT_SECRET.env];
        used.extend(login_settings);
        return Ok(Resolved {
            credentials: Credentials::RefreshToken {
                client_id: client_id.to_owned(),
                client_secret: Secret::new(client_secret.unwrap_or_default()),
                refresh_token: Secret::new(refresh_token),
                login,
            },
            server,
            warnings: Vec::new(),
            ignored: ignored_except(&used),
        });
    }

    if username.is_some() || password.is_some() {
        let flow = "password";
        let username = username.ok_or_else(|| USERNAME.missing(flow))?;
        let password = password.ok_or_else(|| PASSWORD.missing(flow))?;
        let client_id = client_id.ok_or_else(|| CLIENT_ID.missing(flow))?;
        let client_secret = client_secret.ok_or_else(|| CLIENT_SECRET.missing(flow))?;
        let mut used = vec![USERNAME.env, PASSWORD.env, CLIENT_ID.env, CLIENT_SECRET.env];
        used.extend(login_settings);
        return Ok(Resolved {
            credentials: Credentials::Password {
                client_id: client_id.to_owned(),
                client_secret: Secret::new(client_secret),
                username: username.to_owned(),
                password: Secret::new(password),
                login,
            },
            server,
            warnings: Vec::new(),
            ignored: ignored_except(&used),
        });
    }

    if client_id.is_some() || client_secret.is_some() {
        let flow = "client credentials";
        let client_id = client_id.ok_or_else(|| CLIENT_ID.missing(flow))?;
        let client_secret = client_secret.ok_or_else(|| CLIENT_SECRET.missing(flow))?;
        if !matches!(login, LoginUrl::Custom(_)) {
            return Err(Failure::config(format!(
                "only a consumer key and secret are given, so the client credentials flow applies, \
                 and it needs the org's My Domain login URL: set {} or pass {} \
                 (https://MyDomainName.my.salesforce.com). For the password flow set {} and {} \
                 too; for the refresh token flow set {}",
                LOGIN_URL.env, LOGIN_URL.flag, USERNAME.env, PASSWORD.env, REFRESH_TOKEN.env
            )));
        }
        return Ok(Resolved {
            credentials: Credentials::ClientCredentials {
                client_id: client_id.to_owned(),
                client_secret: Secret::new(client_secret),
                login,
            },
            server,
            warnings: Vec::new(),
            ignored: ignored_except(&[CLIENT_ID.env, CLIENT_SECRET.env, LOGIN_URL.env]),
        });
    }

    if instance_url.is_some() {
        return Err(ACCESS_TOKEN.missing("access token"));
    }
    Err(Failure::config(
        "no credentials given. Set them in the environment or pass the flags, for example \
         SF_CLIENT_ID + SF_CLIENT_SECRET + SF_USERNAME + SF_PASSWORD (password flow), \
         SF_ACCESS_TOKEN + SF_INSTANCE_URL (a ready token), SF_REFRESH_TOKEN + SF_CLIENT_ID, or \
         SF_JWT_KEY_FILE + SF_CLIENT_ID + SF_USERNAME; see `sfstream listen --help`",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> AuthArgs {
        AuthArgs::default()
    }

    fn err(a: &AuthArgs) -> String {
        resolve(a).expect_err("a configuration error").message
    }

    #[test]
    fn nothing_given_names_the_settings() {
        let m = err(&args());
        assert!(
            m.contains("SF_CLIENT_ID") && m.contains("SF_ACCESS_TOKEN"),
            "{m}"
        );
    }

    #[test]
    fn access_token_wins_and_needs_the_instance() {
        let mut a = args();
        a.access_token = Some("tok-value-123".into());
        a.password = Some("hunter2".into());
        let m = err(&a);
        assert!(
            m.contains("SF_INSTANCE_URL") && m.contains("--instance-url"),
            "{m}"
        );
        assert!(
            !m.contains("hunter2") && !m.contains("tok-value-123"),
            "{m}"
        );
        a.instance_url = Some("https://x.my.salesforce.com".into());
        let r = resolve(&a).expect("access token flow");
        assert_eq!(r.credentials.flow_name(), "access_token");
        assert_eq!(r.ignored, vec!["SF_PASSWORD"]);
    }

    #[test]
    fn password_flow_missing_pieces() {
        let mut a = args();
        a.username = Some("u@example.com".into());
        let m = err(&a);
        assert!(m.contains("SF_PASSWORD") && m.contains("--password"), "{m}");
        a.password = Some("pw".into());
        let m = err(&a);
        assert!(
            m.contains("SF_CLIENT_ID") && m.contains("--client-id"),
            "{m}"
        );
        a.client_id = Some("id".into());
        let m = err(&a);
        assert!(m.contains("SF_CLIENT_SECRET"), "{m}");
        a.client_secret = Some("s".into());
        let r = resolve(&a).expect("password flow");
        assert_eq!(r.credentials.flow_name(), "password");
        assert_eq!(r.server, "https://login.salesforce.com");
    }

    #[test]
    fn login_url_and_sandbox_conflict_and_plain_http_is_refused() {
        let mut a = args();
        a.client_id = Some("id".into());
        a.refresh_token = Some("r".into());
        a.sandbox = Some("true".into());
        let r = resolve(&a).expect("refresh flow");
        assert_eq!(r.server, "https://test.salesforce.com");
        a.login_url = Some("https://acme.my.salesforce.com".into());
        assert!(err(&a).contains("SF_SANDBOX"));
        a.sandbox = Some("false".into());
        a.login_url = Some("http://example.com".into());
        let m = err(&a);
        assert!(
            m.contains("SF_LOGIN_URL") && m.contains("plain http"),
            "{m}"
        );
        a.sandbox = Some("perhaps".into());
        assert!(err(&a).contains("true or false"));
    }

    #[test]
    fn client_credentials_need_my_domain() {
        let mut a = args();
        a.client_id = Some("id".into());
        a.client_secret = Some("s".into());
        assert!(err(&a).contains("My Domain"));
        a.login_url = Some("https://acme.my.salesforce.com".into());
        let r = resolve(&a).expect("client credentials");
        assert_eq!(r.credentials.flow_name(), "client_credentials");
    }

    #[test]
    fn unreadable_jwt_key_names_the_file_and_setting() {
        let mut a = args();
        a.jwt_key_file = Some("/nonexistent/key.pem".into());
        a.client_id = Some("id".into());
        a.username = Some("u".into());
        let m = err(&a);
        assert!(
            m.contains("/nonexistent/key.pem") && m.contains("SF_JWT_KEY_FILE"),
            "{m}"
        );
    }
}
