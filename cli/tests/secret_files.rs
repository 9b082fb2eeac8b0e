//! Secrets from files, so that they do not show in the process list: `--password-file`,
//! `--client-secret-file`, `--refresh-token-file`, `--access-token-file` (and their `SF_*_FILE`
//! variables), `-` for standard input. A flag beats the environment; both forms at one level are
//! an error; no message contains a secret.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Emu, EmuCli, assert_clean_failure, run, scratch_dir, sfstream, text, wait_output};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);

/// The emulator's settings without the secrets named, plus one published event to print.
fn without(emu: &Emu, secrets: &[&str]) -> Command {
    emu.publish(ORDERS, 1);
    let mut cmd = sfstream();
    cmd.arg("listen")
        .envs(emu.env().into_iter().filter(|(k, _)| !secrets.contains(k)))
        .args(["--replay", "all", "--count", "1", ORDERS]);
    cmd
}

fn prints_the_event(cmd: &mut Command) -> String {
    let out = run(cmd, LIMIT);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(common::json_lines(&out.stdout).len(), 1, "{err}");
    err
}

fn password(emu: &Emu) -> String {
    let c = emu.control.credentials();
    format!("{}{}", c.password, c.security_token)
}

#[test]
fn password_and_client_secret_files_work_and_a_trailing_newline_is_not_part_of_them() {
    let emu = Emu::start();
    let dir = scratch_dir("secret-files");
    let pw = dir.join("password");
    std::fs::write(&pw, format!("{}\n", password(&emu))).expect("write");
    let cs = dir.join("client-secret");
    std::fs::write(
        &cs,
        format!("{}\r\n", emu.control.credentials().client_secret),
    )
    .expect("write");
    let err = prints_the_event(
        without(&emu, &["SF_PASSWORD", "SF_CLIENT_SECRET"])
            .arg("--password-file")
            .arg(&pw)
            .env("SF_CLIENT_SECRET_FILE", &cs),
    );
    assert!(!err.contains("warning"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_password_from_standard_input() {
    let emu = Emu::start();
    let mut child = without(&emu, &["SF_PASSWORD"])
        .args(["--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{}", password(&emu)).expect("write the password");
    drop(stdin);
    let out = wait_output(child, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(common::json_lines(&out.stdout).len(), 1);
}

#[test]
fn refresh_token_and_access_token_files_work() {
    let emu = Emu::start();
    let dir = scratch_dir("token-files");
    let c = emu.control.credentials();
    let refresh = dir.join("refresh");
    std::fs::write(&refresh, &c.refresh_token).expect("write");
    prints_the_event(
        without(&emu, &["SF_PASSWORD", "SF_USERNAME"])
            .arg("--refresh-token-file")
            .arg(&refresh),
    );
    let access = dir.join("access");
    std::fs::write(&access, emu.control.issue_token()).expect("write");
    emu.publish(ORDERS, 1);
    prints_the_event(
        sfstream()
            .env("SF_INSTANCE_URL", &emu.base_url)
            .env("SF_ACCESS_TOKEN_FILE", &access)
            .args(["listen", "--replay", "all", "--count", "1", ORDERS]),
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_flag_beats_the_environment() {
    let emu = Emu::start();
    let dir = scratch_dir("secret-precedence");
    let pw = dir.join("password");
    std::fs::write(&pw, password(&emu)).expect("write");
    // A wrong password in the environment, the right one in the file given as a flag.
    prints_the_event(
        without(&emu, &["SF_PASSWORD"])
            .env("SF_PASSWORD", "wrong-password-from-env")
            .arg("--password-file")
            .arg(&pw),
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mistakes_are_exit_2_and_never_show_the_secret() {
    let emu = Emu::start();
    let dir = scratch_dir("secret-mistakes");
    let pw = dir.join("password");
    std::fs::write(&pw, "file-secret-value").expect("write");

    let out = run(
        without(&emu, &["SF_PASSWORD"])
            .args(["--password", "flag-secret-value", "--password-file"])
            .arg(&pw),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--password and --password-file"), "{err}");
    assert!(!err.contains("secret-value"), "{err}");

    let out = run(
        without(&emu, &["SF_PASSWORD"])
            .env("SF_PASSWORD", "env-secret-value")
            .env("SF_PASSWORD_FILE", &pw),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("SF_PASSWORD and SF_PASSWORD_FILE"), "{err}");
    assert!(!err.contains("secret-value"), "{err}");

    let missing = dir.join("no-such-file");
    let out = run(
        without(&emu, &["SF_PASSWORD"])
            .arg("--password-file")
            .arg(&missing),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains(&*missing.to_string_lossy()), "{err}");
    assert!(err.contains("SF_PASSWORD_FILE or --password-file"), "{err}");

    let empty = dir.join("empty");
    std::fs::write(&empty, "\n").expect("write");
    let out = run(
        without(&emu, &["SF_PASSWORD"])
            .arg("--password-file")
            .arg(&empty),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("is empty"), "{err}");

    let out = run(
        without(&emu, &["SF_PASSWORD", "SF_CLIENT_SECRET"]).args([
            "--password-file",
            "-",
            "--client-secret-file",
            "-",
        ]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("standard input"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
