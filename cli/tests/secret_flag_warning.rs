//! A secret given as a flag value shows in the process list (`ps`, `/proc/PID/cmdline`): the run
//! works, and a warning says so and names the safer settings, without printing the secret. The
//! environment and the file flags raise no warning.

mod common;

use std::time::Duration;

use common::{Emu, EmuCli, json_lines, run, sfstream, text};

const ORDERS: &str = "/event/Order__e";

#[test]
fn secrets_as_flag_values_are_warned_about_without_showing_them() {
    let emu = Emu::start();
    emu.publish(ORDERS, 1);
    let c = emu.control.credentials();
    let password = format!("{}{}", c.password, c.security_token);
    for verbosity in [None, Some("-v")] {
        let mut cmd = sfstream();
        cmd.arg("listen")
            .envs(
                emu.env()
                    .into_iter()
                    .filter(|(k, _)| !["SF_PASSWORD", "SF_CLIENT_SECRET"].contains(k)),
            )
            .args(["--password", &password, "--client-secret", &c.client_secret])
            .args(["--replay", "all", "--count", "1", ORDERS])
            .args(verbosity);
        let out = run(&mut cmd, Duration::from_secs(20));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(json_lines(&out.stdout).len(), 1);
        for (flag, env, file) in [
            ("--password", "SF_PASSWORD", "--password-file"),
            (
                "--client-secret",
                "SF_CLIENT_SECRET",
                "--client-secret-file",
            ),
        ] {
            let warning = err
                .lines()
                .find(|l| l.contains(&format!("warning: {flag} was given on the command line")))
                .unwrap_or_else(|| panic!("no warning for {flag}:\n{err}"));
            assert!(warning.contains(env) && warning.contains(file), "{warning}");
        }
        assert!(!err.contains(&password), "the password leaked:\n{err}");
        assert!(!err.contains(&c.client_secret), "the secret leaked:\n{err}");
    }
}

#[test]
fn secrets_from_the_environment_raise_no_warning() {
    let emu = Emu::start();
    emu.publish(ORDERS, 1);
    let out = run(
        emu.listen()
            .args(["--replay", "all", "--count", "1", ORDERS]),
        Duration::from_secs(20),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("command line"), "{err}");
}
