//! The `sfstream-emulator` binary prints what a client needs and serves it.

mod common;

use tokio::process::Command;

#[tokio::test]
async fn the_binary_prints_its_settings_and_serves() {
    let (mut child, printed) = common::start_binary(&["--port", "0", "--seed", "3"]).await;
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
