//! sfstream-emulator (work in progress).
#![forbid(unsafe_code)]
