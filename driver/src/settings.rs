//! The constructors and settings of [`ClientBuilder`](crate::ClientBuilder), declared once.
//!
//! A setting is a line of [`client_builder_api!`](crate::client_builder_api): its docs, its
//! name and arguments, and what it does to the builder. From that line come the driver's
//! builder method (which the tokio and async-std crates offer as is), the method of a runtime's
//! builder that wraps the driver's (the blocking crate's), and the check in the workspace's
//! tests that every runtime's builder has it. Put no setting method anywhere else.

/// The constructors and settings of the client builder, expanded by
/// [`client_builder_methods!`](crate::client_builder_methods) in one of its modes:
///
/// - `own`: the driver's [`ClientBuilder`](crate::ClientBuilder) methods, in its `impl` block.
/// - `wrap $runtime`: the same methods on a runtime crate's `ClientBuilder(driver builder)`
///   newtype, each handing its arguments to the driver's method of the same name; the
///   constructors take no runtime (they make one with `<$runtime>::new()`).
/// - `check $builder`: a function per setting calling it on `$builder`, and `SETTINGS`, the
///   names of those that compiled: the test that every runtime's builder has every setting.
///
/// Each mode also defines `SETTINGS`, the settings' names in order.
#[doc(hidden)]
#[macro_export]
macro_rules! client_builder_api {
    ($($mode:tt)*) => {
        $crate::client_builder_methods! {
            ($($mode)*)
            constructors {
                /// A builder for Salesforce with the given credentials.
                new(credentials: $crate::Credentials) |runtime| {
                    Self::with_config(runtime, $crate::core::Config::salesforce(credentials))
                }
                /// A builder for a plain Bayeux server (faye, CometD): no OAuth, no replay.
                bayeux(url: impl Into<String>) |runtime| {
                    Self::with_config(runtime, $crate::core::Config::bayeux(url))
                }
                /// A builder over a complete core configuration.
                with_config(config: $crate::core::Config) |runtime| {
                    Self {
                        runtime,
                        config,
                        store: ::std::sync::Arc::new($crate::MemoryStore::new()),
                        record: None,
                    }
                }
                /// aiosfstream's `SalesforceStreamingClient`: the password flow against
                /// production, or against the sandbox login host when `sandbox` is true.
                /// `password` is the password with the security token appended.
                password(
                    consumer_key: impl Into<String>,
                    consumer_secret: impl Into<$crate::Secret>,
                    username: impl Into<String>,
                    password: impl Into<$crate::Secret>,
                    sandbox: bool
                ) |runtime| {
                    Self::new(
                        runtime,
                        $crate::Credentials::Password {
                            client_id: consumer_key.into(),
                            client_secret: consumer_secret.into(),
                            username: username.into(),
                            password: password.into(),
                            login: if sandbox {
                                $crate::LoginUrl::Sandbox
                            } else {
                                $crate::LoginUrl::Production
                            },
                        },
                    )
                }
            }
            settings {
                /// Where channels without a stored id start (default: new events only).
                replay(replay: $crate::ReplayFrom) |b| b.config.replay = replay;
                /// What to do when Salesforce rejects a stored replay id (default: fail that
                /// channel).
                replay_fallback(fallback: Option<$crate::ReplayFallback>) |b| {
                    b.config.replay_fallback = fallback
                };
                /// Automatic (default: a message is committed when `receive` returns it) or
                /// manual commits.
                commit_policy(policy: $crate::CommitPolicy) |b| b.config.commit = policy;
                /// After this long without reaching the server, `receive` returns a
                /// connection-lost error once per outage while the client keeps trying (default
                /// 10 s; `None`: never).
                connection_timeout(timeout: Option<::std::time::Duration>) |b| {
                    b.config.connection_timeout = timeout
                };
                /// How many received messages may wait for `receive` before the client holds
                /// back its next long poll, so that new events wait on the server (default 100).
                /// Nothing received is dropped for this bound.
                max_pending(max: usize) |b| b.config.max_pending = max;
                /// How long after the last long-poll reply the next one may be held back while
                /// the application is behind (default 25 s; it must stay below Salesforce's 40 s
                /// reconnect window, or `build` fails).
                max_poll_delay(delay: ::std::time::Duration) |b| b.config.max_poll_delay = delay;
                /// The bound on the memory received messages take while they wait, in bytes
                /// (default 16 MiB). Past it, events are set aside and fetched again by replay
                /// once the application has caught up, so none are lost.
                max_pending_bytes(max: usize) |b| b.config.max_pending_bytes = max;
                /// The Salesforce API version (default `64.0`).
                api_version(version: impl Into<String>) |b| {
                    b.config = b.config.api_version(version)
                };
                /// The backoff policy for failures without advice.
                retry(retry: $crate::RetryPolicy) |b| b.config.retry = retry;
                /// The deadline of requests other than long polls (default 30 s).
                request_timeout(timeout: ::std::time::Duration) |b| {
                    b.config.request_timeout = timeout
                };
                /// Where replay ids are stored (default: in memory). Use a
                /// [`FileStore`](crate::FileStore) to resume after a restart.
                store(store: impl $crate::ReplayStore) |b| {
                    b.store = ::std::sync::Arc::new(store)
                };
                /// A store shared with other code.
                shared_store(store: ::std::sync::Arc<dyn $crate::ReplayStore>) |b| b.store = store;
                /// The jitter seed, to repeat a run exactly. By default each client draws one
                /// from the operating system, so that many clients failing together do not
                /// retry in step.
                seed(seed: u64) |b| b.config.seed = Some(seed);
                /// Adds an [`Extension`](crate::Extension): application code that adds fields to
                /// the Bayeux messages the client sends (an `ext` entry for a proxy, a tracing
                /// id) and sees those it receives, without I/O. Extensions run in the order they
                /// were added; see `sfstream_core::extension` for which messages and what may
                /// change.
                extension(extension: impl $crate::Extension) |b| {
                    b.config.extensions.push(extension)
                };
                /// Records the session as a transcript in this file (created, or emptied), which
                /// the core's transcript player plays as it is: every request, response and
                /// command in order, with every secret replaced by `REDACTED`. Without this
                /// setting, the file named by the `SFSTREAM_RECORD` environment variable, if
                /// set. For tests and for reporting a problem; the file grows with the session.
                record(path: impl Into<::std::path::PathBuf>) |b| b.record = Some(path.into());
                /// Gives access to every setting of the core configuration.
                configure(f: impl FnOnce(&mut $crate::core::Config)) |b| f(&mut b.config);
            }
        }
    };
}

