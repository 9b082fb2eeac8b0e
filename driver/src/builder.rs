//! Building a client: the same knobs and defaults as aiosfstream's `Client`, plus API version,
//! more auth flows, and a pluggable store. The constructors and settings are declared once, in
//! [`client_builder_api!`](crate::client_builder_api) (`settings.rs`), for this builder and for
//! every runtime's that wraps it.

use std::sync::Arc;

use sfstream_core::Config;
use sfstream_store::ReplayStore;

use crate::{Client, Error, Runtime};

/// Configures a [`Client`].
///
/// Defaults: new events only (`-1`) for channels without a stored id, no replay fallback,
/// automatic commit, 10 s connection timeout, 100 pending messages (then the next long poll
/// waits, up to 25 s), 16 MiB of pending messages at most, an in-memory store.
#[derive(Clone)]
pub struct ClientBuilder<R: Runtime> {
    pub(crate) runtime: R,
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn ReplayStore>,
    /// The file the session is recorded to, if any.
    pub(crate) record: Option<std::path::PathBuf>,
    /// Serves the requests from a transcript ([`crate::testing`]).
    pub(crate) replay: Option<crate::testing::Replay>,
}

impl<R: Runtime> std::fmt::Debug for ClientBuilder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ClientBuilder<R> {
    crate::client_builder_api!(own);

    /// Checks the configuration and builds the client (not yet open).
    pub fn build(mut self) -> Result<Client<R>, Error> {
        self.config.validate()?;
        if let sfstream_core::Endpoint::Salesforce { credentials, .. } = &self.config.endpoint {
            credentials.validate().map_err(sfstream_core::Error::Auth)?;
        }
        self.config.seed.get_or_insert_with(os_seed);
        if self.record.is_none() {
            self.record = std::env::var_os(crate::RECORD_ENV)
                .filter(|p| !p.is_empty())
                .map(Into::into);
        }
        Client::from_builder(self)
    }
}

/// A jitter seed from the operating system's random source; should that fail (it does not on
/// the platforms the runtimes support), one from the time and the process id, which still
/// differs between clients.
pub(crate) fn os_seed() -> u64 {
    let mut bytes = [0; 8];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(e) => {
            tracing::warn!(error = %e, "no random seed from the operating system; using the clock");
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            // Truncation is fine: any bits that differ between clients do.
            (nanos as u64) ^ (u64::from(std::process::id()) << 32)
        }
    }
}
