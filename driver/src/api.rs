//! The API every runtime crate offers, written once.

/// Defines, in a runtime crate, the API its users see: the re-exports and the `builder`,
/// `password_client` and `bayeux_client` constructors, with `$runtime::new()` as the runtime.
///
/// - `runtime_api!(Runtime, "doc of Client")`, for an async runtime: `Client` and
///   `ClientBuilder` are the driver's, bound to the runtime.
/// - `runtime_api!(Runtime, own client)`, for a runtime whose crate defines `Client` and a
///   `ClientBuilder` that wraps the driver's (the blocking crate): that builder has
///   `From<ClientBuilder<Runtime>>`, and its methods come from
///   [`client_builder_api!`](crate::client_builder_api)`(wrap Runtime)`.
#[macro_export]
macro_rules! runtime_api {
    (@shared $runtime:ty) => {
        pub use $crate::{
            ChangeEventHeader, CloseTimedOut, CommitPolicy, ConstantStore, Credentials, Error,
            ErrorKind, EventKind, FileStore, JwtKey, JwtKeyFromPem, LoginUrl, MemoryStore, Message,
            ReplayFallback, ReplayFrom, ReplayStore, RetryPolicy, Secret, StoreError,
            TransportErrorKind, core, store,
        };
        pub use $crate::{ChannelStats, RefetchReason, SESSION_EVENTS_BUFFER, SessionEvent, Stats};

        pub use $crate::{Extension, IncomingMessage, OutgoingMessage};

        /// A builder for Salesforce with any credentials (password, refresh token, JWT bearer,
        /// client credentials, or a ready access token).
        #[must_use]
        pub fn builder(credentials: Credentials) -> ClientBuilder {
            ClientBuilder::from($crate::ClientBuilder::new(<$runtime>::new(), credentials))
        }

        /// aiosfstream's `SalesforceStreamingClient`: the password flow (password with the
        /// security token appended) against production, or the sandbox login host when
        /// `sandbox` is true.
        #[must_use]
        pub fn password_client(
            consumer_key: impl Into<String>,
            consumer_secret: impl Into<Secret>,
            username: impl Into<String>,
            password: impl Into<Secret>,
            sandbox: bool,
        ) -> ClientBuilder {
            ClientBuilder::from($crate::ClientBuilder::password(
                <$runtime>::new(),
                consumer_key,
                consumer_secret,
                username,
                password,
                sandbox,
            ))
        }

        /// A builder for any Bayeux server (faye, the CometD server): no OAuth, no replay.
        #[must_use]
        pub fn bayeux_client(url: impl Into<String>) -> ClientBuilder {
            ClientBuilder::from($crate::ClientBuilder::bayeux(<$runtime>::new(), url))
        }
    };
    ($runtime:ty, own client) => {
        $crate::runtime_api!(@shared $runtime);
    };
    ($runtime:ty, $client_doc:literal) => {
        #[doc = $client_doc]
        pub type Client = $crate::Client<$runtime>;
        /// Configures a [`Client`].
        pub type ClientBuilder = $crate::ClientBuilder<$runtime>;
        pub use $crate::SessionEvents;

        $crate::runtime_api!(@shared $runtime);
    };
}
