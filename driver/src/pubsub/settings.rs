//! The settings of the Pub/Sub client's builder, declared once (links in their docs name
//! `crate::` paths every runtime crate re-exports too): the driver's
//! [`PubSubClientBuilder`](super::PubSubClientBuilder) defines them, and a runtime crate whose
//! builder wraps the driver's (the blocking crate) hands each to the driver's method of the
//! same name.

/// Declares the Pub/Sub builder's settings, by mode:
///
/// - `pubsub_builder_api!(own)`: the driver's methods (each sets a field of the builder).
/// - `pubsub_builder_api!(wrap)`: in an `impl` of a builder `struct B(PubSubClientBuilder<R>)`,
///   each setting hands its arguments to the driver's builder.
#[doc(hidden)]
#[macro_export]
macro_rules! pubsub_builder_api {
    ($mode:ident) => {
        $crate::pubsub_builder_methods! {
            $mode
            /// The Pub/Sub endpoint: `https://…`, or `http://127.0.0.1:PORT` (h2c, loopback
            /// only) for a local emulator.
            url(url: impl Into<String>) |b| b.config.url = url.into();
            /// The org id sent as `tenantid` (by default taken from the token).
            tenant_id(tenant_id: impl Into<String>) |b| b.config.tenant_id = Some(tenant_id.into());
            /// Where topics without a stored position start.
            replay(replay: $crate::pubsub::PubSubReplayFrom) |b| b.config.replay = replay;
            /// What to do, once, when the server rejects a replay id: `EARLIEST`
            /// ([`ReplayFallback::All`](crate::ReplayFallback::All)) or `LATEST`
            /// ([`ReplayFallback::New`](crate::ReplayFallback::New)); `None` fails the topic.
            replay_fallback(fallback: Option<$crate::ReplayFallback>) |b| {
                b.config.replay_fallback = fallback
            };
            /// When a received event counts as processed (and its replay id is stored).
            commit(commit: $crate::CommitPolicy) |b| b.config.commit = commit;
            /// Backoff for failures.
            retry(retry: $crate::RetryPolicy) |b| b.config.retry = retry;
            /// The deadline of token requests and unary calls, and of making a connection.
            request_timeout(timeout: ::std::time::Duration) |b| {
                b.config.request_timeout = timeout
            };
            /// How long a stream may stay silent (no event, no keepalive) before it is taken for
            /// dead and opened again; `None`: never.
            watchdog(watchdog: Option<::std::time::Duration>) |b| b.config.watchdog = watchdog;
            /// The server's idle timeout of streams owed nothing (60 s at Salesforce).
            idle_timeout(timeout: ::std::time::Duration) |b| b.config.idle_timeout = timeout;
            /// How many events of one topic may wait for the application, counting those
            /// requested and not yet received (never more than 100 are requested).
            max_pending(max: u32) |b| b.config.max_pending = max;
            /// Under [`CommitPolicy::Manual`](crate::CommitPolicy::Manual), whether a received
            /// event still counts against [`max_pending`](Self::max_pending) until it is
            /// committed (off by default): room for more is made by
            /// [`commit`](crate::pubsub::PubSubClient::commit), not by receiving, so that what
            /// is requested, received and not yet committed never exceeds
            /// `min(max_pending, 100)` per topic. Every received event must then be committed (a
            /// later one commits those before it), or the topic stops once the window is held.
            pending_until_commit(on: bool) |b| b.config.pending_until_commit = on;
            /// Whether events are decoded to JSON (the default); without it, messages carry the
            /// raw Avro datum and its schema, for
            /// [`PubSubMessage::decode`](crate::pubsub::PubSubMessage::decode).
            decode_json(decode: bool) |b| b.config.decode_json = decode;
            /// The seed of the backoff jitter and generated ids (by default one from the OS).
            seed(seed: u64) |b| b.config.seed = Some(seed);
            /// The replay store: where checkpoints go, and where topics resume after a restart.
            store(store: impl $crate::ReplayStore) |b| b.store = ::std::sync::Arc::new(store);
            /// A store shared with other code.
            shared_store(store: ::std::sync::Arc<dyn $crate::ReplayStore>) |b| b.store = store;
            /// Changes any other setting of the session's configuration.
            configure(
                f: impl FnOnce($crate::pubsub::PubSubConfig) -> $crate::pubsub::PubSubConfig
            ) |b| b.config = f(b.config);
        }
    };
}

/// Turns the declarations of [`pubsub_builder_api!`](crate::pubsub_builder_api) into methods,
/// by mode.
#[doc(hidden)]
#[macro_export]
macro_rules! pubsub_builder_methods {
    (own $(
        $(#[$doc:meta])*
        $name:ident($($arg:ident: $ty:ty),* $(,)?) |$b:ident| $body:expr;
    )*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(self, $($arg: $ty),*) -> Self {
                let mut $b = self;
                $body;
                $b
            }
        )*
        /// The names of the settings, in order.
        #[doc(hidden)]
        pub const SETTINGS: &'static [&'static str] = &[$(stringify!($name)),*];
    };
    (wrap $(
        $(#[$doc:meta])*
        $name:ident($($arg:ident: $ty:ty),* $(,)?) |$b:ident| $body:expr;
    )*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(self, $($arg: $ty),*) -> Self {
                Self(self.0.$name($($arg),*))
            }
        )*
        /// The names of the settings, in order.
        #[doc(hidden)]
        pub const SETTINGS: &'static [&'static str] = &[$(stringify!($name)),*];
    };
}
