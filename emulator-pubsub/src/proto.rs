//! The `eventbus.v1` messages, the gRPC server trait and a client, generated at build time from
//! `proto/pubsub_api.proto`. The client is what the emulator's own tests use; it is exported so
//! that Rust users can drive the emulator without writing one.
#![allow(missing_docs, reason = "generated code")]
#![allow(unreachable_pub, reason = "generated code")]
#![allow(clippy::all, clippy::pedantic, reason = "generated code")]
#![allow(clippy::allow_attributes_without_reason, reason = "generated code")]

tonic::include_proto!("eventbus.v1");
