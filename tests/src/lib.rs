//! # sfstream-tests
//!
//! The conformance suite: every behaviour a user relies on, written once as functions over a
//! [`Flavor`] (a runtime under test), and run against each runtime by a small test file under
//! `tests/` that names its flavor. Every case talks real HTTP over loopback to a
//! [`sfstream_emulator`] instance with short timeouts, so the suite takes seconds, not minutes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod broken;
pub mod cases;
pub mod chaos;
pub mod extension;
mod harness;
pub mod interop;
pub mod limits;
pub mod loopback;
pub mod pubsub;
pub mod recording;
pub mod session_events;

pub use harness::{
    Emu, Flavor, SessionEventsUnderTest, Setup, TestClient, fast, scratch_dir, three_events_through,
};

/// Every case of the suite in one namespace, for [`conformance_suite!`].
#[doc(hidden)]
pub mod suite {
    pub use crate::broken::*;
    pub use crate::cases::*;
    pub use crate::chaos::chaos_fast;
    pub use crate::extension::*;
    pub use crate::limits::*;
    pub use crate::recording::*;
    pub use crate::session_events::*;
}

/// Expands to one `#[test]` per conformance case, each calling the case with `$flavor`
/// (an expression building a [`Flavor`]). A runtime's test file is this one line plus its flavor.
#[macro_export]
macro_rules! conformance_suite {
    ($flavor:expr) => {
        $crate::conformance_suite!(@cases $flavor;
            happy_path_four_kinds,
            resume_after_restart_with_file_store,
            survives_http_5xx,
            survives_connection_reset,
            survives_malformed_json,
            survives_delay_past_deadline,
            survives_server_too_busy,
            survives_session_drop_with_handshake_advice,
            survives_session_drop_with_none_advice,
            survives_server_disconnect,
            survives_server_disconnect_authentication_invalid,
            survives_reroute,
            reauth_after_token_revoke,
            invalid_replay_id_falls_back,
            backoff_under_handshake_denial,
            slow_consumer_is_bounded_and_lossless,
            memory_bound_refetches_without_loss,
            manual_commit_stores_only_committed,
            close_during_long_poll_is_prompt,
            chaos_fast,
            replay_all_through_a_small_queue,
            large_responses_arrive_whole,
            long_polls_overlap_decoding,
            no_loss_when_a_response_is_cut,
            no_loss_when_a_response_is_reset,
            no_loss_when_a_response_is_held_past_the_deadline,
            no_loss_through_repeated_broken_responses,
            token_endpoint_5xx_is_an_outage,
            token_endpoint_429_is_an_outage,
            token_endpoint_silence_is_an_outage,
            largest_durations_neither_panic_nor_hang,
            session_events_report_a_lost_session_and_the_reconnect,
            session_events_report_a_replay_fallback_to_new_as_a_gap,
            session_events_report_a_refetch_after_a_broken_long_poll,
            stats_show_each_channels_ids_and_the_last_event,
            extension_fields_reach_the_server,
            recorded_session_plays_with_the_same_messages,
        );
    };
    (@cases $flavor:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::suite::$case(&$flavor);
            }
        )*
    };
}

/// Expands to one `#[test]` per case of the Pub/Sub flavour, each calling the case with
/// `$flavor` (an expression building a [`pubsub::PubSubFlavor`]).
#[macro_export]
macro_rules! pubsub_conformance_suite {
    ($flavor:expr) => {
        $crate::pubsub_conformance_suite!(@cases $flavor;
            auth::pubsub_reauth_on_unauthenticated,
            auth::pubsub_refused_login_closes_by_failure,
            delivery::pubsub_events_arrive_in_order_and_are_stored,
            delivery::pubsub_change_event_field_lists_are_names,
            flow::pubsub_credit_never_exceeds_100,
            flow::pubsub_credit_never_exceeds_max_pending,
            flow::pubsub_credit_counts_uncommitted_events,
            flow::pubsub_idle_close_reopens_without_loss,
            publish::pubsub_publish_results_per_event,
            publish::pubsub_publish_to_a_missing_topic_fails,
            replay::pubsub_rejected_replay_id_falls_back_once,
            replay::pubsub_rejected_replay_id_without_fallback_fails,
            replay::pubsub_keepalive_position_stored_only_when_nothing_is_pending,
            resume::pubsub_resume_after_unavailable,
            resume::pubsub_cut_after_delivery_loses_nothing,
            resume::pubsub_watchdog_reopens_a_silent_stream,
        );
    };
    (@cases $flavor:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::pubsub::$module::$case(&$flavor);
            }
        )*
    };
}
