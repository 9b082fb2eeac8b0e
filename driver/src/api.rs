//! The convenience API every async runtime crate offers, written once.

/// Defines, in an async runtime crate, the API its users see: the re-exports, `Client` and
/// `ClientBuilder` bound to the runtime, and the `builder`, `password_client` and
/// `bayeux_client` constructors. `$runtime` must have a `new()` that builds it.
#[macro_export]
macro_rules! runtime_api {
    ($runtime:ty, $client_doc:literal) => {
        pub use $crate::{
            ChangeEventHeader, CommitPolicy, ConstantStore, Credentials, Error, EventKind,
            FileStore, JwtKey, JwtKeyFromPem, LoginUrl, MemoryStore, Message, ReplayFallback,
            ReplayFrom, ReplayStore, RetryPolicy, Secret, StoreError, core, store,
        };

        #[doc = $client_doc]
        pub type Client = $crate::Client<$runtime>;
        /// Configures a [`Client`].
        pub type ClientBuilder = $crate::ClientBuilder<$runtime>;

        /// A builder for Salesforce with any credentials (password, refresh token, JWT bearer,
        /// client credentials, or a ready access token).
        #[must_use]
        pub fn builder(credentials: Credentials) -> ClientBuilder {
            ClientBuilder::new(<$runtime>::new(), credentials)
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
            ClientBuilder::password(
                <$runtime>::new(),
                consumer_key,
                consumer_secret,
                username,
                password,
                sandbox,
            )
        }

        /// A builder for any Bayeux server (faye, the CometD server): no OAuth, no replay.
        #[must_use]
        pub fn bayeux_client(url: impl Into<String>) -> ClientBuilder {
            ClientBuilder::bayeux(<$runtime>::new(), url)
        }
    };
}
