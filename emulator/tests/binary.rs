//! The `sfstream-emulator` binary prints what a client needs and serves it.

mod common;

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn the_binary_prints_its_settings_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfstream-emulator"))
        .args(["--port", "0", "--seed", "3"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read") {
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let first = &printed[0];
    let base = first
        .strip_prefix("sfstream-emulator listening on ")
        .expect("first line names the URL")
        .to_owned();
    assert!(base.starts_with("http://localhost:"), "{base}");
    let text = printed.join("\n");
    for needle in [
        "client_id:     emulator-client-id",
        "client_secret: emulator-client-secret",
        "username:      user@example.com",
        "password:      passwordTOKEN",
        "access_token:  emulator-access-token",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    let reply = common::token_request(&base, &common::PASSWORD_FORM).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["instance_url"], base.as_str());
    child.kill().await.expect("kill");

    let bad = Command::new(env!("CARGO_BIN_EXE_sfstream-emulator"))
        .arg("--bogus")
        .output()
        .await
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
}
