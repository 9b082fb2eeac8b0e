//! `POST /services/oauth2/token`: password, refresh token, client credentials and JWT bearer.
//!
//! Successes look like Salesforce's (`access_token`, `signature`, `scope`, `instance_url`, `id`,
//! `token_type`, `issued_at`; no `expires_in`), failures are HTTP 400 with `error` and
//! `error_description`. No grant implemented here issues a refresh token: Salesforce gives one
//! only in the web-server and user-agent flows.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use http::StatusCode;
use http::header::AUTHORIZATION;
use serde::Serialize;
use sha2::Sha256;

use crate::faults::{Endpoint, Fault};
use crate::jwt::{self, Expected, Refusal};
use crate::orgs::Orgs;
use crate::respond;
use crate::state::{Injection, RequestInfo, Shared};
use crate::util;

/// The JWT bearer grant type.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The host of identity URLs (`id`) in token replies, as Salesforce's production logins.
pub(crate) const LOGIN_HOST: &str = "https://login.salesforce.com";
/// Largest form body read.
const MAX_FORM: usize = 64 * 1024;

#[derive(Serialize)]
struct Success {
    access_token: String,
    signature: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    instance_url: String,
    id: String,
    token_type: &'static str,
    issued_at: String,
}

#[derive(Serialize)]
struct Failure {
    error: &'static str,
    error_description: &'static str,
}

type Outcome = Result<Option<&'static str>, Failure>;

fn fail(error: &'static str, error_description: &'static str) -> Failure {
    Failure {
        error,
        error_description,
    }
}

/// The token endpoint handler.
pub(crate) async fn token(State(orgs): State<Arc<Orgs>>, req: Request) -> Response {
    // Faults, and requests no org grants, belong to the default org.
    let default = Arc::clone(orgs.default_org());
    default.lock().totals.token_requests += 1;
    let (parts, body) = req.into_parts();
    let shared = &default;
    match shared.take_fault(Endpoint::Token, &RequestInfo::default()) {
        Injection::Request(Fault::Status(code)) => {
            shared.count_errors(1);
            return respond::status_fault(code);
        }
        Injection::Request(Fault::Reset) => return respond::reset(&parts.extensions).await,
        Injection::Request(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Injection::Request(Fault::MalformedJson) => {
            return respond::malformed(r#"{"access_token":"00D"#);
        }
        _ => {}
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM).await else {
        shared.count_errors(1);
        return failure(fail("invalid_request", "request body too large"));
    };
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded::parse(&body) {
        form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    // Client credentials may also come as HTTP Basic.
    if let Some((id, secret)) = basic_auth(&parts.headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }

    let shared = orgs
        .all()
        .iter()
        .find(|org| grant(org, &form).is_ok())
        .unwrap_or(&default);
    if !Arc::ptr_eq(shared, &default) {
        // The request is the granting org's, counted there.
        default.lock().totals.token_requests -= 1;
        shared.lock().totals.token_requests += 1;
    }
    let outcome = grant(shared, &form);
    match outcome {
        Ok(scope) => success(shared, scope),
        Err(f) => {
            shared.count_errors(1);
            failure(f)
        }
    }
}

fn basic_auth(headers: &http::HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn check_client(shared: &Shared, form: &HashMap<String, String>, secret_required: bool) -> Outcome {
    let creds = &shared.settings.credentials;
    if form.get("client_id") != Some(&creds.client_id) {
        return Err(fail("invalid_client_id", "client identifier invalid"));
    }
    match form.get("client_secret") {
        Some(s) if *s == creds.client_secret => Ok(None),
        None if !secret_required => Ok(None),
        _ => Err(fail("invalid_client", "invalid client credentials")),
    }
}

fn grant(shared: &Shared, form: &HashMap<String, String>) -> Outcome {
    let creds = &shared.settings.credentials;
    let Some(grant_type) = form.get("grant_type") else {
        return Err(fail("invalid_request", "grant type is missing"));
    };
    match grant_type.as_str() {
        "password" => {
            check_client(shared, form, true)?;
            let expected = format!("{}{}", creds.password, creds.security_token);
            if form.get("username") == Some(&creds.username)
                && form.get("password") == Some(&expected)
            {
                Ok(None)
            } else {
                Err(fail("invalid_grant", "authentication failure"))
            }
        }
        "refresh_token" => {
            check_client(shared, form, false)?;
            if form.get("refresh_token") == Some(&creds.refresh_token) {
                Ok(Some("api refresh_token"))
            } else {
                Err(fail("invalid_grant", "expired access/refresh token"))
            }
        }
        "client_credentials" => {
            check_client(shared, form, true)?;
            Ok(Some("api"))
        }
        JWT_BEARER => {
            let Some(assertion) = form.get("assertion") else {
                return Err(fail("invalid_request", "assertion is missing"));
            };
            let expected = Expected {
                key: shared.settings.jwt_key.as_ref(),
                issuer: &creds.client_id,
                subject: &creds.username,
                audiences: &shared.settings.jwt_audiences,
                now_secs: util::now_millis() / 1000,
            };
            match jwt::verify(assertion, &expected) {
                Ok(()) => Ok(Some("api")),
                Err(Refusal::Assertion) => Err(fail("invalid_grant", "invalid assertion")),
                Err(Refusal::Expired) => Err(fail("invalid_grant", "expired authorization code")),
                Err(Refusal::Issuer) => Err(fail("invalid_client_id", "client identifier invalid")),
                Err(Refusal::Audience) => Err(fail("invalid_grant", "audience is invalid")),
                Err(Refusal::Subject) => {
                    Err(fail("invalid_grant", "user hasn't approved this consumer"))
                }
            }
        }
        _ => Err(fail("unsupported_grant_type", "grant type not supported")),
    }
}

/// `signature`: base64 of HMAC-SHA256 over `id` + `issued_at`, keyed with the consumer secret.
pub(crate) fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn success(shared: &Shared, scope: Option<&'static str>) -> Response {
    let settings = &shared.settings;
    let access_token = shared.lock().issue_token(&settings.org_id);
    let issued_at = util::now_millis().to_string();
    // The identity URL is on the login host, never the instance: clients that take the
    // instance from it instead of `instance_url` fail against Salesforce.
    let id = format!("{LOGIN_HOST}/id/{}/{}", settings.org_id, settings.user_id);
    let body = Success {
        access_token,
        signature: signature(&settings.credentials.client_secret, &id, &issued_at),
        scope,
        instance_url: settings.base_url.clone(),
        id,
        token_type: "Bearer",
        issued_at,
    };
    respond::json(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

fn failure(f: Failure) -> Response {
    respond::json(
        StatusCode::BAD_REQUEST,
        serde_json::to_vec(&f).unwrap_or_default(),
    )
}
