//! The checked-in protobuf code (`src/pubsub/proto/eventbus.v1.rs`) is exactly what the pure-Rust
//! toolchain (protox + prost-build, no system `protoc`) generates from `proto/pubsub_api.proto`.
//!
//! To regenerate after editing the `.proto`:
//! `SFSTREAM_REGENERATE_PROTO=1 cargo test -p sfstream-core --test pubsub_proto_generated`

use std::path::PathBuf;

const GENERATED: &str = "src/pubsub/proto/eventbus.v1.rs";

fn generate() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fds = protox::Compiler::new([root.join("proto")])
        .expect("a protox compiler")
        .include_source_info(true)
        .open_file("pubsub_api.proto")
        .expect("proto/pubsub_api.proto compiles")
        .file_descriptor_set();
    let requests = fds
        .file
        .into_iter()
        .map(|file| {
            let package = file.package().to_owned();
            (
                prost_build::Module::from_protobuf_package_name(&package),
                file,
            )
        })
        .collect();
    let mut config = prost_build::Config::new();
    // Every `bytes` field as `bytes::Bytes`: decoding a FetchResponse from a `Bytes` buffer then
    // slices payloads and replay ids out of it instead of copying them.
    config.bytes(["."]);
    let mut files = config
        .generate(requests)
        .expect("prost-build generates code");
    assert_eq!(files.len(), 1, "one package, one generated module");
    files
        .remove(&prost_build::Module::from_protobuf_package_name(
            "eventbus.v1",
        ))
        .expect("the eventbus.v1 module")
}

#[test]
fn checked_in_code_matches_the_proto() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(GENERATED);
    let fresh = generate();
    if std::env::var_os("SFSTREAM_REGENERATE_PROTO").is_some() {
        std::fs::write(&path, &fresh).expect("write the generated code");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "{GENERATED} is not what proto/pubsub_api.proto generates. Regenerate it with \
         `SFSTREAM_REGENERATE_PROTO=1 cargo test -p sfstream-core --test pubsub_proto_generated` \
         and commit the result."
    );
}
