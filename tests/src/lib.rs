//! # sfstream-tests
//!
//! The conformance suite: every behaviour a user relies on, written once as functions over a
//! [`Flavor`] (a runtime under test), and run against each runtime by a small test file under
//! `tests/` that names its flavor. Every case talks real HTTP over loopback to a
//! [`sfstream_emulator`] instance with short timeouts, so the suite takes seconds, not minutes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cases;
mod harness;

pub use harness::{Emu, Flavor, Setup, TestClient, scratch_dir};