/// Turns the declarations of [`client_builder_api!`](crate::client_builder_api) into methods
/// (or checks), by mode.
#[doc(hidden)]
#[macro_export]
macro_rules! client_builder_methods {
    (
        ($($mode:tt)*)
        constructors {$(
            $(#[$cdoc:meta])*
            $cname:ident($($carg:ident: $cty:ty),* $(,)?) |$runtime:ident| $cbody:block
        )*}
        settings {$(
            $(#[$sdoc:meta])*
            $sname:ident($($sarg:ident: $sty:ty),*) |$b:ident| $sbody:expr;
        )*}
    ) => {
        $crate::client_builder_methods!(@$($mode)*;
            [$($(#[$cdoc])* $cname($($carg: $cty),*) |$runtime| $cbody)*]
            [$($(#[$sdoc])* $sname($($sarg: $sty),*) |$b| $sbody;)*]
        );
    };
    (@own;
        [$($(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*) |$runtime:ident| $cbody:block)*]
        [$($(#[$sdoc:meta])* $sname:ident($($sarg:ident: $sty:ty),*) |$b:ident| $sbody:expr;)*]
    ) => {
        $(
            $(#[$cdoc])*
            pub fn $cname($runtime: R, $($carg: $cty),*) -> Self $cbody
        )*
        $(
            $(#[$sdoc])*
            #[must_use]
            pub fn $sname(self, $($sarg: $sty),*) -> Self {
                let mut $b = self;
                $sbody;
                $b
            }
        )*
        /// The names of the settings, in order.
        #[doc(hidden)]
        pub const SETTINGS: &'static [&'static str] = &[$(stringify!($sname)),*];
    };
    (@wrap $runtime_ty:ty;
        [$($(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*) |$runtime:ident| $cbody:block)*]
        [$($(#[$sdoc:meta])* $sname:ident($($sarg:ident: $sty:ty),*) |$b:ident| $sbody:expr;)*]
    ) => {
        $(
            $(#[$cdoc])*
            pub fn $cname($($carg: $cty),*) -> Self {
                Self($crate::ClientBuilder::$cname(<$runtime_ty>::new(), $($carg),*))
            }
        )*
        $(
            $(#[$sdoc])*
            #[must_use]
            pub fn $sname(self, $($sarg: $sty),*) -> Self {
                Self(self.0.$sname($($sarg),*))
            }
        )*
        /// The names of the settings, in order.
        #[doc(hidden)]
        pub const SETTINGS: &'static [&'static str] = &[$(stringify!($sname)),*];
    };
    (@check $builder:ty;
        [$($(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*) |$runtime:ident| $cbody:block)*]
        [$($(#[$sdoc:meta])* $sname:ident($($sarg:ident: $sty:ty),*) |$b:ident| $sbody:expr;)*]
    ) => {
        $(
            #[allow(dead_code, reason = "compiled, never called: the check is that it compiles")]
            fn $sname(builder: $builder, $($sarg: $sty),*) -> $builder {
                builder.$sname($($sarg),*)
            }
        )*
        /// The names of the settings `$builder` was checked for, in order.
        pub const SETTINGS: &[&str] = &[$(stringify!($sname)),*];
    };
}
