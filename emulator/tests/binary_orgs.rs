//! `sfstream-emulator --orgs N` serves N orgs and lists them, like `sfstream emulator --orgs N`.

mod common;

use tokio::process::Command;

#[tokio::test]
async fn the_binary_serves_and_lists_several_orgs() {
    let (mut child, printed) = common::start_binary(&["--port", "0", "--orgs", "3"]).await;
    let base = printed[0]
        .strip_prefix("sfstream-emulator listening on ")
        .expect("first line names the URL")
        .to_owned();
    let orgs: Vec<&String> = printed
        .iter()
        .filter(|l| l.trim_start().starts_with("00DEM"))
        .collect();
    assert_eq!(orgs.len(), 3, "one line per org: {printed:#?}");
    assert!(
        orgs[2].contains("00DEM0000000003") && orgs[2].contains("user3@example.com"),
        "{}",
        orgs[2]
    );
    // The third org's own credentials are accepted.
    let mut form = common::PASSWORD_FORM;
    form[1] = ("client_id", "emulator-client-id-3");
    form[3] = ("username", "user3@example.com");
    let reply = common::token_request(&base, &form).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let token = reply.json["access_token"].as_str().expect("a token");
    assert!(token.starts_with("00DEM0000000003!"), "{token}");
    child.kill().await.expect("kill");
}

#[tokio::test]
async fn an_org_count_out_of_range_is_refused_with_the_range() {
    for bad in ["0", "1001", "many"] {
        let out = Command::new(env!("CARGO_BIN_EXE_sfstream-emulator"))
            .args(["--orgs", bad])
            .output()
            .await
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "--orgs {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--orgs") && err.contains("1 to 1000"), "{err}");
    }
}
