//! sfstream-core: the sans-IO protocol core (work in progress).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod secret;
pub use secret::Secret;
