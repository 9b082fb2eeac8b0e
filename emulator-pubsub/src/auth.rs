//! Authentication: every call carries `accesstoken`, `instanceurl` and `tenantid` metadata, and a
//! pluggable [`TokenCheck`] decides. The OAuth token endpoint lives in the Streaming API emulator,
//! so a program serving both APIs plugs in a check that consults that emulator's tokens.

use std::collections::BTreeSet;
use std::sync::Mutex;

use tonic::metadata::MetadataMap;

/// The decision of a [`TokenCheck`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// The call may proceed.
    Ok,
    /// The call fails with `UNAUTHENTICATED` and `…service.auth.error`.
    Unauthenticated,
}

/// Decides whether a call's credentials are valid. Any
/// `Fn(token, instance_url, tenant_id) -> AuthOutcome` closure is one.
///
/// It runs at the start of every call only: like Salesforce, a stream that is already open keeps
/// running when its token expires.
pub trait TokenCheck: Send + Sync + 'static {
    /// Checks one call's `accesstoken`, `instanceurl` and `tenantid` (all non-blank).
    fn check(&self, token: &str, instance_url: &str, tenant_id: &str) -> AuthOutcome;
}

impl<F> TokenCheck for F
where
    F: Fn(&str, &str, &str) -> AuthOutcome + Send + Sync + 'static,
{
    fn check(&self, token: &str, instance_url: &str, tenant_id: &str) -> AuthOutcome {
        self(token, instance_url, tenant_id)
    }
}

/// The default check: a set of valid access tokens (the configured one at start, plus any issued
/// through the control API) and the org id, accepted in its 15- or 18-character form. Any
/// non-blank `instanceurl` is accepted.
#[derive(Debug)]
pub(crate) struct BuiltInTokens {
    tokens: Mutex<BTreeSet<String>>,
    org_id15: String,
    org_id18: String,
}

impl BuiltInTokens {
    pub(crate) fn new(token: &str, org_id18: &str) -> Self {
        Self {
            tokens: Mutex::new(BTreeSet::from([token.to_owned()])),
            org_id15: org_id18.chars().take(15).collect(),
            org_id18: org_id18.to_owned(),
        }
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(&self, token: String) {
        self.tokens().insert(token);
    }

    /// Forgets every token; returns how many there were.
    pub(crate) fn expire_all(&self) -> usize {
        let mut tokens = self.tokens();
        let n = tokens.len();
        tokens.clear();
        n
    }
}

impl TokenCheck for BuiltInTokens {
    fn check(&self, token: &str, _instance_url: &str, tenant_id: &str) -> AuthOutcome {
        let org_ok = tenant_id == self.org_id18 || tenant_id == self.org_id15;
        if org_ok && self.tokens().contains(token) {
            AuthOutcome::Ok
        } else {
            AuthOutcome::Unauthenticated
        }
    }
}

/// The three auth values of a call, or `None` when one is missing or blank.
pub(crate) fn credentials(metadata: &MetadataMap) -> Option<(String, String, String)> {
    let get = |key: &str| {
        metadata
            .get(key)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Some((get("accesstoken")?, get("instanceurl")?, get("tenantid")?))
}
