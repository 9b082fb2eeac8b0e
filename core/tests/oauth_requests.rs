//! Token requests: form bodies, headers and URLs for every flow, and configuration checks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Method, Request, header};
use sfstream_core::Secret;
use sfstream_core::oauth::{
    AuthError, Credentials, JWT_BEARER_GRANT_TYPE, LoginUrl, check_url_scheme,
};

mod test_signer;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn form(req: &Request<Vec<u8>>) -> Vec<(String, String)> {
    form_urlencoded::parse(req.body())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn request(creds: &Credentials) -> Request<Vec<u8>> {
    creds
        .token_request(now())
        .expect("valid credentials")
        .expect("a request")
}

fn password(login: LoginUrl) -> Credentials {
    Credentials::Password {
        client_id: "3MVG9-key".into(),
        client_secret: Secret::new("consumer-secret"),
        username: "user@example.com".into(),
        password: Secret::new("p&ss=word+SECTOKEN"),
        login,
    }
}

fn jwt(login: LoginUrl, audience: Option<&str>) -> Credentials {
    Credentials::JwtBearer {
        client_id: "3MVG9-key".into(),
        username: "user@example.com".into(),
        key: test_signer::test_key(),
        login,
        audience: audience.map(str::to_owned),
    }
}

fn jwt_claims(req: &Request<Vec<u8>>) -> serde_json::Value {
    let assertion = form(req)
        .into_iter()
        .find(|(k, _)| k == "assertion")
        .map(|(_, v)| v)
        .expect("assertion field");
    let payload = assertion.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn config_error(creds: &Credentials) -> String {
    match creds.token_request(now()) {
        Err(AuthError::InvalidConfig { detail }) => detail,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn password_flow_posts_the_five_fields_to_production() {
    let req = request(&password(LoginUrl::Production));
    assert_eq!(req.method(), Method::POST);
    assert_eq!(
        req.uri().to_string(),
        "https://login.salesforce.com/services/oauth2/token"
    );
    assert_eq!(
        req.headers()[header::CONTENT_TYPE],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(req.headers()[header::ACCEPT], "application/json");
    assert_eq!(
        form(&req),
        pairs(&[
            ("grant_type", "password"),
            ("client_id", "3MVG9-key"),
            ("client_secret", "consumer-secret"),
            ("username", "user@example.com"),
            ("password", "p&ss=word+SECTOKEN"),
        ])
    );
    // Special characters are percent-encoded, not sent raw.
    let body = String::from_utf8(req.body().clone()).unwrap();
    assert!(body.contains("password=p%26ss%3Dword%2BSECTOKEN"), "{body}");
}

#[test]
fn sandbox_and_custom_login_urls() {
    let req = request(&password(LoginUrl::Sandbox));
    assert_eq!(
        req.uri().to_string(),
        "https://test.salesforce.com/services/oauth2/token"
    );
    let req = request(&password(LoginUrl::Custom(
        "https://acme.my.salesforce.com/".into(),
    )));
    assert_eq!(
        req.uri().to_string(),
        "https://acme.my.salesforce.com/services/oauth2/token"
    );
    let req = request(&password(LoginUrl::Custom("http://127.0.0.1:8080".into())));
    assert_eq!(
        req.uri().to_string(),
        "http://127.0.0.1:8080/services/oauth2/token"
    );
}

#[test]
fn login_url_base_and_token_url_have_no_double_slash() {
    assert_eq!(LoginUrl::Production.base(), "https://login.salesforce.com");
    assert_eq!(LoginUrl::Sandbox.base(), "https://test.salesforce.com");
    let custom = LoginUrl::Custom("https://acme.my.salesforce.com//".into());
    assert_eq!(custom.base(), "https://acme.my.salesforce.com");
    assert_eq!(
        custom.token_url(),
        "https://acme.my.salesforce.com/services/oauth2/token"
    );
}

#[test]
fn refresh_token_flow_omits_an_empty_secret() {
    let with_secret = Credentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: Secret::new("cs"),
        refresh_token: Secret::new("5Aep861-refresh"),
        login: LoginUrl::Production,
    };
    assert_eq!(
        form(&request(&with_secret)),
        pairs(&[
            ("grant_type", "refresh_token"),
            ("client_id", "cid"),
            ("client_secret", "cs"),
            ("refresh_token", "5Aep861-refresh"),
        ])
    );
    let without_secret = Credentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: Secret::new(""),
        refresh_token: Secret::new("5Aep861-refresh"),
        login: LoginUrl::Production,
    };
    assert_eq!(
        form(&request(&without_secret)),
        pairs(&[
            ("grant_type", "refresh_token"),
            ("client_id", "cid"),
            ("refresh_token", "5Aep861-refresh"),
        ])
    );
}

#[test]
fn client_credentials_flow_posts_three_fields_to_my_domain() {
    let creds = Credentials::ClientCredentials {
        client_id: "cid".into(),
        client_secret: Secret::new("cs"),
        login: LoginUrl::Custom("https://acme.my.salesforce.com".into()),
    };
    let req = request(&creds);
    assert_eq!(
        req.uri().to_string(),
        "https://acme.my.salesforce.com/services/oauth2/token"
    );
    assert_eq!(
        form(&req),
        pairs(&[
            ("grant_type", "client_credentials"),
            ("client_id", "cid"),
            ("client_secret", "cs"),
        ])
    );
}

#[test]
fn client_credentials_flow_refuses_login_and_test_hosts() {
    for login in [LoginUrl::Production, LoginUrl::Sandbox] {
        let creds = Credentials::ClientCredentials {
            client_id: "cid".into(),
            client_secret: Secret::new("cs"),
            login,
        };
        let detail = config_error(&creds);
        assert!(detail.contains("My Domain"), "{detail}");
    }
}

#[test]
fn jwt_flow_posts_grant_type_and_assertion_only() {
    let req = request(&jwt(LoginUrl::Production, None));
    let fields = form(&req);
    assert_eq!(fields.len(), 2);
    assert_eq!(
        fields[0],
        ("grant_type".to_owned(), JWT_BEARER_GRANT_TYPE.to_owned())
    );
    assert_eq!(fields[1].0, "assertion");
    assert_eq!(fields[1].1.split('.').count(), 3);
    let claims = jwt_claims(&req);
    assert_eq!(claims["iss"], "3MVG9-key");
    assert_eq!(claims["sub"], "user@example.com");
    assert_eq!(claims["aud"], "https://login.salesforce.com");
}

#[test]
fn jwt_audience_defaults_per_login_url() {
    let cases = [
        (LoginUrl::Production, "https://login.salesforce.com"),
        (LoginUrl::Sandbox, "https://test.salesforce.com"),
        (
            LoginUrl::Custom("https://acme.my.salesforce.com".into()),
            "https://login.salesforce.com",
        ),
        (
            LoginUrl::Custom("https://acme--uat.sandbox.my.salesforce.com".into()),
            "https://test.salesforce.com",
        ),
        (
            LoginUrl::Custom("https://acme--uat.my.salesforce.com".into()),
            "https://test.salesforce.com",
        ),
        (
            LoginUrl::Custom("https://acme.force.com/customers/".into()),
            "https://acme.force.com/customers",
        ),
        (
            LoginUrl::Custom("http://127.0.0.1:8080".into()),
            "http://127.0.0.1:8080",
        ),
    ];
    for (login, expected) in cases {
        assert_eq!(login.default_audience(), expected, "{login:?}");
        let claims = jwt_claims(&request(&jwt(login, None)));
        assert_eq!(claims["aud"], expected);
    }
    let claims = jwt_claims(&request(&jwt(
        LoginUrl::Production,
        Some("https://custom.audience"),
    )));
    assert_eq!(claims["aud"], "https://custom.audience");
}

#[test]
fn access_token_needs_no_request() {
    let creds = Credentials::AccessToken {
        access_token: Secret::new("00Dx!token"),
        instance_url: "https://acme.my.salesforce.com/".into(),
    };
    assert!(creds.token_request(now()).unwrap().is_none());
    let token = creds.ready_token().unwrap();
    assert_eq!(token.access_token.expose(), "00Dx!token");
    assert_eq!(token.instance_url, "https://acme.my.salesforce.com");
    assert_eq!(token.token_type, "Bearer");
    assert!(!creds.can_refresh());
    assert!(creds.login().is_none());
}

#[test]
fn flow_names_and_refreshability() {
    let cases = [
        (password(LoginUrl::Production), "password", true),
        (jwt(LoginUrl::Production, None), "jwt_bearer", true),
        (
            Credentials::RefreshToken {
                client_id: "c".into(),
                client_secret: Secret::new("s"),
                refresh_token: Secret::new("r"),
                login: LoginUrl::Production,
            },
            "refresh_token",
            true,
        ),
        (
            Credentials::ClientCredentials {
                client_id: "c".into(),
                client_secret: Secret::new("s"),
                login: LoginUrl::Custom("https://a.my.salesforce.com".into()),
            },
            "client_credentials",
            true,
        ),
        (
            Credentials::AccessToken {
                access_token: Secret::new("t"),
                instance_url: "https://a.my.salesforce.com".into(),
            },
            "access_token",
            false,
        ),
    ];
    for (creds, name, refresh) in cases {
        assert_eq!(creds.flow_name(), name);
        assert_eq!(creds.can_refresh(), refresh, "{name}");
        assert_eq!(creds.ready_token().is_some(), !refresh, "{name}");
    }
}

#[test]
fn empty_required_fields_are_config_errors() {
    let mut creds = password(LoginUrl::Production);
    if let Credentials::Password { client_id, .. } = &mut creds {
        client_id.clear();
    }
    assert!(config_error(&creds).contains("client_id"));

    let mut creds = password(LoginUrl::Production);
    if let Credentials::Password { username, .. } = &mut creds {
        *username = "  ".into();
    }
    assert!(config_error(&creds).contains("username"));

    let mut creds = password(LoginUrl::Production);
    if let Credentials::Password { password, .. } = &mut creds {
        *password = Secret::new("");
    }
    assert!(config_error(&creds).contains("password"));

    let creds = Credentials::RefreshToken {
        client_id: "c".into(),
        client_secret: Secret::new("s"),
        refresh_token: Secret::new(""),
        login: LoginUrl::Production,
    };
    assert!(config_error(&creds).contains("refresh_token"));

    let creds = jwt(LoginUrl::Production, Some(""));
    assert!(config_error(&creds).contains("audience"));

    let creds = Credentials::AccessToken {
        access_token: Secret::new(""),
        instance_url: "https://a.my.salesforce.com".into(),
    };
    assert!(config_error(&creds).contains("access_token"));
}

#[test]
fn plain_http_is_refused_except_for_loopback() {
    let detail = config_error(&password(LoginUrl::Custom(
        "http://acme.my.salesforce.com".into(),
    )));
    assert!(detail.contains("https"), "{detail}");

    for ok in [
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:3000",
        "http://LOCALHOST",
        "http://[::1]:8080",
    ] {
        assert!(
            password(LoginUrl::Custom(ok.into()))
                .token_request(now())
                .is_ok(),
            "{ok}"
        );
    }

    let creds = Credentials::AccessToken {
        access_token: Secret::new("t"),
        instance_url: "http://na1.salesforce.com".into(),
    };
    assert!(config_error(&creds).contains("instance_url"));
}

#[test]
fn malformed_login_urls_are_config_errors() {
    for bad in [
        "",
        "acme.my.salesforce.com",
        "ftp://acme.my.salesforce.com",
        "https://user:pw@acme.my.salesforce.com",
        "https://acme.my.salesforce.com?x=1",
        "https://acme.my.salesforce.com/#frag",
    ] {
        let detail = config_error(&password(LoginUrl::Custom(bad.into())));
        assert!(detail.starts_with("login URL"), "{bad}: {detail}");
        assert!(!detail.contains("pw@"), "{detail}");
    }
}

#[test]
fn url_scheme_helpers() {
    assert!(check_url_scheme("https://na1.salesforce.com").is_ok());
    assert!(check_url_scheme("HTTPS://na1.salesforce.com").is_ok());
    assert!(check_url_scheme("http://127.0.0.1:9/x").is_ok());
    assert!(check_url_scheme("http://na1.salesforce.com").is_err());
    assert!(check_url_scheme("http://127.0.0.1.evil.com").is_err());
    assert!(check_url_scheme("not a url").is_err());
}

#[test]
fn jwt_exp_follows_the_injected_clock() {
    let req = request(&jwt(LoginUrl::Production, None));
    let exp = jwt_claims(&req)["exp"].as_u64().unwrap();
    assert_eq!(exp, 1_700_000_000 + 170);
}
