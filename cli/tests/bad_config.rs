//! Bad flags and missing or unusable settings: exit 2 with one message that names the setting
//! (environment variable and flag) and never a secret; no panic, no backtrace.

mod common;

use std::time::Duration;

use common::{assert_clean_failure, run, scratch_dir, sfstream, text};

const LIMIT: Duration = Duration::from_secs(20);

/// Password-flow settings that would work if a server were there.
fn with_password(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("SF_LOGIN_URL", "http://127.0.0.1:9")
        .env("SF_CLIENT_ID", "id")
        .env("SF_CLIENT_SECRET", "client-secret-value")
        .env("SF_USERNAME", "u@example.com")
        .env("SF_PASSWORD", "password-value")
}

fn one_error_line(err: &str) {
    assert_eq!(
        err.matches("sfstream: error:").count(),
        1,
        "one message:\n{err}"
    );
}

#[test]
fn unknown_flag_and_missing_channel_are_usage_errors() {
    let out = run(sfstream().args(["listen", "--bogus", "/event/X__e"]), LIMIT);
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--bogus"), "{err}");
    let out = run(sfstream().args(["listen"]), LIMIT);
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("CHANNEL"), "{err}");
    let out = run(
        sfstream().args(["listen", "--replay", "soon", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("--replay") && err.contains("new, all"),
        "{err}"
    );
    let out = run(
        sfstream().args(["listen", "--duration", "later", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--duration"), "{err}");
    let out = run(sfstream().args(["frobnicate"]), LIMIT);
    assert_clean_failure(&out, 2);
}

#[test]
fn no_credentials_names_the_settings() {
    let out = run(sfstream().args(["listen", "/event/X__e"]), LIMIT);
    let err = assert_clean_failure(&out, 2);
    one_error_line(&err);
    assert!(
        err.contains("SF_CLIENT_ID") && err.contains("SF_ACCESS_TOKEN"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_piece_names_env_var_and_flag_without_echoing_secrets() {
    let out = run(
        with_password(&mut sfstream())
            .env_remove("SF_PASSWORD")
            .args(["listen", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    one_error_line(&err);
    assert!(
        err.contains("SF_PASSWORD") && err.contains("--password"),
        "{err}"
    );
    assert!(!err.contains("client-secret-value"), "{err}");

    let out = run(
        sfstream()
            .env("SF_ACCESS_TOKEN", "token-value")
            .args(["listen", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("SF_INSTANCE_URL") && err.contains("--instance-url"),
        "{err}"
    );
    assert!(!err.contains("token-value"), "{err}");
}

#[test]
fn flags_win_over_the_environment() {
    // The environment's login URL is unsafe; the flag's replaces it, so the next problem shows.
    let out = run(
        with_password(&mut sfstream())
            .env("SF_LOGIN_URL", "http://example.com")
            .args(["listen", "--login-url", "https://acme.my.salesforce.com"])
            .args(["--api-version", "12.0", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--api-version"), "{err}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let out = run(
        with_password(&mut sfstream())
            .env("SF_LOGIN_URL", "http://login.example.com")
            .args(["listen", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    one_error_line(&err);
    assert!(
        err.contains("SF_LOGIN_URL") && err.contains("plain http"),
        "{err}"
    );
}

#[test]
fn ambiguous_or_malformed_settings() {
    let out = run(
        with_password(&mut sfstream())
            .env("SF_SANDBOX", "true")
            .args(["listen", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("SF_SANDBOX") && err.contains("SF_LOGIN_URL"),
        "{err}"
    );
    let out = run(
        with_password(&mut sfstream())
            .env_remove("SF_LOGIN_URL")
            .env("SF_SANDBOX", "maybe")
            .args(["listen", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("SF_SANDBOX") && err.contains("true or false"),
        "{err}"
    );
    let out = run(
        with_password(&mut sfstream()).args(["listen", "Order__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("must start with '/'"), "{err}");
}

#[test]
fn unusable_files_name_the_file() {
    let dir = scratch_dir("bad-config");
    let key = dir.join("key.pem");
    std::fs::write(
        &key,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let out = run(
        sfstream()
            .env("SF_JWT_KEY_FILE", &key)
            .env("SF_CLIENT_ID", "id")
            .env("SF_USERNAME", "u@example.com")
            .args(["listen", "/event/X__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("key.pem") && err.contains("SF_JWT_KEY_FILE"),
        "{err}"
    );
    assert!(
        !err.contains("AAAA"),
        "the key's content is never quoted:\n{err}"
    );

    let missing = dir.join("no-such-dir").join("replay.json");
    let out = run(
        with_password(&mut sfstream())
            .args(["listen", "--store"])
            .arg(&missing)
            .arg("/event/X__e"),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(
        err.contains("--store") && err.contains("no-such-dir"),
        "{err}"
    );

    let corrupt = dir.join("replay.json");
    std::fs::write(&corrupt, "{ not json").expect("write");
    let out = run(
        with_password(&mut sfstream())
            .args(["listen", "--store"])
            .arg(&corrupt)
            .arg("/event/X__e"),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("corrupt"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_documents_exit_codes_and_hides_secret_values() {
    let out = run(sfstream().arg("--help"), LIMIT);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(
        help.contains("Exit codes") && help.contains("authentication refused"),
        "{help}"
    );
    let out = run(
        with_password(&mut sfstream())
            .env("SF_ACCESS_TOKEN", "token-value")
            .env("SF_REFRESH_TOKEN", "refresh-value")
            .args(["listen", "--help"]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(
        help.contains("SF_PASSWORD") && help.contains("SF_CLIENT_SECRET"),
        "{help}"
    );
    for secret in [
        "password-value",
        "client-secret-value",
        "token-value",
        "refresh-value",
    ] {
        assert!(!help.contains(secret), "{secret} shown in --help:\n{help}");
    }
    assert!(help.contains("Exit codes"), "{help}");
}
