//! Generates the emulator's own protobuf messages, gRPC server and test client from
//! `proto/pubsub_api.proto` with a pure-Rust parser (protox), so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/pubsub_api.proto");
    let descriptors = protox::compile(["pubsub_api.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .emit_rerun_if_changed(false)
        .bytes(".")
        .compile_fds(descriptors)?;
    Ok(())
}
