//! The head of every gRPC call: the method's URI, gRPC's headers and Salesforce's metadata.

use std::time::Duration;

use http::header::{CONTENT_TYPE, TE};
use http::{HeaderValue, Method, Request, Uri};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;

use crate::oauth::Token;

use super::call::CallKind;
use super::error::PubSubError;

/// The metadata every call carries, made once per token.
#[derive(Clone)]
pub(super) struct Metadata {
    /// `accesstoken`, marked sensitive.
    access_token: HeaderValue,
    instance_url: HeaderValue,
    tenant_id: HeaderValue,
}

impl Metadata {
    pub(super) fn new(token: &Token, tenant_id: &str) -> Result<Self, PubSubError> {
        let mut access_token = HeaderValue::from_bytes(token.access_token.expose().as_bytes())
            .map_err(|_| {
                PubSubError::Config(
                    "the access token holds characters that cannot go in a header".into(),
                )
            })?;
        access_token.set_sensitive(true);
        let instance_url = HeaderValue::from_str(&token.instance_url).map_err(|_| {
            PubSubError::Config(
                "the instance URL holds characters that cannot go in a header".into(),
            )
        })?;
        let tenant_id = HeaderValue::from_str(tenant_id).map_err(|_| {
            PubSubError::Config("the tenant id holds characters that cannot go in a header".into())
        })?;
        Ok(Self {
            access_token,
            instance_url,
            tenant_id,
        })
    }
}

/// The request head of a call of `kind` to the endpoint `base` (scheme and authority).
pub(super) fn call_head(
    base: &Uri,
    kind: CallKind,
    metadata: &Metadata,
    trace_id: Option<String>,
    timeout: Option<Duration>,
) -> Result<Request<()>, PubSubError> {
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(
        kind.path()
            .parse()
            .map_err(|_| PubSubError::Config("a method path is not a valid URI path".into()))?,
    );
    let uri = Uri::from_parts(parts)
        .map_err(|e| PubSubError::Config(format!("cannot make the call's URI: {e}")))?;
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(CONTENT_TYPE, "application/grpc")
        .header(TE, "trailers")
        .header("accesstoken", metadata.access_token.clone())
        .header("instanceurl", metadata.instance_url.clone())
        .header("tenantid", metadata.tenant_id.clone());
    if let Some(trace_id) = trace_id {
        builder = builder.header("x-client-trace-id", trace_id);
    }
    if let Some(timeout) = timeout {
        builder = builder.header("grpc-timeout", grpc_timeout(timeout));
    }
    builder
        .body(())
        .map_err(|e| PubSubError::Config(format!("cannot build a call's request: {e}")))
}

/// gRPC's `grpc-timeout`: at most 8 digits and a unit.
fn grpc_timeout(timeout: Duration) -> String {
    let millis = timeout.as_millis();
    if millis < 100_000_000 {
        format!("{}m", millis.max(1))
    } else {
        format!("{}S", timeout.as_secs().min(99_999_999))
    }
}

/// A random (version 4) UUID from the session's seeded generator, for trace ids and correlation
/// keys.
pub(super) fn uuid_v4(rng: &mut ChaCha8Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn uuids_have_the_v4_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let u = uuid_v4(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, uuid_v4(&mut rng));
    }

    #[test]
    fn timeouts_fit_eight_digits() {
        assert_eq!(grpc_timeout(Duration::from_secs(30)), "30000m");
        assert_eq!(grpc_timeout(Duration::from_secs(10_000_000)), "10000000S");
    }
}
