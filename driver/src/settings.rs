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
/// - `functions $runtime`: in a runtime crate, a function per constructor that names one
///   (`as password_client`), making a `ClientBuilder` with `<$runtime>::new()`.
/// - `check $builder, $crate_name`: a function per setting calling it on `$builder` and one per
///   constructor function calling `$crate_name`'s, with `SETTINGS` and `CONSTRUCTORS`, the names
///   of those that compiled: the test that every runtime has every setting and constructor.
///
/// Each mode but `functions` also defines `SETTINGS`, the settings' names in order.
#[doc(hidden)]
#[macro_export]
macro_rules! client_builder_api {
    ($($mode:tt)*) => {
        $crate::client_builder_methods! {
            ($($mode)*)
            constructors {
                /// A builder for Salesforce with any credentials (password, refresh token, JWT
                /// bearer, client credentials, or a ready access token).
                new(credentials: $crate::Credentials) as builder |runtime| {
                    Self::with_config(runtime, $crate::core::Config::salesforce(credentials))
                }
                /// A builder for a plain Bayeux server (faye, CometD): no OAuth, no replay.
                bayeux(url: impl Into<String>) as bayeux_client |runtime| {
                    Self::with_config(runtime, $crate::core::Config::bayeux(url))
                }
                /// A builder over a complete core configuration.
                with_config(config: $crate::core::Config) |runtime| {
                    Self {
                        runtime,
                        config,
                        store: ::std::sync::Arc::new($crate::MemoryStore::new()),
                        record: None,
                        replay: None,
                    }
                }
                /// A client that connects to nothing: the transcript of `replay` serves its
                /// requests, with the transcript's configuration (see
                /// [`testing`](crate::testing)). For testing an application's own code.
                from_replay(replay: $crate::testing::Replay) |runtime| {
                    let mut builder = Self::with_config(runtime, replay.config());
                    builder.replay = Some(replay);
                    builder
                }
                /// The username-password flow (aiosfstream's `SalesforceStreamingClient`).
                /// `password` is the password with the user's security token appended; `login`
                /// is [`LoginUrl::Production`](crate::LoginUrl::Production),
                /// [`LoginUrl::Sandbox`](crate::LoginUrl::Sandbox) or a URL (`"https://
                /// MyDomainName.my.salesforce.com"`, an emulator's `http://127.0.0.1:…`).
                password(
                    client_id: impl Into<String>,
                    client_secret: impl Into<$crate::Secret>,
                    username: impl Into<String>,
                    password: impl Into<$crate::Secret>,
                    login: impl Into<$crate::LoginUrl>
                ) as password_client |runtime| {
                    Self::new(
                        runtime,
                        $crate::Credentials::password(
                            client_id, client_secret, username, password, login,
                        ),
                    )
                }
                /// The refresh-token flow: a token from an earlier interactive authorization,
                /// exchanged for access tokens whenever Salesforce refuses the current one. An
                /// empty `client_secret` is left out, for apps that do not require it.
                refresh_token(
                    client_id: impl Into<String>,
                    client_secret: impl Into<$crate::Secret>,
                    refresh_token: impl Into<$crate::Secret>,
                    login: impl Into<$crate::LoginUrl>
                ) as refresh_token_client |runtime| {
                    Self::new(
                        runtime,
                        $crate::Credentials::refresh_token(
                            client_id, client_secret, refresh_token, login,
                        ),
                    )
                }
                /// The JWT bearer flow: an assertion signed with `key` (see
                /// [`jwt_key_from_pem`](crate::jwt_key_from_pem)), for a user pre-authorized for
                /// the Connected App. The audience is the login URL's default
                /// ([`LoginUrl::default_audience`](crate::LoginUrl::default_audience)); for
                /// another, build [`Credentials::JwtBearer`](crate::Credentials::JwtBearer).
                jwt_bearer(
                    client_id: impl Into<String>,
                    username: impl Into<String>,
                    key: $crate::JwtKey,
                    login: impl Into<$crate::LoginUrl>
                ) as jwt_bearer_client |runtime| {
                    Self::new(
                        runtime,
                        $crate::Credentials::jwt_bearer(client_id, username, key, login),
                    )
                }
                /// The client credentials flow (a Connected App with a "Run As" user).
                /// Salesforce accepts it only on the org's My Domain URL, so `login` is that URL.
                client_credentials(
                    client_id: impl Into<String>,
                    client_secret: impl Into<$crate::Secret>,
                    login: impl Into<$crate::LoginUrl>
                ) as client_credentials_client |runtime| {
                    Self::new(
                        runtime,
                        $crate::Credentials::client_credentials(client_id, client_secret, login),
                    )
                }
                /// A ready access token (from the Salesforce CLI, say) and the instance it
                /// belongs to (`https://MyDomainName.my.salesforce.com`). Nothing to refresh:
                /// when Salesforce refuses it, the client stops and says so.
                access_token(
                    access_token: impl Into<$crate::Secret>,
                    instance_url: impl Into<String>
                ) as access_token_client |runtime| {
                    Self::new(
                        runtime,
                        $crate::Credentials::access_token(access_token, instance_url),
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
            $cname:ident($($carg:ident: $cty:ty),* $(,)?) $(as $fname:ident)?
                |$runtime:ident| $cbody:block
        )*}
        settings {$(
            $(#[$sdoc:meta])*
            $sname:ident($($sarg:ident: $sty:ty),*) |$b:ident| $sbody:expr;
        )*}
    ) => {
        $crate::client_builder_methods!(@$($mode)*;
            [$($(#[$cdoc])* $cname($($carg: $cty),*) [$($fname)?] |$runtime| $cbody)*]
            [$($(#[$sdoc])* $sname($($sarg: $sty),*) |$b| $sbody;)*]
        );
    };
    (@own;
        [$($(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*) [$($fname:ident)?] |$runtime:ident| $cbody:block)*]
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
        [$($(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*) [$($fname:ident)?] |$runtime:ident| $cbody:block)*]
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
    (@functions $runtime_ty:ty;
        [$($(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*) [$($fname:ident)?] |$runtime:ident| $cbody:block)*]
        [$($(#[$sdoc:meta])* $sname:ident($($sarg:ident: $sty:ty),*) |$b:ident| $sbody:expr;)*]
    ) => {
        $(
            $crate::client_builder_methods!(@function $runtime_ty; [$($fname)?]
                $(#[$cdoc])* $cname($($carg: $cty),*));
        )*
    };
    (@function $runtime_ty:ty; [] $($constructor:tt)*) => {};
    (@function $runtime_ty:ty; [$fname:ident]
        $(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*)
    ) => {
        $(#[$cdoc])*
        #[must_use]
        pub fn $fname($($carg: $cty),*) -> ClientBuilder {
            ClientBuilder::from($crate::ClientBuilder::$cname(<$runtime_ty>::new(), $($carg),*))
        }
    };
    (@check $builder:ty, $krate:ident;
        [$($(#[$cdoc:meta])* $cname:ident($($carg:ident: $cty:ty),*) [$($fname:ident)?] |$runtime:ident| $cbody:block)*]
        [$($(#[$sdoc:meta])* $sname:ident($($sarg:ident: $sty:ty),*) |$b:ident| $sbody:expr;)*]
    ) => {
        $(
            #[allow(dead_code, reason = "compiled, never called: the check is that it compiles")]
            fn $sname(builder: $builder, $($sarg: $sty),*) -> $builder {
                builder.$sname($($sarg),*)
            }
        )*
        $(
            $crate::client_builder_methods!(@check_function $builder, $krate; [$($fname)?]
                $cname($($carg: $cty),*));
        )*
        /// The names of the settings `$builder` was checked for, in order.
        pub const SETTINGS: &[&str] = &[$(stringify!($sname)),*];
        /// The constructor functions `$krate` was checked for, in order.
        pub const CONSTRUCTORS: &[&str] = &[$($(stringify!($fname),)?)*];
    };
    (@check_function $builder:ty, $krate:ident; [] $($constructor:tt)*) => {};
    (@check_function $builder:ty, $krate:ident; [$fname:ident]
        $cname:ident($($carg:ident: $cty:ty),*)
    ) => {
        #[allow(dead_code, reason = "compiled, never called: the check is that it compiles")]
        fn $fname($($carg: $cty),*) -> $builder {
            $krate::$fname($($carg),*)
        }
    };
}
