//! The API every runtime crate offers, written once.

/// Defines, in a runtime crate, the API its users see: the re-exports and one constructor
/// function per flow (`builder`, `password_client`, `refresh_token_client`, `jwt_bearer_client`,
/// `client_credentials_client`, `access_token_client`, `bayeux_client`, declared with the
/// builder's constructors in [`client_builder_api!`](crate::client_builder_api)), with
/// `$runtime::new()` as the runtime.
///
/// - `runtime_api!(Runtime, "doc of Client")`, for an async runtime: `Client` and
///   `ClientBuilder` are the driver's, bound to the runtime.
/// - `runtime_api!(Runtime, own client)`, for a runtime whose crate defines `Client` and a
///   `ClientBuilder` that wraps the driver's (the blocking crate): that builder has
///   `From<ClientBuilder<Runtime>>`, and its methods come from
///   [`client_builder_api!`](crate::client_builder_api)`(wrap Runtime)`.
///
/// Everything an application names is re-exported at the crate's root, so it needs no `core::`
/// path and no other crate: messages and their batches, credentials, stores, settings' types,
/// statistics, errors, and for a runtime of its own [`Runtime`](crate::Runtime),
/// [`BoxFuture`](crate::BoxFuture), [`TransportError`](crate::TransportError) and `driver` (the
/// generic `driver::ClientBuilder<R>`, and `driver::http` for the requests a runtime sends).
#[macro_export]
macro_rules! runtime_api {
    (@shared $runtime:ty) => {
        pub use $crate::core::error::{BayeuxError, ErrorClass, ServerError};
        pub use $crate::core::oauth::AuthError;
        pub use $crate::core::Config;
        pub use $crate::{
            self as driver, Batch, BoxFuture, ChangeEventHeader, CloseTimedOut, CommitPolicy,
            Committable, ConstantStore, Credentials, Error, ErrorKind, EventKind, FileStore, JwtKey,
            JwtKeyFromPem, LoginUrl, MemoryStore, Message, RawValue, ReplayFallback, ReplayFrom,
            ReplayStore, RetryPolicy, Runtime, Secret, StoreError, Timestamp, TransportError,
            TransportErrorKind, core, error_chain, jwt_key_from_pem, store,
        };
        pub use $crate::{ChannelStats, RefetchReason, SESSION_EVENTS_BUFFER, SessionEvent, Stats};

        pub use $crate::{Extension, IncomingMessage, OutgoingMessage};

        // `builder`, `password_client`, `refresh_token_client`, `jwt_bearer_client`,
        // `client_credentials_client`, `access_token_client`, `bayeux_client`: one function per
        // constructor of the builder, declared with it.
        $crate::client_builder_api!(functions $runtime);

        /// Testing an application without a server: the real client, its requests served by
        /// a transcript (see the driver's `testing` module).
        pub mod testing {
            pub use $crate::testing::Replay;
            #[allow(unused_imports, reason = "the runtime's type, named by the caller of the macro")]
            use super::*;

            /// A builder whose client connects to nothing: `replay` serves its requests, with
            /// the transcript's configuration. Settings may be changed before `build` (a store
            /// of the test's own, say); those that change requests make the replay differ.
            #[must_use]
            pub fn replay_client(replay: Replay) -> ClientBuilder {
                ClientBuilder::from($crate::ClientBuilder::from_replay(<$runtime>::new(), replay))
            }
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
