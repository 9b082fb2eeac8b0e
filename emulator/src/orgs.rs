//! Several orgs in one emulator. Each org is a complete emulator state of its own (credentials,
//! org id, channels and their event logs, tokens, sessions, faults, statistics); this module
//! only finds the org a request belongs to:
//!
//! - a token request: the first org whose credentials grant it (the default org otherwise,
//!   which then answers with its refusal);
//! - a CometD request: the org whose id prefixes the bearer token (`00D…!…`, as Salesforce's
//!   session ids do), else the org that issued it, else the default org (which refuses it);
//! - a control request: the org named in `/_emulator/orgs/{org}/…`, or the default org.

use std::sync::Arc;

use crate::state::Shared;

/// Every org; the first is the default one.
pub(crate) struct Orgs {
    list: Vec<Arc<Shared>>,
}

impl std::fmt::Debug for Orgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|s| &s.settings.org_id))
            .finish()
    }
}

impl Orgs {
    pub(crate) fn new(list: Vec<Arc<Shared>>) -> Self {
        Self { list }
    }

    /// The default org (the one the emulator had before orgs were added).
    pub(crate) fn default_org(&self) -> &Arc<Shared> {
        // `new` always gets at least the default org.
        &self.list[0]
    }

    pub(crate) fn all(&self) -> &[Arc<Shared>] {
        &self.list
    }

    pub(crate) fn get(&self, org_id: &str) -> Option<&Arc<Shared>> {
        self.list.iter().find(|s| s.settings.org_id == org_id)
    }

    /// The org a bearer token belongs to.
    pub(crate) fn by_token(&self, token: Option<&str>) -> &Arc<Shared> {
        let Some(token) = token else {
            return self.default_org();
        };
        if let Some(org) = token.split_once('!').and_then(|(org, _)| self.get(org)) {
            return org;
        }
        self.list
            .iter()
            .find(|s| s.lock().tokens.contains(token))
            .unwrap_or_else(|| self.default_org())
    }
}
