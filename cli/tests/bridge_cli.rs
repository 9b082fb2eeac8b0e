//! The `sfstream bridge` command line: `check` reads the README's example configuration,
//! configuration mistakes exit 2 naming the key, and `status` against no server exits 5.

use std::process::Command;

fn sfstream() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sfstream"))
}

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../bridge/examples/emulator.toml"
);

#[test]
fn the_example_configuration_checks() {
    let out = sfstream()
        .args(["bridge", "check", "--config", EXAMPLE])
        .env("SF_CLIENT_SECRET", "emulator-client-secret")
        .env("SF_PASSWORD", "passwordTOKEN")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("2 connection(s), 2 channel(s), stream SALESFORCE"),
        "{stdout}"
    );
    assert!(!stdout.contains("passwordTOKEN"));
}

#[test]
fn a_missing_secret_exits_2_naming_the_variable() {
    let out = sfstream()
        .args(["bridge", "check", "--config", EXAMPLE])
        .env_remove("SF_CLIENT_SECRET")
        .env("SF_PASSWORD", "passwordTOKEN")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("connection[0].client_secret_env") && stderr.contains("SF_CLIENT_SECRET"),
        "{stderr}"
    );
}

#[test]
fn an_inline_secret_exits_2() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bridge.toml");
    let text = std::fs::read_to_string(EXAMPLE).expect("example").replace(
        "password_env = \"SF_PASSWORD\"",
        "password = \"passwordTOKEN\"",
    );
    std::fs::write(&path, text).expect("written");
    let out = sfstream()
        .args(["bridge", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("connection[0].password") && stderr.contains("password_env"),
        "{stderr}"
    );
    assert!(!stderr.contains("passwordTOKEN"), "{stderr}");
}

#[test]
fn status_without_a_server_exits_5() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bridge.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let text = std::fs::read_to_string(EXAMPLE)
        .expect("example")
        .replace("nats://127.0.0.1:4223", &format!("nats://127.0.0.1:{port}"))
        .replace("[nats]", "[nats]\nconnect_timeout = \"2s\"");
    std::fs::write(&path, text).expect("written");
    let out = sfstream()
        .args(["bridge", "status", "--config"])
        .arg(&path)
        .env("SF_CLIENT_SECRET", "x")
        .env("SF_PASSWORD", "y")
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("127.0.0.1:{port}")));
}
