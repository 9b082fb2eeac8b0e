//! Settings fixed at start, and the small public enums of managed subscriptions.

use std::time::Duration;

/// Where a managed subscription starts when it has no usable commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum ReplayStart {
    /// Only events published after the stream starts (Salesforce's default).
    #[default]
    Latest,
    /// The oldest retained event.
    Earliest,
}

/// The `state` of a managed subscription.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum ManagedState {
    /// Streams may run.
    #[default]
    Run,
    /// New streams are refused and an open one ends.
    Stop,
}

/// Settings fixed when the emulator starts.
#[derive(Debug)]
pub(crate) struct Settings {
    /// `http://127.0.0.1:PORT` or `https://localhost:PORT`.
    pub(crate) url: String,
    pub(crate) org_id: String,
    pub(crate) user_id: String,
    pub(crate) access_token: String,
    pub(crate) keepalive: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) publish_idle_timeout: Duration,
    pub(crate) retention: Duration,
    pub(crate) max_events_per_response: usize,
    pub(crate) max_response_bytes: usize,
    pub(crate) commit_coalesce: Duration,
    pub(crate) not_found_as_permission_denied: bool,
    pub(crate) delivery_allocation: Option<u64>,
    pub(crate) max_publish_request_bytes: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) tls_cert_path: Option<std::path::PathBuf>,
    pub(crate) tls_cert_pem: Option<String>,
}

/// The outstanding-credit cap of a subscription stream.
pub const MAX_OUTSTANDING: i32 = 100;
